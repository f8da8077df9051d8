// Who owns a namespace and where it listens: the ordered indexer list of the configuration,
// seahash(namespace) % len(nodes) (DESIGN.md §6), and each indexer's base URL from
// indexer_cluster.addresses or address_template.
import type { SiltConfig } from '../config/index.ts';
import { ownerIndex } from './seahash.ts';

export interface Indexer {
  id: string;
  /** Base URL without a trailing slash, e.g. "http://indexer-2:3000". */
  url: string;
}

export class Topology {
  readonly indexers: readonly Indexer[];

  constructor(readonly selfId: string, readonly role: 'indexer' | 'query', indexers: Indexer[]) {
    this.indexers = indexers;
  }

  static fromConfig(config: SiltConfig): Topology {
    const { node_id, role, indexer_cluster } = config.distributed;
    const { nodes, addresses, address_template } = indexer_cluster;
    const indexers = nodes.map((id, i) => ({
      id,
      url: (addresses.length > 0
        ? addresses[i]!
        : address_template.replaceAll('{node_id}', id).replaceAll('{port}', String(config.server.port))).replace(/\/+$/, ''),
    }));
    return new Topology(node_id, role, indexers);
  }

  ownerOf(namespace: string): Indexer {
    return this.indexers[ownerIndex(namespace, this.indexers.length)]!;
  }

  owns(namespace: string): boolean {
    return this.role === 'indexer' && this.ownerOf(namespace).id === this.selfId;
  }
}
