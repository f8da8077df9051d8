// The k best (row, score) pairs with a bounded binary heap: O(n log k) time, O(k) memory,
// instead of sorting every scored row.

/**
 * The k highest-scoring rows, best first; equal scores are ordered by row ascending, so the
 * result is deterministic whatever order the scores were produced in.
 */
export function topK(scores: Iterable<readonly [number, number]>, k: number): Array<[number, number]> {
  if (!(k > 0)) return [];
  // Min-heap whose root is the worst kept entry (lowest score; among equal scores, highest row).
  const rows: number[] = [];
  const vals: number[] = [];
  for (const [row, score] of scores) {
    if (rows.length < k) {
      rows.push(row);
      vals.push(score);
      siftUp(rows, vals, rows.length - 1);
    } else if (worse(vals[0]!, rows[0]!, score, row)) {
      rows[0] = row;
      vals[0] = score;
      siftDown(rows, vals, 0);
    }
  }
  const out: Array<[number, number]> = rows.map((r, i) => [r, vals[i]!]);
  out.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return out;
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
