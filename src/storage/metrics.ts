// Counts object-store requests by operation: how the number of requests a cold query needs is
// measured (DESIGN.md §7). A call counts once when it starts, whatever its outcome; wrapped
// around withRetry it counts logical operations, inside it each attempt.

import type { StorageOperation } from './errors.ts';
import type {
  ByteRange, GetOptions, GetResult, ListOptions, ListPage, ObjectInfo, ObjectStore, PutCondition,
} from './object-store.ts';

export type RequestCounts = Record<StorageOperation, number>;

function zero(): RequestCounts {
  return { get: 0, head: 0, put: 0, list: 0, delete: 0 };
}

export class CountingObjectStore implements ObjectStore {
  #counts = zero();

  constructor(
    readonly inner: ObjectStore,
    /** Run by close(): releases what the wrapped store holds (the S3 client's sockets). */
    private readonly onClose: () => void = () => {},
  ) {}

  close(): void {
    this.onClose();
  }

  /** A snapshot; later requests do not change it. */
  counts(): RequestCounts {
    return { ...this.#counts };
  }

  /** All operations together. */
  total(): number {
    return Object.values(this.#counts).reduce((a, b) => a + b, 0);
  }

  reset(): void {
    this.#counts = zero();
  }

  get(key: string, range?: ByteRange, options?: GetOptions): Promise<GetResult> {
    this.#counts.get += 1;
    return this.inner.get(key, range, options);
  }

  head(key: string): Promise<ObjectInfo | null> {
    this.#counts.head += 1;
    return this.inner.head(key);
  }

  put(key: string, body: Uint8Array, condition?: PutCondition): Promise<{ etag: string }> {
    this.#counts.put += 1;
    return this.inner.put(key, body, condition);
  }

  list(prefix: string, options?: ListOptions): Promise<ListPage> {
    this.#counts.list += 1;
    return this.inner.list(prefix, options);
  }

  delete(key: string): Promise<void> {
    this.#counts.delete += 1;
    return this.inner.delete(key);
  }
}
