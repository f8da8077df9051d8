// POST /v1/namespaces/:ns/_debug/recall: how well Silt's approximate search finds the true
// nearest neighbours here. Query vectors are sampled from the stored ones; each is searched by
// ANN (what queries use) and exhaustively (the truth), and recall is the share of the true top_k
// that ANN found. The last figure per namespace is also the gauge silt_ann_recall in /metrics.
import { Errors } from '../errors.ts';
import type { ReadableNamespace } from '../namespace/state.ts';
import type { QueryObserver } from '../namespace/routes.ts';
import { idToJson } from '../schema/document.ts';
import { parseVector } from '../schema/document.ts';
import { isRecord, parseFilters, type TurbopufferQuery } from './query-parse.ts';
import { annRows, exactNeighbours } from './query.ts';
import { allMatching } from './order.ts';
import { turbopufferDist } from './rows.ts';
import { vectorAccess } from '../namespace/read.ts';

/** Sampled queries per call, by default and at most: each one is an exhaustive search. */
export const RECALL_NUM = { default: 25, max: 1000 };
const RECALL_TOP_K = { default: 10, max: 1200 };

export async function serveRecall(ns: ReadableNamespace, body: unknown, observer?: QueryObserver): Promise<object> {
  const b = body ?? {};
  if (!isRecord(b)) throw Errors.invalidQuery('body', 'must be a JSON object');
  for (const key of Object.keys(b)) {
    if (!['num', 'top_k', 'filters', 'rank_by', 'include_ground_truth'].includes(key)) {
      throw Errors.invalidQuery(key, 'unknown field; supported fields are num, top_k, filters, rank_by, include_ground_truth');
    }
  }
  const int = (v: unknown, key: string, limits: { default: number; max: number }) => {
    if (v === undefined || v === null) return limits.default;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > limits.max) throw Errors.invalidQuery(key, `must be an integer from 1 to ${limits.max}`);
    return v;
  };
  let num = int(b.num, 'num', RECALL_NUM);
  const topK = int(b.top_k, 'top_k', RECALL_TOP_K);
  const filter = parseFilters(b.filters, ns.schema, 'filters');
  const sources = ns.sources();
  let queries: Float32Array[];
  if (b.rank_by !== undefined && b.rank_by !== null) {
    const r = b.rank_by;
    if (!Array.isArray(r) || r.length !== 3 || r[0] !== 'vector' || r[1] !== 'ANN') throw Errors.invalidQuery('rank_by', 'expected ["vector", "ANN", [...]]');
    if (b.num !== undefined && b.num !== null && num !== 1) throw Errors.invalidQuery('num', 'with rank_by, recall is measured for that one query: give num 1 or omit it');
    queries = [parseVector(r[2], ns.schema, ns.name, 'rank_by[2]')];
    num = 1;
  } else {
    queries = await sampleVectors(ns, num);
  }
  const q: TurbopufferQuery = {
    rank: null, filter, limit: topK, per: null, attributes: [], vector: false, vectorEncoding: 'float', aggregates: null, groupBy: null, eventual: false,
  };
  let recall = 0;
  let annCount = 0;
  let exactCount = 0;
  const truth: object[] = [];
  for (const vector of queries) {
    const exact = await exactNeighbours(ns.schema, sources, filter, vector, topK);
    const ann = await annRows(ns, q, vector);
    const expected = new Set(exact.map((h) => String(idToJson(h.source.id(h.row)))));
    const found = ann.filter((r) => expected.has(String(r.id))).length;
    recall += expected.size === 0 ? 1 : found / expected.size;
    annCount += ann.length;
    exactCount += exact.length;
    if (b.include_ground_truth === true) {
      truth.push({
        query_vector: Array.from(vector),
        nearest_neighbors: exact.map((h) => ({ id: idToJson(h.source.id(h.row)), $dist: turbopufferDist(ns.schema.vector_metric, h.distance) })),
      });
    }
  }
  const n = Math.max(queries.length, 1);
  const avg = queries.length === 0 ? 1 : recall / n;
  observer?.metrics.annRecall.set({ namespace: ns.name }, avg);
  return {
    avg_recall: avg,
    avg_ann_count: annCount / n,
    avg_exhaustive_count: exactCount / n,
    ...(b.include_ground_truth === true ? { ground_truth: truth } : {}),
  };
}

/** `num` stored vectors drawn at random from the live rows (with repeats when there are fewer). */
async function sampleVectors(ns: ReadableNamespace, num: number): Promise<Float32Array[]> {
  const dim = ns.schema.vector_dim;
  const withVector: Array<{ data: Float32Array; off: number }> = [];
  for (const source of ns.sources()) {
    const rows = allMatching([source], null).map((p) => p.row);
    // An IVF segment reads the clusters of those rows (through the cluster cache).
    const vectors = await vectorAccess(source, rows);
    for (const row of rows) {
      const off = vectors.offset(row);
      if (off >= 0) withVector.push({ data: vectors.data, off });
    }
  }
  if (withVector.length === 0) return [];
  return Array.from({ length: num }, () => {
    const { data, off } = withVector[Math.floor(Math.random() * withVector.length)]!;
    return data.slice(off, off + dim);
  });
}
