// The k best (row, score) pairs with a bounded binary heap: O(n log k) time, O(k) memory,
// instead of sorting every scored row.

import type { ScoredRows } from './index-view.ts';

/**
 * Collects the k best (row, score) pairs offered to it. Rows can be offered from several views
 * (after mapping them to one numbering), so no intermediate Map is needed. Equal scores are
 * ordered by row ascending, so the result does not depend on the order of offers.
 */
export class TopKCollector {
  // Min-heap whose root is the worst kept entry (lowest score; among equal scores, highest row).
  private readonly rows: number[] = [];
  private readonly vals: number[] = [];
  private readonly k: number;

  constructor(k: number) {
    this.k = k > 0 ? Math.floor(k) : 0;
  }

  offer(row: number, score: number): void {
    const rows = this.rows;
    const vals = this.vals;
    if (rows.length < this.k) {
      rows.push(row);
      vals.push(score);
      siftUp(rows, vals, rows.length - 1);
    } else if (this.k > 0 && worse(vals[0]!, rows[0]!, score, row)) {
      rows[0] = row;
      vals[0] = score;
      siftDown(rows, vals, 0);
    }
  }

  offerAll(scored: ScoredRows, rowOffset = 0): void {
    const { rows, scores } = scored;
    for (let i = 0; i < rows.length; i++) this.offer(rows[i]! + rowOffset, scores[i]!);
  }

  /** The kept pairs, best first. */
  result(): Array<[number, number]> {
    const out: Array<[number, number]> = this.rows.map((r, i) => [r, this.vals[i]!]);
    out.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    return out;
  }
}

/** The k highest-scoring rows, best first; equal scores are ordered by row ascending. */
export function topK(scores: Iterable<readonly [number, number]>, k: number): Array<[number, number]> {
  const c = new TopKCollector(k);
  for (const [row, score] of scores) c.offer(row, score);
  return c.result();
}

/** True when (s1, r1) ranks below (s2, r2). */
function worse(s1: number, r1: number, s2: number, r2: number): boolean {
  return s1 < s2 || (s1 === s2 && r1 > r2);
}

function siftUp(rows: number[], vals: number[], i: number): void {
  const r = rows[i]!;
  const v = vals[i]!;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!worse(v, r, vals[p]!, rows[p]!)) break;
    rows[i] = rows[p]!;
    vals[i] = vals[p]!;
    i = p;
  }
  rows[i] = r;
  vals[i] = v;
}

function siftDown(rows: number[], vals: number[], i: number): void {
  const n = rows.length;
  const r = rows[i]!;
  const v = vals[i]!;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    let c = l;
    const rr = l + 1;
    if (rr < n && worse(vals[rr]!, rows[rr]!, vals[l]!, rows[l]!)) c = rr;
    if (!worse(vals[c]!, rows[c]!, v, r)) break;
    rows[i] = rows[c]!;
    vals[i] = vals[c]!;
    i = c;
  }
  rows[i] = r;
  vals[i] = v;
}
