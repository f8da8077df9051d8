// An ObjectStore wrapper that records when each request starts and ends, to count how many
// object-store round trips a cold query needs one after another (DESIGN.md §7): requests that
// overlap cost one round trip together; a request issued only after another finished adds one.
// CountingObjectStore (src/storage/metrics.ts) gives the totals by operation; this gives the depth.

import type {
  ByteRange, GetOptions, GetResult, ListOptions, ListPage, ObjectInfo, ObjectStore, PutCondition,
} from '../../src/storage/object-store.ts';

export interface TracedRequest {
  op: 'get' | 'head' | 'put' | 'list' | 'delete';
  key: string;
  start: number;
  end: number;
  bytes: number;
}

export class TracingObjectStore implements ObjectStore {
  events: TracedRequest[] = [];

  constructor(readonly inner: ObjectStore) {}

  reset(): void {
    this.events = [];
  }

  /**
   * The longest chain of requests in which each starts after the previous one has ended: the
   * number of sequential round trips a caller waited for.
   */
  sequentialRoundTrips(): number {
    const evs = [...this.events].sort((a, b) => a.start - b.start);
    const depth: number[] = [];
    let best = 0;
    evs.forEach((e, i) => {
      let d = 1;
      for (let j = 0; j < i; j++) if (evs[j]!.end <= e.start) d = Math.max(d, depth[j]! + 1);
      depth.push(d);
      best = Math.max(best, d);
    });
    return best;
  }

  bytesRead(): number {
    return this.events.reduce((n, e) => n + (e.op === 'get' ? e.bytes : 0), 0);
  }

  private async track<T>(op: TracedRequest['op'], key: string, fn: () => Promise<T>, size: (r: T) => number): Promise<T> {
    const start = performance.now();
    let bytes = 0;
    try {
      const r = await fn();
      bytes = size(r);
      return r;
    } finally {
      this.events.push({ op, key, start, end: performance.now(), bytes });
    }
  }

  get(key: string, range?: ByteRange, options?: GetOptions): Promise<GetResult> {
    return this.track('get', key, () => this.inner.get(key, range, options), (r) => r.body.length);
  }

  head(key: string): Promise<ObjectInfo | null> {
    return this.track('head', key, () => this.inner.head(key), () => 0);
  }

  put(key: string, body: Uint8Array, condition?: PutCondition): Promise<{ etag: string }> {
    return this.track('put', key, () => this.inner.put(key, body, condition), () => 0);
  }

  list(prefix: string, options?: ListOptions): Promise<ListPage> {
    return this.track('list', prefix, () => this.inner.list(prefix, options), () => 0);
  }

  delete(key: string): Promise<void> {
    return this.track('delete', key, () => this.inner.delete(key), () => 0);
  }
}
