// Serves GETs of objects that cannot have changed from a byte cache (the node's disk tier), as
// Quickwit's StorageWithCache does beside its prefix and retry wrappers. Nobody else builds cache
// keys: callers read through the store they were given and say, when they know it, which
// incarnation of a key they mean (GetOptions.generation).
//
// What is safe to cache: a namespace deleted and created again starts its WAL seqs and manifest
// versions over, so those keys come back with other bytes. A GET is therefore served from the
// cache only when
//   - the caller names a generation (a WAL object's etag from the listing, the pointer's etag for
//     the manifest version it names): the cache key includes it, so another incarnation misses; or
//   - the layout says the key is never reused (segments: random ids, see storage/layout.ts).
// Everything else (the manifest pointer, catalog markers, a version read without a generation)
// passes through, as do head, list, put and delete. Ranges are cached separately, by the range
// as asked. A failed load is not cached (the byte cache keeps only what load returned).

import { isNeverReused } from './layout.ts';
import type {
  ByteRange, GetOptions, GetResult, ListOptions, ListPage, ObjectInfo, ObjectStore, PutCondition,
} from './object-store.ts';

/** What the wrapper needs of a byte cache (cache/disk-cache.ts implements it; main.ts passes it in). */
export interface ByteCache {
  /** The bytes kept under `key`, else load()'s, which are then kept; concurrent callers share one load. */
  get(key: string, load: () => Promise<Buffer>): Promise<Buffer>;
}

export class CachedObjectStore implements ObjectStore {
  constructor(
    readonly inner: ObjectStore,
    private readonly cache: ByteCache,
  ) {}

  async get(key: string, range?: ByteRange, options?: GetOptions): Promise<GetResult> {
    const generation = options?.generation;
    if (generation === undefined && !isNeverReused(key)) return this.inner.get(key, range, options);
    const own: { loaded?: GetResult } = {};
    const entry = await this.cache.get(cacheKey(key, range, generation), async () => {
      own.loaded = await this.inner.get(key, range, options);
      return encodeEntry(own.loaded);
    });
    // A hit, or a caller that shared another's load, decodes the entry.
    return own.loaded ?? decodeEntry(entry) ?? this.inner.get(key, range, options);
  }

  head(key: string): Promise<ObjectInfo | null> {
    return this.inner.head(key);
  }

  put(key: string, body: Uint8Array, condition?: PutCondition): Promise<{ etag: string }> {
    return this.inner.put(key, body, condition);
  }

  list(prefix: string, options?: ListOptions): Promise<ListPage> {
    return this.inner.list(prefix, options);
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
}

/** JSON of the parts: unambiguous whatever the key or etag holds. */
function cacheKey(key: string, range: ByteRange | undefined, generation: string | undefined): string {
  const r = range === undefined ? null
    : 'suffix' in range ? `-${range.suffix}` : `${range.offset}+${range.length ?? ''}`;
  return JSON.stringify([key, generation ?? null, r]);
}

// An entry is u32 LE header length | header JSON {etag, size} | body, so that a hit answers with
// the whole GetResult. Encoding copies the body once per miss, next to the network read and the
// disk write it comes with.
function encodeEntry(result: GetResult): Buffer {
  const header = Buffer.from(JSON.stringify({ etag: result.etag, size: result.size }), 'utf8');
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeUInt32LE(header.length, 0);
  return Buffer.concat([prefix, header, result.body]);
}

/** null for bytes that are not an entry (then the store answers instead). */
function decodeEntry(entry: Buffer): GetResult | null {
  if (entry.length < 4) return null;
  const length = entry.readUInt32LE(0);
  if (4 + length > entry.length) return null;
  try {
    const { etag, size } = JSON.parse(entry.toString('utf8', 4, 4 + length)) as { etag: unknown; size: unknown };
    if (typeof etag !== 'string' || typeof size !== 'number') return null;
    return { body: entry.subarray(4 + length), etag, size };
  } catch {
    return null;
  }
}
