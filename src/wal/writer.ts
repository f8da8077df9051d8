// Group commit: requests that arrive while a WAL put is in flight share the next WAL object.
// A request is resolved only after its object is durable (the put returned) and applied.
//
// Every WAL object is created with If-None-Match: *, so two writers that both think they own a
// namespace cannot both write seq N. After any failed put the writer does not know whether the
// object exists (a timed-out put may have landed), so before the next put it re-reads the WAL
// from storage (`recover`) instead of guessing.
import type { ObjectStore } from '../storage/object-store.ts';
import { walKey } from '../storage/layout.ts';
import { encodeWalEntry, type WalEntry, type WalOp } from './format.ts';

export interface WalWriterHooks<P, R> {
  /** Turns a batch of requests into WAL ops, synchronously, against the state as applied so far. */
  /** May be async (a resolved write reads stored documents); batches are still sealed one at a time. */
  seal(payloads: P[]): { ops: WalOp[]; results: R[] } | Promise<{ ops: WalOp[]; results: R[] }>;
  /** Applies a durable entry to in-memory state. */
  apply(entry: WalEntry, bytes: number): void;
  /** Replays WAL objects from `fromSeq` on; returns the next free seq. */
  recover(fromSeq: number): Promise<number>;
  /** Translates a failed put into the error the waiting requests get. */
  failure(error: unknown): Error;
  /** Told how long each WAL put took, in seconds, whatever its outcome (silt_wal_commit_duration_seconds). */
  committed?(seconds: number): void;
}

interface Pending<P, R> {
  payload: P;
  bytes: number;
  resolve(result: { seq: number; result: R }): void;
  reject(error: unknown): void;
}

export class WalWriter<P, R> {
  private queue: Pending<P, R>[] = [];
  private running: Promise<void> = Promise.resolve();
  private draining = false;
  private needsRecovery = false;
  private closed: Error | null = null;

  constructor(
    private readonly store: ObjectStore,
    private readonly ns: string,
    private nextSeq: number,
    private readonly maxBatchBytes: number,
    private readonly hooks: WalWriterHooks<P, R>,
    private readonly now: () => number = Date.now,
  ) {}

  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  append(payload: P, bytes: number): Promise<{ seq: number; result: R }> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      this.queue.push({ payload, bytes, resolve, reject });
      // The flag, not the promise, says whether a drain loop is live: it is cleared in the same
      // synchronous step in which the loop sees an empty queue, so a request appended by a
      // continuation of the last resolved one always starts a new loop.
      if (!this.draining) {
        this.draining = true;
        this.running = this.drain();
      }
    });
  }

  /** Refuses new writes and waits for the queued ones to finish. */
  async close(reason: Error): Promise<void> {
    this.closed = reason;
    await this.running;
  }

  private takeBatch(): Pending<P, R>[] {
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || bytes + this.queue[n]!.bytes <= this.maxBatchBytes)) {
      bytes += this.queue[n]!.bytes;
      n++;
    }
    return this.queue.splice(0, n);
  }

  /** Every path through a batch settles its requests; the loop itself never throws. */
  private async drain(): Promise<void> {
    for (;;) {
      if (this.queue.length === 0) {
        this.draining = false;
        return;
      }
      if (this.needsRecovery) {
        try {
          this.nextSeq = await this.hooks.recover(this.nextSeq);
          this.needsRecovery = false;
        } catch (e) {
          for (const p of this.queue.splice(0)) p.reject(this.hooks.failure(e));
          continue;
        }
      }
      const batch = this.takeBatch();
      let sealed: { ops: WalOp[]; results: R[] };
      try {
        sealed = await this.hooks.seal(batch.map((p) => p.payload));
      } catch (e) {
        for (const p of batch) p.reject(e);
        continue;
      }
      const seq = this.nextSeq;
      if (sealed.ops.length === 0) {
        batch.forEach((p, i) => p.resolve({ seq: seq - 1, result: sealed.results[i]! }));
        continue;
      }
      const entry: WalEntry = { seq, createdAt: this.now(), ops: sealed.ops };
      let body: Buffer;
      try {
        body = encodeWalEntry(entry);
      } catch (e) {
        for (const p of batch) p.reject(e);
        continue;
      }
      const putStarted = performance.now();
      try {
        await this.store.put(walKey(this.ns, seq), body, { ifNoneMatch: '*' });
        this.hooks.committed?.((performance.now() - putStarted) / 1000);
      } catch (e) {
        this.hooks.committed?.((performance.now() - putStarted) / 1000);
        this.needsRecovery = true;
        const error = this.hooks.failure(e);
        for (const p of batch) p.reject(error);
        continue;
      }
      this.nextSeq = seq + 1;
      try {
        this.hooks.apply(entry, body.length);
      } catch (e) {
        // The entry is durable but could not be applied: a bug. Fail loudly, never hang.
        for (const p of batch) p.reject(e);
        continue;
      }
      batch.forEach((p, i) => p.resolve({ seq, result: sealed.results[i]! }));
    }
  }
}
