// An ObjectStore in a Map, for unit tests. It keeps the semantics of the real backends (fresh
// etag on every write, conditions, clamped ranges, paging) so code tested against it behaves the
// same on S3. Every call is synchronous inside, so conditions need no lock: a put checks and
// writes in one turn of the event loop.

import { StorageError } from './errors.ts';
import {
  assertKey, assertRange, compareKeys, pageSize, resolveRange,
  type ByteRange, type GetResult, type ListOptions, type ListPage, type ObjectInfo,
  type ObjectStore, type PutCondition,
} from './object-store.ts';

interface StoredObject {
  body: Buffer;
  etag: string;
  lastModified: Date;
}

export class MemoryObjectStore implements ObjectStore {
  readonly #objects = new Map<string, StoredObject>();
  #writes = 0;

  async get(key: string, range?: ByteRange): Promise<GetResult> {
    assertKey('get', key);
    if (range !== undefined) assertRange(key, range);
    const object = this.#objects.get(key);
    if (object === undefined) throw new StorageError('not_found', 'get', key, 'no such key');
    const { start, end } = resolveRange(range, object.body.length);
    // A copy, so a caller mutating the result cannot change the stored object.
    return { body: Buffer.from(object.body.subarray(start, end)), etag: object.etag, size: object.body.length };
  }

  async head(key: string): Promise<ObjectInfo | null> {
    assertKey('head', key);
    const object = this.#objects.get(key);
    return object === undefined ? null : info(key, object);
  }

  async put(key: string, body: Uint8Array, condition?: PutCondition): Promise<{ etag: string }> {
    assertKey('put', key);
    const existing = this.#objects.get(key);
    if (condition !== undefined && 'ifNoneMatch' in condition && existing !== undefined) {
      throw new StorageError('precondition_failed', 'put', key, 'key already exists (ifNoneMatch: *)');
    }
    if (condition !== undefined && 'ifMatch' in condition && existing?.etag !== condition.ifMatch) {
      const why = existing === undefined ? 'key does not exist' : `current etag is ${existing.etag}`;
      throw new StorageError('precondition_failed', 'put', key, `ifMatch ${condition.ifMatch} failed: ${why}`);
    }
    this.#writes += 1;
    const etag = `mem-${this.#writes}`;
    this.#objects.set(key, { body: Buffer.from(body), etag, lastModified: new Date() });
    return { etag };
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    const limit = pageSize(prefix, options.maxKeys);
    const after = options.continuationToken ?? options.startAfter;
    const keys = [...this.#objects.keys()]
      .filter((key) => key.startsWith(prefix) && (after === undefined || compareKeys(key, after) > 0))
      .sort(compareKeys);
    const page = keys.slice(0, limit);
    const objects = page.map((key) => info(key, this.#objects.get(key)!));
    const last = page[page.length - 1];
    return keys.length > limit && last !== undefined ? { objects, nextToken: last } : { objects };
  }

  async delete(key: string): Promise<void> {
    assertKey('delete', key);
    this.#objects.delete(key);
  }
}

function info(key: string, object: StoredObject): ObjectInfo {
  return { key, size: object.body.length, etag: object.etag, lastModified: object.lastModified };
}
