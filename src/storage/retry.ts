// Retries 'transient' failures with exponential backoff and full jitter (sleep a random time in
// [0, min(maxDelay, base·2^attempt)]). 'not_found', 'precondition_failed' and 'permanent' are
// answers, not hiccups, and are never retried.
//
// Conditional puts need care: a put that failed transiently (timeout, reset, 5xx) may still have
// been applied. Its retry then fails with precondition_failed against our own write. So after a
// transient failure, a precondition_failed retry reads the object back; if the stored bytes are
// exactly ours, the put is reported as a success with the stored etag. This is sound when the
// bytes identify the writer, which Silt's WAL objects and manifests do (they carry the writer's
// epoch and sequence numbers): another writer cannot have produced the same bytes. Were the
// bytes not ours, precondition_failed stands. When every attempt fails transiently the last
// transient error is thrown and the outcome is unknown: callers must not acknowledge, and must
// re-read before deciding (the WAL writer reloads the namespace).

import { isStorageError } from './errors.ts';
import type {
  ByteRange, GetOptions, GetResult, ListOptions, ListPage, ObjectInfo, ObjectStore, PutCondition,
} from './object-store.ts';

export interface RetryOptions {
  /** Retries after the first attempt (0 = no retries). */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** For tests: replaces setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** For tests: replaces Math.random. */
  random?: () => number;
}

export function withRetry(store: ObjectStore, options: RetryOptions): ObjectStore {
  return new RetryingObjectStore(store, options);
}

class RetryingObjectStore implements ObjectStore {
  constructor(
    private readonly inner: ObjectStore,
    private readonly options: RetryOptions,
  ) {}

  get(key: string, range?: ByteRange, options?: GetOptions): Promise<GetResult> {
    return this.#retry(() => this.inner.get(key, range, options));
  }

  head(key: string): Promise<ObjectInfo | null> {
    return this.#retry(() => this.inner.head(key));
  }

  list(prefix: string, options?: ListOptions): Promise<ListPage> {
    return this.#retry(() => this.inner.list(prefix, options));
  }

  delete(key: string): Promise<void> {
    return this.#retry(() => this.inner.delete(key));
  }

  async put(key: string, body: Uint8Array, condition?: PutCondition): Promise<{ etag: string }> {
    if (condition === undefined) return this.#retry(() => this.inner.put(key, body));
    let mayHaveLanded = false;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.inner.put(key, body, condition);
      } catch (e) {
        if (isStorageError(e, 'precondition_failed') && mayHaveLanded) {
          const stored = await this.#retry(() => this.inner.get(key)).catch((readError: unknown) => {
            if (isStorageError(readError, 'not_found')) return null;
            throw readError;
          });
          if (stored !== null && stored.body.equals(body)) return { etag: stored.etag };
          throw e;
        }
        if (!isStorageError(e, 'transient') || attempt >= this.options.maxRetries) throw e;
        mayHaveLanded = true;
        await this.#backoff(attempt);
      }
    }
  }

  async #retry<T>(operation: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await operation();
      } catch (e) {
        if (!isStorageError(e, 'transient') || attempt >= this.options.maxRetries) throw e;
        await this.#backoff(attempt);
      }
    }
  }

  #backoff(attempt: number): Promise<void> {
    const { baseDelayMs, maxDelayMs, sleep = defaultSleep, random = Math.random } = this.options;
    const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
    return sleep(Math.floor(random() * cap));
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
