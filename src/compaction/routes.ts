// Compaction on demand: one round of the merge policy (it also runs in the background).
import type { FastifyInstance } from 'fastify';
import { checkNamespaceName } from '../schema/parse.ts';
import type { NamespaceCatalog } from '../indexer/catalog.ts';
import { storageFailure } from '../namespace/failures.ts';
import { compactOnce, type CompactionOptions } from './compactor.ts';

export function registerCompactionRoutes(app: FastifyInstance, deps: { catalog: NamespaceCatalog; compaction: CompactionOptions }): void {
  app.post<{ Params: { ns: string } }>('/v1/namespaces/:ns/compact', async (req) => {
    checkNamespaceName(req.params.ns);
    const ns = await deps.catalog.get(req.params.ns);
    const merges = await compactOnce(ns, deps.compaction).catch((e: unknown) => { throw storageFailure(e, ns.name); });
    return { namespace: ns.name, merges, ...ns.stats() };
  });
}
