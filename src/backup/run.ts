// `silt backup` / `silt restore` on storage: the source or destination the node's own storage
// configuration names (read as `silt serve` reads it: --config PATH, then SILT_* variables), the
// other one a local directory or s3://bucket/prefix (same endpoint, region and credentials as the
// configured S3 storage). Loaded by cli/backup.ts only when one of those commands runs.
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadConfig, type SiltConfig } from '../config/index.ts';
import { createObjectStore, LocalFsObjectStore } from '../storage/index.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { listNamespaces } from '../storage/namespace-list.ts';
import { mirrorNamespaces, MirrorError, type MirrorProgress, type MirrorResult } from './mirror.ts';

export { MirrorError } from './mirror.ts';

export interface RunOptions {
  config?: string;
  /** The backup location: a directory, or s3://bucket/prefix. */
  location: string;
  direction: 'backup' | 'restore';
  namespaces?: string[];
  onProgress?: (p: MirrorProgress) => void;
}

function configured(path: string | undefined): SiltConfig {
  return loadConfig({ argv: path ? ['--config', path] : [], env: process.env, cwd: process.cwd() });
}

async function openLocation(location: string, config: SiltConfig, create: boolean): Promise<{ store: ObjectStore; close(): void }> {
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(location);
  if (s3) {
    const store = createObjectStore({ ...config.storage, backend: 's3', s3: { ...config.storage.s3, bucket: s3[1]!, wal_prefix: s3[2]!.replace(/\/+$/, '') } });
    return { store, close: () => store.close?.() };
  }
  if (/^[a-z0-9]+:\/\//i.test(location)) throw new MirrorError(`${location}: expected a directory or s3://bucket/prefix`);
  const root = resolve(location);
  if (create) await mkdir(root, { recursive: true });
  return { store: new LocalFsObjectStore(root), close: () => {} };
}

export async function runMirror(opts: RunOptions): Promise<MirrorResult> {
  const config = configured(opts.config);
  const storage = config.storage.backend === 'local'
    ? { ...config.storage, local: { root_path: resolve(config.storage.local.root_path) } }
    : config.storage;
  if (storage.backend === 'local') await mkdir(storage.local.root_path, { recursive: true });
  const node = createObjectStore(storage);
  const other = await openLocation(opts.location, config, opts.direction === 'backup');
  try {
    const [from, to] = opts.direction === 'backup' ? [node, other.store] : [other.store, node];
    if (opts.direction === 'restore' && (await listNamespaces(from)).length === 0) {
      throw new MirrorError(`${opts.location} holds no backup (no namespaces listed)`);
    }
    return await mirrorNamespaces(from, to, {
      ...(opts.namespaces && opts.namespaces.length > 0 ? { namespaces: opts.namespaces } : {}),
      refuseExisting: opts.direction === 'restore',
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
  } finally {
    other.close();
    node.close?.();
  }
}
