// rerank_by of a multi-query: reciprocal rank fusion of the sub-queries' rows,
// score(d) = Σ weight_i / (rank_constant + rank_i(d)), ranks from 1, as turbopuffer documents it
// (rank_constant 60 and weights 1 by default). A fused row is the first sub-query's copy of it,
// with $dist the fused score (higher is better).
import { Errors } from '../errors.ts';
import { isRecord } from './query-parse.ts';
import type { RowJson } from './rows.ts';

export interface Rrf {
  rankConstant: number;
  weights: number[];
}

export function parseRerank(raw: unknown, queries: number): Rrf {
  const shape = 'expected ["RRF"] or ["RRF", {"rank_constant": 60, "weights": [...]}]';
  if (!Array.isArray(raw) || raw[0] !== 'RRF' || raw.length > 2) throw Errors.invalidQuery('rerank_by', shape);
  const params = raw[1] ?? {};
  if (!isRecord(params) || Object.keys(params).some((k) => k !== 'rank_constant' && k !== 'weights')) throw Errors.invalidQuery('rerank_by[1]', shape);
  const k = params.rank_constant ?? 60;
  if (typeof k !== 'number' || !Number.isFinite(k) || k <= 0) throw Errors.invalidQuery('rerank_by[1].rank_constant', 'must be a number greater than 0');
  const weights = params.weights ?? Array.from({ length: queries }, () => 1);
  if (!Array.isArray(weights) || weights.length !== queries || !weights.every((w) => typeof w === 'number' && Number.isFinite(w) && w > 0)) {
    throw Errors.invalidQuery('rerank_by[1].weights', `must be ${queries} positive numbers, one per query in order`);
  }
  return { rankConstant: k, weights: weights as number[] };
}

export function fuseRrf(lists: RowJson[][], rrf: Rrf, limit: number): RowJson[] {
  const fused = new Map<string, { row: RowJson; score: number; first: number }>();
  let order = 0;
  lists.forEach((rows, q) => {
    rows.forEach((row, i) => {
      const key = `${typeof row.id}:${row.id}`;
      let e = fused.get(key);
      if (!e) fused.set(key, (e = { row, score: 0, first: order++ }));
      e.score += rrf.weights[q]! / (rrf.rankConstant + i + 1);
    });
  });
  return [...fused.values()]
    .sort((a, b) => b.score - a.score || a.first - b.first)
    .slice(0, limit)
    .map(({ row, score }) => ({ ...row, $dist: score }));
}
