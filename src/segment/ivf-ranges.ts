// How a segment's IVF reads are grouped into ranged GETs: blocks (records) close together in
// their section go in one read with the gap between them, the misses of one query go out in one
// round, and a cold first query asks for its probed codes blocks before the directory arrives.
import { Sections, type SectionEntry } from './format.ts';
import type { IvfRoute } from './ivf-route.ts';

/**
 * Blocks (records) closer than this are read by one ranged GET together with the gap between
 * them: a request costs a socket-pool slot and, on the S3 test server, milliseconds, where a
 * few KiB more cost little. Nearby clusters are nearby in `ivf.codes` (hierarchical k-means
 * writes siblings next to each other), so a query's probed blocks come in runs. On GloVe-100
 * 50k at nprobe 64 (docs/benchmarks.md, "ivf-cold"), per query: codes 26 GETs / 313 KiB
 * with no gap, 13.5 / 385 KiB at 16 KiB; records 365 GETs / 158 KiB with no gap, 253 / 278 KiB
 * at 2 KiB, 193 / 461 KiB at 4 KiB, 130 / 827 KiB at 8 KiB, 43 / 2.1 MiB at 32 KiB. Requests,
 * not bytes, set the cold time on the S3 test server, which answers them one after another: a
 * cold first query there (ivf-cold, medians of 5, one run) took 373 ms with 205 GETs and 1.17
 * MiB at 4 KiB, 242 ms with 99 GETs and 2.07 MiB at 16 KiB, 155–160 ms with 57 GETs and 2.94
 * MiB at 32 KiB. On a slower host, 32 KiB against 64 KiB in the same runs (two runs): 331 / 338
 * ms with 57 GETs and 2.84 MiB, against 221 / 257 ms with 41 GETs and 3.84 MiB, 9.3 % of the
 * namespace's bytes (the most it may read is 10 %); LanceDB beside them 291 / 298 ms. On S3 a
 * GET's first byte costs tens of ms and each is billed, so fewer, larger reads win there too.
 */
export const CODES_GAP_BYTES = 16384;
export const RECORDS_GAP_BYTES = 65536;

export type ReadRange = (name: string, range: { offset: number; length: number }) => Promise<Buffer>;

/**
 * Codes blocks asked for before the directory arrived (from the manifest pointer's route,
 * ivf-route.ts), by cluster: the read of its run, where the run starts in `ivf.codes`, and the
 * block's range as the route gave it (checked against the directory before use).
 */
export type PrefetchedBlocks = Map<number, { from: number; start: number; end: number; bytes: Promise<Buffer> }>;

/** Starts the reads of the given clusters' codes blocks, coalesced as readBlocks would. */
export function prefetchBlocks(route: IvfRoute, clusters: readonly number[], codes: SectionEntry, read: ReadRange): PrefetchedBlocks {
  const out: PrefetchedBlocks = new Map();
  const start = (c: number) => route.blockOffsets[c]!;
  const end = (c: number) => route.blockOffsets[c + 1]!;
  for (const run of coalesce(clusters, start, end, CODES_GAP_BYTES)) {
    const from = start(run[0]!);
    const length = end(run[run.length - 1]!) - from;
    if (!(from >= 0 && length > 0 && from + length <= codes.length)) continue;
    const bytes = read(Sections.ivfCodes, { offset: codes.offset + from, length });
    bytes.catch(() => {}); // awaited by the first search, or dropped
    for (const c of run) out.set(c, { from, start: start(c), end: end(c), bytes });
  }
  return out;
}

export /**
 * A loader that collects the keys asked for until its read starts (the next microtask), then
 * reads them in one call. A cache calls load() for each of one caller's misses before any of
 * them settles, so one query's misses become one round of reads; a key asked for later starts
 * a batch of its own.
 */
function batcher<V>(readMany: (keys: number[]) => Promise<Map<number, V>>): (key: number) => Promise<V> {
  type Batch = { keys: number[]; read: Promise<Map<number, V>> };
  let open: Batch | null = null;
  return (key) => {
    if (open === null) {
      const batch: Batch = { keys: [], read: Promise.resolve(new Map()) };
      batch.read = Promise.resolve().then(() => {
        if (open === batch) open = null;
        return readMany(batch.keys);
      });
      open = batch;
    }
    const batch: Batch = open;
    batch.keys.push(key);
    return batch.read.then((m) => m.get(key)!);
  };
}

export /** Distinct items in byte order, grouped into runs whose gaps are at most `gap` bytes. */
function coalesce(items: readonly number[], start: (i: number) => number, end: (i: number) => number, gap: number): number[][] {
  const runs: number[][] = [];
  for (const item of [...new Set(items)].sort((a, b) => start(a) - start(b))) {
    const run = runs[runs.length - 1];
    if (run !== undefined && start(item) - end(run[run.length - 1]!) <= gap) run.push(item);
    else runs.push([item]);
  }
  return runs;
}
