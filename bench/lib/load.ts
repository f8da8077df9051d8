// HTTP load for the scale benchmark: upsert clients that honour backpressure, a query client, a
// wait for "fully indexed", and closed-loop throughput at a number of concurrent clients.

import { planMerges, type MergePolicyOptions } from '../../src/compaction/merge-policy.ts';
import { call } from './silt.ts';
import { since } from './stats.ts';

export interface IngestResult {
  wallMs: number;
  ackMs: number[];
  /** 429 answers (backpressure) that were retried after Retry-After. */
  retries: number;
  lastAckAt: number;
}

/** `clients` loops each taking the next batch number, building its body and POSTing it until acknowledged. */
export async function ingest(url: string, ns: string, batches: number, clients: number, body: (b: number) => Buffer<ArrayBuffer> | string): Promise<IngestResult> {
  let next = 0;
  let retries = 0;
  let lastAckAt = 0;
  const ackMs: number[] = [];
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < batches) {
      const text = body(next++);
      const start = performance.now();
      for (;;) {
        const res = await fetch(`${url}/v1/namespaces/${ns}/upsert`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
        const answer = await res.text();
        if (res.ok) break;
        if (res.status !== 429) throw new Error(`upsert: ${res.status} ${answer.slice(0, 300)}`);
        retries++;
        await sleep(Number(res.headers.get('retry-after') ?? 1) * 1000);
      }
      lastAckAt = performance.now();
      ackMs.push(lastAckAt - start);
    }
  }));
  return { wallMs: since(t0), ackMs, retries, lastAckAt };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** One top-10 query; the ids found. `took` gets the server's own took_ms (the rest is HTTP and the scheduler). */
export async function queryIds(url: string, ns: string, vector: number[], knobs: Record<string, number> = {}, took?: number[]): Promise<number[]> {
  const body = { vector, top_k: 10, include_attributes: false, ...knobs };
  // Again on a socket error: kept-alive connections the server closed while the bench's own
  // event loop was blocked (the exact-neighbour scan of a 1M run takes longer than the server's
  // 72 s keep-alive, so undici never saw their timers expire). Each of the pool's stale sockets
  // fails once and is dropped; 4 writers, a querier and the poller leave up to 6. If the server
  // went away instead, every try fails.
  let res: any;
  for (let attempt = 1; res === undefined; attempt++) {
    res = await call(url, 'POST', `/v1/namespaces/${ns}/query`, body).catch((e: Error) => {
      if (!(e instanceof TypeError) || attempt >= 8) throw e;
      console.error(`query: ${e.message} (${String((e.cause as Error | undefined)?.message)}), trying again`);
      return undefined;
    });
  }
  took?.push(res.took_ms as number);
  return (res.results as Array<{ id: number }>).map((h) => Number(h.id));
}

/** Queries one after another, round-robin over `vectors`, into `phase()`'s list until `stop()`. */
export async function queryLoop(url: string, ns: string, vectors: readonly number[][], phase: () => number[] | null): Promise<void> {
  for (let i = 0; ; i++) {
    const into = phase();
    if (!into) return;
    const t0 = performance.now();
    await queryIds(url, ns, vectors[i % vectors.length]!);
    into.push(since(t0));
  }
}

export interface Indexed {
  /** performance.now() of the first poll that saw the final state: nothing unindexed, segment list unchanged since. */
  at: number;
  segments: number;
  polls: number;
}

/**
 * Polls the namespace until nothing is unindexed (no documents and no WAL objects after the
 * watermark) and the segment list has not changed for `stableMs` (merges that a flush triggers
 * are part of indexing).
 */
export async function waitIndexed(url: string, ns: string, stableMs: number, timeoutMs: number, everyMs = 250): Promise<Indexed> {
  const t0 = performance.now();
  let since0: number | null = null;
  let signature = '';
  let polls = 0;
  for (;;) {
    const s = await call(url, 'GET', `/v1/namespaces/${ns}`);
    polls++;
    const now = performance.now();
    const sig = JSON.stringify((s.segments as Array<{ id: string }>).map((x) => x.id));
    const done = s.unindexed_documents === 0 && s.wal_entries === 0;
    if (!done) since0 = null;
    else if (since0 === null || sig !== signature) since0 = now;
    signature = sig;
    if (since0 !== null && now - since0 >= stableMs) return { at: since0, segments: s.segments.length, polls };
    if (now - t0 > timeoutMs) throw new Error(`${ns} not fully indexed after ${timeoutMs / 1000} s: ${JSON.stringify({ ...s, schema: undefined })}`);
    await sleep(everyMs);
  }
}

/**
 * Waits until the merge policy has nothing left to merge in `ns`'s segment list (`policy` = the
 * server's compaction settings), so figures taken afterwards see the segment count queries keep;
 * "fully indexed" comes earlier, while merges may still be queued. Returns the segment count.
 */
export async function waitMerged(url: string, ns: string, policy: MergePolicyOptions, timeoutMs: number, everyMs = 500): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const s = await call(url, 'GET', `/v1/namespaces/${ns}`);
    const segments = (s.segments as Array<{ id: string; documents: number; rows: number }>).map((x) => ({ id: x.id, rows: x.rows, liveRows: x.documents }));
    if (planMerges(segments, policy).length === 0) return segments.length;
    if (performance.now() - t0 > timeoutMs) throw new Error(`${ns} still has merges to do after ${timeoutMs / 1000} s: ${segments.length} segments`);
    await sleep(everyMs);
  }
}

/** Queries per second with `clients` closed-loop clients sharing `total` queries. */
export async function throughput(url: string, ns: string, vectors: readonly number[][], clients: number, total: number, knobs: Record<string, number>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < total) {
      const i = next++;
      await queryIds(url, ns, vectors[i % vectors.length]!, knobs);
    }
  }));
  return (total * 1000) / since(t0);
}
