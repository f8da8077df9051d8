// The one storage interface (Quickwit's `Storage`, reduced to what Silt needs). Local, in-memory
// and S3 backends implement it; retry, prefix and request counting are wrappers around it.
// Semantics every implementation must share (test/storage/conformance.test.ts checks them):
// - keys are non-empty strings; list returns them in ascending UTF-8 byte order, as S3 does;
// - an etag is opaque and is only ever compared for equality or passed back in `ifMatch`. It
//   changes whenever the bytes change; on S3 it is the content's MD5, so rewriting identical
//   bytes keeps it (harmless for compare-and-swap: the state is the same), while the local and
//   memory backends give every write a new one;
// - a put is atomic: readers see the old object or the new one, never a mixture;
// - byte ranges are clamped to the object, as HTTP clamps them (see ByteRange).

import { StorageError, type StorageOperation } from './errors.ts';

/**
 * `{offset, length?}`: bytes [offset, offset+length), or to the end without a length.
 * `{suffix}`: the last `suffix` bytes. A range reaching past the end is cut at the end, and an
 * offset at or past the end yields an empty body (not an error), so a caller can read "up to N
 * bytes" without knowing the size first.
 */
export type ByteRange = { offset: number; length?: number } | { suffix: number };

export interface ObjectInfo {
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
}

export interface GetResult {
  body: Buffer;
  etag: string;
  /** Total object size, not the size of the range. */
  size: number;
}

export interface GetOptions {
  /**
   * Which incarnation of the key's bytes the caller means: the object's etag from a listing, or
   * any token the caller holds that changes whenever the key may have been written again with
   * other bytes (a namespace deleted and created again reuses its WAL and manifest-version keys;
   * for a version, the pointer's etag that named it). Backends ignore it; a cache in front of
   * them (storage/cached.ts) may answer from a copy made under the same token.
   */
  generation?: string;
}

export type PutCondition = { ifNoneMatch: '*' } | { ifMatch: string };

export interface ListOptions {
  /** List keys strictly after this one. Ignored when `continuationToken` is given. */
  startAfter?: string;
  /** Page size, 1..1000 (S3's cap); default 1000. */
  maxKeys?: number;
  /** `nextToken` of the previous page; opaque, only valid for the same store and prefix. */
  continuationToken?: string;
}

export interface ListPage {
  objects: ObjectInfo[];
  /** Present when more keys may follow. */
  nextToken?: string;
}

export interface ObjectStore {
  /** Throws StorageError kind 'not_found' when absent. Wrappers pass `options` on. */
  get(key: string, range?: ByteRange, options?: GetOptions): Promise<GetResult>;
  head(key: string): Promise<ObjectInfo | null>;
  /**
   * create-if-absent ({ifNoneMatch:'*'}) or compare-and-swap ({ifMatch: etag}); a failed
   * condition throws kind 'precondition_failed' (also for ifMatch on a missing key).
   */
  put(key: string, body: Uint8Array, condition?: PutCondition): Promise<{ etag: string }>;
  /** Keys in ascending byte order. */
  list(prefix: string, options?: ListOptions): Promise<ListPage>;
  /** Idempotent: deleting a missing key succeeds. */
  delete(key: string): Promise<void>;
  /**
   * For /ready: throws a StorageError when the store cannot take writes although its reads may
   * answer (local-fs: a root deleted or not writable, where a LIST of a missing directory succeeds).
   * Absent: a successful read is proof enough (S3).
   */
  checkWritable?(): Promise<void>;
}

/** Every object under `prefix` (after `startAfter`), in key order, one page at a time. */
export async function* listAll(
  store: ObjectStore,
  prefix: string,
  startAfter?: string,
): AsyncGenerator<ObjectInfo> {
  let page = await store.list(prefix, startAfter === undefined ? {} : { startAfter });
  for (;;) {
    yield* page.objects;
    if (page.nextToken === undefined) return;
    page = await store.list(prefix, { continuationToken: page.nextToken });
  }
}

export const MAX_LIST_KEYS = 1000;

/** Ascending UTF-8 byte order (JS `<` compares UTF-16 code units, which differs above U+FFFF). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Validates `maxKeys` and applies the default and S3's cap. */
export function pageSize(prefix: string, maxKeys: number | undefined): number {
  if (maxKeys === undefined) return MAX_LIST_KEYS;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) {
    throw new StorageError('permanent', 'list', prefix, `maxKeys must be a positive integer, got ${maxKeys}`);
  }
  return Math.min(maxKeys, MAX_LIST_KEYS);
}

export function assertKey(operation: StorageOperation, key: string): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw new StorageError('permanent', operation, String(key), 'object keys must be non-empty strings');
  }
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/** Rejects negative or fractional offsets/lengths before any request is made. */
export function assertRange(key: string, range: ByteRange): void {
  const ok = 'suffix' in range
    ? isCount(range.suffix)
    : isCount(range.offset) && (range.length === undefined || isCount(range.length));
  if (!ok) {
    throw new StorageError('permanent', 'get', key, `invalid byte range ${JSON.stringify(range)}`);
  }
}

/** The half-open byte interval [start, end) a range selects in an object of `size` bytes. */
export function resolveRange(range: ByteRange | undefined, size: number): { start: number; end: number } {
  if (range === undefined) return { start: 0, end: size };
  if ('suffix' in range) return { start: Math.max(0, size - range.suffix), end: size };
  const start = Math.min(range.offset, size);
  const end = range.length === undefined ? size : Math.min(size, start + range.length);
  return { start, end };
}
