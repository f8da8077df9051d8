// Counts object-store requests by operation: how the number of requests a cold query needs is
// measured (DESIGN.md §7), and what /stats reports. A call counts once when it starts, whatever its
// outcome; wrapped around withRetry it counts logical operations, inside it each attempt. Given a
// histogram, it also times each call by operation and outcome (silt_object_store_request_duration_seconds).

import { isStorageError, type StorageOperation } from './errors.ts';
import type {
  ByteRange, GetOptions, GetResult, ListOptions, ListPage, ObjectInfo, ObjectStore, PutCondition,
} from './object-store.ts';

export type RequestCounts = Record<StorageOperation, number>;

/** What times the calls: prom-client's Histogram fits. */
export interface RequestTimer {
  observe(labels: { operation: StorageOperation; outcome: string }, seconds: number): void;
}

function zero(): RequestCounts {
  return { get: 0, head: 0, put: 0, list: 0, delete: 0 };
}

export class CountingObjectStore implements ObjectStore {
  #counts = zero();
  #timer: RequestTimer | null = null;

  constructor(
    readonly inner: ObjectStore,
    /** Run by close(): releases what the wrapped store holds (the S3 client's sockets). */
    private readonly onClose: () => void = () => {},
  ) {}

  close(): void {
    this.onClose();
  }

  /** From now on, each call is timed into `timer` (the node's metrics, set once they exist). */
  timeWith(timer: RequestTimer): this {
    this.#timer = timer;
    return this;
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

  async #call<T>(operation: StorageOperation, run: () => Promise<T>): Promise<T> {
    this.#counts[operation] += 1;
    const timer = this.#timer;
    if (!timer) return run();
    const started = performance.now();
    let outcome = 'ok';
    try {
      return await run();
    } catch (e) {
      // The storage error's kind (not_found, precondition_failed, transient, permanent): a few values.
      outcome = isStorageError(e) ? e.kind : 'error';
      throw e;
    } finally {
      timer.observe({ operation, outcome }, (performance.now() - started) / 1000);
    }
  }

  get(key: string, range?: ByteRange, options?: GetOptions): Promise<GetResult> {
    return this.#call('get', () => this.inner.get(key, range, options));
  }

  head(key: string): Promise<ObjectInfo | null> {
    return this.#call('head', () => this.inner.head(key));
  }

  put(key: string, body: Uint8Array, condition?: PutCondition): Promise<{ etag: string }> {
    return this.#call('put', () => this.inner.put(key, body, condition));
  }

  list(prefix: string, options?: ListOptions): Promise<ListPage> {
    return this.#call('list', () => this.inner.list(prefix, options));
  }

  delete(key: string): Promise<void> {
    return this.#call('delete', () => this.inner.delete(key));
  }

  /** Not a request to the store: neither counted nor timed. */
  async checkWritable(): Promise<void> {
    await this.inner.checkWritable?.();
  }
}
