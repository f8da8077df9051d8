// The storage layer's entry point: createObjectStore turns the `storage` section of the
// configuration into a ready store, and everything the rest of Silt may use is exported here.

import { LocalFsObjectStore } from './local-fs.ts';
import { CountingObjectStore } from './metrics.ts';
import type { ObjectStore } from './object-store.ts';
import { withPrefix } from './prefix.ts';
import { withRetry, type RetryOptions } from './retry.ts';
import { S3ObjectStore, type S3ObjectStoreOptions } from './s3.ts';

import type { SiltConfig } from '../config/index.ts';

export { StorageError, isStorageError, type StorageErrorKind, type StorageOperation } from './errors.ts';
export {
  listAll, compareKeys, MAX_LIST_KEYS,
  type ByteRange, type GetResult, type ListOptions, type ListPage, type ObjectInfo, type ObjectStore,
  type GetOptions, type PutCondition,
} from './object-store.ts';
export { MemoryObjectStore } from './memory.ts';
export { LocalFsObjectStore } from './local-fs.ts';
export { S3ObjectStore, type S3ObjectStoreOptions } from './s3.ts';
export { withRetry, type RetryOptions } from './retry.ts';
export { withPrefix } from './prefix.ts';
export { CountingObjectStore, type RequestCounts } from './metrics.ts';
export { CachedObjectStore, type ByteCache } from './cached.ts';
export { FaultyObjectStore, type Fault, type FaultOptions, type FaultRule, type Mutation } from './fault.ts';

export type StorageConfig = SiltConfig['storage'];

export interface CreateObjectStoreOverrides {
  /** S3 credentials; absent: the SDK's default chain (AWS_* environment, profile, instance role). */
  credentials?: S3ObjectStoreOptions['credentials'];
  /** Backoff for S3 retries; defaults 50 ms base, 2 s cap. */
  retry?: Partial<Omit<RetryOptions, 'maxRetries'>>;
}

/**
 * local: LocalFsObjectStore at root_path (the root is the deployment prefix; single process).
 * s3: S3ObjectStore → withRetry(max_retries) → withPrefix(wal_prefix, when non-empty).
 * Either way the result counts requests (logical operations, a retried call counts once) and
 * close() releases the S3 client's connections.
 */
export function createObjectStore(cfg: StorageConfig, overrides: CreateObjectStoreOverrides = {}): CountingObjectStore {
  if (cfg.backend === 'local') {
    return new CountingObjectStore(new LocalFsObjectStore(cfg.local.root_path));
  }
  const s3 = new S3ObjectStore({
    bucket: cfg.s3.bucket,
    region: cfg.s3.region,
    endpoint: cfg.s3.endpoint,
    requestTimeoutMs: cfg.s3.request_timeout_ms,
    partSizeBytes: cfg.s3.multipart_part_size,
    ...(overrides.credentials ? { credentials: overrides.credentials } : {}),
  });
  let store: ObjectStore = withRetry(s3, {
    baseDelayMs: 50,
    maxDelayMs: 2000,
    ...overrides.retry,
    maxRetries: cfg.s3.max_retries,
  });
  store = withPrefix(store, cfg.s3.wal_prefix);
  return new CountingObjectStore(store, () => s3.close());
}
