// Side-by-side latency measurement on a shared, noisy 2-core machine.
//
// Contenders take turns in blocks of queries, so a burst of noise from another process lands on
// all of them alike, and each pass's numbers are compared within the pass. Why blocks and not
// query by query (measured on GloVe-100 50k, where one HNSW index is about the size of the
// 32 MiB L3): query by query, the CPU cache decides the result. A contender that runs the query
// another one just ran on the same index finds its graph nodes cached, and an index that more
// contenders share stays warmer: the same Silt and raw hnswlib code measured 1.03× to 1.5× apart
// depending only on the mix. In blocks, every contender runs on its own index warmed by its own
// queries, as a server does; and the blocks of one turn hold different queries (contender c
// runs block turn + c), so no contender reruns what another one just ran.

import { summarize, type Latency } from './stats.ts';

export interface InterleaveOptions {
  queries: number;
  passes: number;
  /** Queries per turn. */
  block: number;
}

export interface InterleaveResult {
  /** [contender][pass] */
  passes: Latency[][];
}

/**
 * Runs every contender over queries 0..queries-1 once per pass. `run(c, q, pass)` performs query
 * q for contender c (its result handling, e.g. recall, belongs to the caller but is not timed
 * when done in `after`).
 */
export async function interleave<T>(
  contenders: number,
  opts: InterleaveOptions,
  run: (c: number, q: number) => T | Promise<T>,
  after?: (c: number, q: number, result: T, pass: number) => void,
): Promise<InterleaveResult> {
  const { queries, passes, block } = opts;
  const blocks = Math.ceil(queries / block);
  const out: Latency[][] = Array.from({ length: contenders }, () => []);
  for (let pass = 0; pass < passes; pass++) {
    const times: number[][] = Array.from({ length: contenders }, () => []);
    for (let turn = 0; turn < blocks; turn++) {
      for (let j = 0; j < contenders; j++) {
        const c = (turn + pass + j) % contenders; // who goes first rotates
        const b = (turn + c) % blocks;
        const end = Math.min(queries, (b + 1) * block);
        for (let q = b * block; q < end; q++) {
          const start = performance.now();
          // Silt's query path is async (IVF segments read clusters); awaiting a plain value costs
          // one microtask turn, the same for every contender.
          const result = await run(c, q);
          times[c]!.push(performance.now() - start);
          after?.(c, q, result, pass);
        }
      }
    }
    times.forEach((t, c) => out[c]!.push(summarize(t)));
  }
  return { passes: out };
}
