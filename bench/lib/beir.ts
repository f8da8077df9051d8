// Loading a BEIR data set (corpus.jsonl, queries.jsonl, qrels/{split}.tsv) and evaluating a
// search function on it with BEIR's metrics (pytrec_eval's ndcg_cut and recall).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BeirDoc {
  id: string;
  title: string;
  text: string;
}

export interface BeirDataset {
  corpus: BeirDoc[];
  /** Queries of the split that have judgments, in file order. */
  queries: Array<{ id: string; text: string }>;
  /** query id → (doc id → relevance). */
  qrels: Map<string, Map<string, number>>;
}

/** A search under evaluation: the ids of the best documents for a query, best first. */
export type SearchFn = (queryText: string, k: number) => Promise<string[]>;

export function beirAvailable(dir: string, split = 'test'): boolean {
  return ['corpus.jsonl', 'queries.jsonl', join('qrels', `${split}.tsv`)]
    .every((f) => existsSync(join(dir, f)));
}

export function loadBeir(dir: string, split = 'test'): BeirDataset {
  const corpus: BeirDoc[] = [];
  for (const line of readLines(join(dir, 'corpus.jsonl'))) {
    const d = JSON.parse(line) as { _id: string; title?: string; text?: string };
    corpus.push({ id: String(d._id), title: d.title ?? '', text: d.text ?? '' });
  }
  const qrels = new Map<string, Map<string, number>>();
  const tsv = readLines(join(dir, 'qrels', `${split}.tsv`));
  for (const [i, line] of tsv.entries()) {
    const [qid, did, score] = line.split('\t');
    if (i === 0 && qid === 'query-id') continue;
    if (qid === undefined || did === undefined || score === undefined) continue;
    let m = qrels.get(qid);
    if (m === undefined) qrels.set(qid, (m = new Map()));
    m.set(did, Number(score));
  }
  const queries: Array<{ id: string; text: string }> = [];
  for (const line of readLines(join(dir, 'queries.jsonl'))) {
    // Only _id and text: the SciFact `metadata` holds evidence labels and must not be used.
    const q = JSON.parse(line) as { _id: string; text: string };
    if (qrels.has(String(q._id))) queries.push({ id: String(q._id), text: q.text });
  }
  return { corpus, queries, qrels };
}

function readLines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
}

/**
 * nDCG@k as pytrec_eval (trec_eval ndcg_cut) computes it: gain = relevance (linear), discount
 * log2(rank + 1), ideal ranking from all judged relevant documents of the query.
 */
export function ndcgAtK(ranked: readonly string[], rels: ReadonlyMap<string, number>, k: number): number {
  let dcg = 0;
  for (let i = 0; i < Math.min(k, ranked.length); i++) {
    const g = rels.get(ranked[i]!) ?? 0;
    if (g > 0) dcg += g / Math.log2(i + 2);
  }
  const ideal = [...rels.values()].filter((g) => g > 0).sort((a, b) => b - a);
  let idcg = 0;
  for (let i = 0; i < Math.min(k, ideal.length); i++) idcg += ideal[i]! / Math.log2(i + 2);
  return idcg > 0 ? dcg / idcg : 0;
}

/** Recall@k: the fraction of the query's relevant documents found in the top k. */
export function recallAtK(ranked: readonly string[], rels: ReadonlyMap<string, number>, k: number): number {
  let relevant = 0;
  for (const g of rels.values()) if (g > 0) relevant++;
  if (relevant === 0) return 0;
  let found = 0;
  for (let i = 0; i < Math.min(k, ranked.length); i++) if ((rels.get(ranked[i]!) ?? 0) > 0) found++;
  return found / relevant;
}

export interface EvalResult {
  queries: number;
  ndcg10: number;
  recall100: number;
  latencyMs: { p50: number; p95: number; mean: number };
}

/**
 * Runs every query once to warm up, then once timed, and averages the metrics over queries.
 * As BEIR does by default (ignore_identical_ids), a document whose id equals the query id is
 * dropped from that query's results.
 */
export async function evaluate(search: SearchFn, data: BeirDataset, k = 100): Promise<EvalResult> {
  for (const q of data.queries) await search(q.text, k + 1);
  const times: number[] = [];
  let ndcg = 0;
  let recall = 0;
  for (const q of data.queries) {
    const t0 = performance.now();
    const hits = await search(q.text, k + 1);
    times.push(performance.now() - t0);
    const ranked = hits.filter((id) => id !== q.id).slice(0, k);
    const rels = data.qrels.get(q.id) ?? new Map<string, number>();
    ndcg += ndcgAtK(ranked, rels, 10);
    recall += recallAtK(ranked, rels, 100);
  }
  const n = data.queries.length;
  times.sort((a, b) => a - b);
  return {
    queries: n,
    ndcg10: n > 0 ? ndcg / n : 0,
    recall100: n > 0 ? recall / n : 0,
    latencyMs: {
      p50: quantile(times, 0.5),
      p95: quantile(times, 0.95),
      mean: times.reduce((a, x) => a + x, 0) / Math.max(1, n),
    },
  };
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
