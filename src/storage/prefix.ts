// Puts a store's keys under `prefix/`: the deployment prefix (storage.s3.wal_prefix), or a
// per-test area of a shared bucket. Callers see keys without it; list strips it.

import type {
  ByteRange, GetOptions, GetResult, ListOptions, ListPage, ObjectInfo, ObjectStore, PutCondition,
} from './object-store.ts';

export function withPrefix(store: ObjectStore, prefix: string): ObjectStore {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? store : new PrefixedObjectStore(store, `${trimmed}/`);
}

class PrefixedObjectStore implements ObjectStore {
  constructor(
    private readonly inner: ObjectStore,
    /** Ends in "/". */
    private readonly prefix: string,
  ) {}

  get(key: string, range?: ByteRange, options?: GetOptions): Promise<GetResult> {
    return this.inner.get(this.#full(key), range, options);
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const info = await this.inner.head(this.#full(key));
    return info === null ? null : { ...info, key };
  }

  put(key: string, body: Uint8Array, condition?: PutCondition): Promise<{ etag: string }> {
    return this.inner.put(this.#full(key), body, condition);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    // The continuation token is the inner store's and passes through untouched.
    const page = await this.inner.list(this.prefix + prefix, {
      ...options,
      ...(options.startAfter === undefined ? {} : { startAfter: this.prefix + options.startAfter }),
    });
    const objects = page.objects.map((o) => ({ ...o, key: o.key.slice(this.prefix.length) }));
    return page.nextToken === undefined ? { objects } : { objects, nextToken: page.nextToken };
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(this.#full(key));
  }

  #full(key: string): string {
    return this.prefix + key;
  }
}
