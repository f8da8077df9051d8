// POST /v2/namespaces/:ns/query of the turbopuffer-compatible API: one query, or several
// (`queries`, optionally fused by `rerank_by: ["RRF", …]`), answered from a ReadableNamespace
// through serveRead, so the owner, a relay and a query node's view all answer it alike.
// Approximate vector search is Silt's own (ReadableNamespace.query: HNSW per segment, the tail
// exhaustively); kNN, BM25 expressions, ordering and aggregations run over the namespace's sources.
import { Errors } from '../errors.ts';
import type { NamespaceSchema } from '../schema/types.ts';
import type { RowSource } from '../segment/row-source.ts';
import { distance, norm } from '../segment/distance.ts';
import { TopK } from '../query/topk.ts';
import { matchingRows } from '../query/executor.ts';
import type { ParsedQuery } from '../query/request.ts';
import type { QueryKind } from '../metrics.ts';
import type { ReadableNamespace } from '../namespace/state.ts';
import { tookMs, type QueryObserver } from '../namespace/routes.ts';
import { aggregate } from './aggregate.ts';
import { allMatching, orderByAttributes, pageById } from './order.ts';
import { isRecord, parseConsistency, parseTurbopufferQuery, RANKED_MAX, type Rank, type TurbopufferQuery } from './query-parse.ts';
import { scoreText } from './rank-text.ts';
import { limitPer, rowJson, sourceRows, turbopufferDist, type RowJson } from './rows.ts';
import { vectorAccess } from '../namespace/read.ts';
import { fuseRrf, parseRerank } from './rerank.ts';

/** Sub-queries of one multi-query, at most (turbopuffer's limit). */
export const MAX_QUERIES = 16;

// Sources × rows packed into one number for the heaps, as in query/executor.ts.
const ROW_SPACE = 2 ** 32;

interface Answer {
  rows?: RowJson[];
  aggregations?: Record<string, number>;
  aggregation_groups?: Array<Record<string, unknown>>;
}

/** The body of the query endpoint, single or multi, served from `ns`. */
export async function serveTurbopufferQuery(ns: ReadableNamespace, body: unknown, started: number, observer?: QueryObserver): Promise<object> {
  const multi = isRecord(body) && Object.hasOwn(body, 'queries');
  let kind: QueryKind;
  let result: object;
  if (multi) {
    kind = 'hybrid';
    result = { results: await multiQuery(ns, body) };
  } else {
    const q = parseTurbopufferQuery(body, ns.schema, ns.name);
    kind = q.filter ? 'filtered' : q.rank?.kind === 'text' ? 'text' : q.rank?.kind === 'vector' ? 'vector' : 'filtered';
    result = await runQuery(ns, q);
  }
  const took = tookMs(started);
  observer?.metrics.queryDuration.observe({ kind: observer.servedFromStorage ? 'served_from_storage' : kind }, took / 1000);
  const sources = ns.sources();
  return {
    ...result,
    billing: { billable_logical_bytes_queried: 0, billable_logical_bytes_returned: 0 },
    performance: {
      approx_namespace_size: ns.stats().documents,
      exhaustive_search_count: sources.filter((s) => !s.annSearch).reduce((n, s) => n + s.rowCount, 0),
      cache_hit_ratio: 1,
      cache_temperature: 'hot',
      query_execution_ms: took,
      server_total_ms: took,
    },
  };
}

/** True when the body asks for eventual consistency (so a recent local view may answer it). */
export function wantsEventual(body: unknown): boolean {
  if (!isRecord(body)) return false;
  try {
    return parseConsistency(body.consistency, 'consistency');
  } catch {
    return false; // the owner refuses it with the right message
  }
}

async function multiQuery(ns: ReadableNamespace, body: Record<string, unknown>): Promise<Answer[]> {
  const { queries } = body;
  for (const key of Object.keys(body)) {
    if (!['queries', 'rerank_by', 'consistency', 'vector_encoding'].includes(key)) {
      throw Errors.invalidQuery(key, 'unknown field of a multi-query; use queries, rerank_by, consistency, vector_encoding');
    }
  }
  if (!Array.isArray(queries) || queries.length === 0 || queries.length > MAX_QUERIES) {
    throw Errors.invalidQuery('queries', `must be a list of 1 to ${MAX_QUERIES} queries`);
  }
  parseConsistency(body.consistency, 'consistency');
  const parsed = queries.map((sub, i) => {
    const withShared = isRecord(sub) && body.vector_encoding !== undefined && sub.vector_encoding === undefined ? { ...sub, vector_encoding: body.vector_encoding } : sub;
    return parseTurbopufferQuery(withShared, ns.schema, ns.name, `queries[${i}].`);
  });
  const rerank = body.rerank_by === undefined ? null : parseRerank(body.rerank_by, parsed.length);
  const answers = await Promise.all(parsed.map((q) => runQuery(ns, q)));
  if (!rerank) return answers;
  const limit = Math.max(...parsed.map((q) => q.limit));
  return [{ rows: fuseRrf(answers.map((a) => a.rows ?? []), rerank, limit) }];
}

export async function runQuery(ns: ReadableNamespace, q: TurbopufferQuery): Promise<Answer> {
  const out: Answer = {};
  if (q.rank) out.rows = await rankRows(ns, q, q.rank);
  if (q.aggregates) Object.assign(out, aggregate(ns.sources(), q.filter, q.aggregates, q.groupBy, q.limit));
  return out;
}

async function rankRows(ns: ReadableNamespace, q: TurbopufferQuery, rank: Rank): Promise<RowJson[]> {
  const schema = ns.schema;
  if (rank.kind === 'vector' && !rank.exact) return annRows(ns, q, rank.vector);
  const sources = ns.sources();
  const attrsOf = (p: { source: RowSource; row: number }) => (q.per ? p.source.attributes(p.row) : {});
  if (rank.kind === 'vector') {
    const hits = await exactNeighbours(schema, sources, q.filter, rank.vector, q.per ? Number.MAX_SAFE_INTEGER : q.limit);
    return sourceRows(q, schema, limitPer(hits, attrsOf, q), (h) => turbopufferDist(schema.vector_metric, h.distance));
  }
  if (rank.kind === 'text') {
    const accept = (s: number) => {
      const source = sources[s]!;
      if (!q.filter) return (row: number) => source.isLive(row);
      const bits = new Uint8Array(source.rowCount);
      for (const row of matchingRows(source, q.filter)) bits[row] = 1;
      return (row: number) => bits[row] === 1;
    };
    const scores = await scoreText(rank.expr, schema, sources, accept);
    // Every scored row is kept only when per-value limits may skip some.
    const top = new TopK(q.per ? Number.MAX_SAFE_INTEGER : q.limit);
    scores.forEach((m, s) => {
      for (const [row, score] of m) if (score > 0) top.push(s * ROW_SPACE + row, score);
    });
    const ranked = top.sorted().map(({ key, score }) => ({ source: sources[Math.floor(key / ROW_SPACE)]!, row: key % ROW_SPACE, score }));
    return sourceRows(q, schema, limitPer(ranked, attrsOf, q), (h) => h.score);
  }
  const [first] = rank.keys;
  const picked = rank.keys.length === 1 && first!.attr === 'id' && !q.per
    ? pageById(sources, q.filter, first!.desc, q.limit)
    : limitPer(orderByAttributes(sources, q.filter, rank.keys), attrsOf, q);
  return sourceRows(q, schema, picked);
}

/** The `k` nearest live rows matching `filter`, compared with every one (kNN, and recall's truth). */
export async function exactNeighbours(schema: NamespaceSchema, sources: readonly RowSource[], filter: TurbopufferQuery['filter'], vector: Float32Array, k: number) {
  const qNorm = norm(vector);
  const top = new TopK(k);
  for (const [s, source] of sources.entries()) {
    const rows = allMatching([source], filter).map((p) => p.row);
    // An IVF segment reads the clusters holding the matching rows (through the cluster cache).
    const vectors = await vectorAccess(source, rows);
    for (const row of rows) {
      const off = vectors.offset(row);
      if (off < 0) continue;
      // Negated: TopK keeps the highest scores.
      top.push(s * ROW_SPACE + row, -distance(schema.vector_metric, vector, qNorm, vectors.data, off, source.vectorNorm(row)));
    }
  }
  return top.sorted().map(({ key, score }) => ({ source: sources[Math.floor(key / ROW_SPACE)]!, row: key % ROW_SPACE, distance: -score }));
}

/**
 * Silt's approximate search. With per-value limits it asks for more neighbours until enough
 * distinct values are found or the namespace has no more.
 */
export async function annRows(ns: ReadableNamespace, q: TurbopufferQuery, vector: Float32Array): Promise<RowJson[]> {
  const includeAttributes: ParsedQuery['includeAttributes'] = q.per || q.attributes === true ? true : q.attributes;
  for (let fetch = q.limit; ; fetch *= 4) {
    const hits = await ns.query({
      vector, topK: fetch, filter: q.filter, fullText: null, vectorWeight: 1, includeVector: q.vector, includeAttributes, ef: null, nprobe: null, consistency: 'strong',
    });
    const kept = limitPer(hits, (h) => h.attributes ?? {}, q);
    if (!q.per || kept.length >= q.limit || hits.length < fetch || fetch >= RANKED_MAX * 16) {
      return kept.map((h) => rowJson(q, h.id, turbopufferDist(ns.schema.vector_metric, h.distance!), h.attributes ?? {}, h.vector && h.vector.length > 0 ? h.vector : null));
    }
  }
}
