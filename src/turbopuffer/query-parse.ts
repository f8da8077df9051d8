// Parses the body of POST /v2/namespaces/:ns/query (one query of a multi-query too) into a
// checked plan: how to rank, what to keep, what to return. Every refusal is a 400 naming the
// field, as turbopuffer's client shows it.
import { Errors } from '../errors.ts';
import type { NamespaceSchema } from '../schema/types.ts';
import { parseVector } from '../schema/document.ts';
import { ownValue } from '../schema/records.ts';
import { FilterError, type CompiledFilter } from '../query/filter/index.ts';
import { collectFields, compileNode } from '../query/filter/compile.ts';
import { parseTurbopufferFilter } from './filters.ts';
import { parseTextRank, type TextExpr } from './rank-text.ts';

export type Rank =
  /** exact: kNN (every row compared); otherwise Silt's ANN (HNSW per segment, the tail exhaustively). */
  | { kind: 'vector'; exact: boolean; vector: Float32Array }
  | { kind: 'text'; expr: TextExpr }
  | { kind: 'order'; keys: OrderKey[] };

export interface OrderKey {
  attr: string;
  desc: boolean;
}

export type Aggregate = { kind: 'count'; attr: string | null } | { kind: 'sum'; attr: string };

export interface TurbopufferQuery {
  rank: Rank | null;
  filter: CompiledFilter | null;
  limit: number;
  /** At most `limit` rows per distinct value of `attributes`. */
  per: { attributes: string[]; limit: number } | null;
  /** Attributes returned beside id (and $dist): every one, or the names. */
  attributes: true | string[];
  vector: boolean;
  vectorEncoding: 'float' | 'base64';
  aggregates: Record<string, Aggregate> | null;
  groupBy: string[] | null;
  eventual: boolean;
}

/** top_k of ranked queries (ANN, kNN, BM25), as turbopuffer documents it; default 10. */
export const RANKED_MAX = 1200;
/**
 * Rows of one page ordered by attribute. turbopuffer caps these at 1,200 too; Silt pages by id
 * at any depth and bounds only the size of one answer.
 */
export const ORDERED_MAX = 100_000;
const DEFAULT_LIMIT = 10;

const KEYS = [
  'rank_by', 'filters', 'top_k', 'limit', 'include_attributes', 'exclude_attributes', 'vector_encoding',
  'aggregate_by', 'group_by', 'consistency', 'distance_metric',
];

const bad = Errors.invalidQuery;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The metric turbopuffer names for the namespace's (`dot` has no turbopuffer name). */
export function turbopufferMetric(schema: NamespaceSchema): string {
  return schema.vector_metric === 'cosine' ? 'cosine_distance' : schema.vector_metric === 'l2' ? 'euclidean_squared' : 'dot_product';
}

export function parseTurbopufferQuery(body: unknown, schema: NamespaceSchema, ns: string, path = ''): TurbopufferQuery {
  const at = (key: string) => `${path}${key}`;
  if (!isRecord(body)) throw bad(path || 'body', 'must be a JSON object');
  for (const key of Object.keys(body)) {
    if (!KEYS.includes(key)) throw bad(at(key), `unknown field; supported fields are ${KEYS.join(', ')}`);
  }
  if (body.distance_metric !== undefined && body.distance_metric !== turbopufferMetric(schema)) {
    throw bad(at('distance_metric'), `namespace '${ns}' uses ${turbopufferMetric(schema)}; omit distance_metric or give that one`);
  }
  const rank = body.rank_by === undefined ? null : parseRank(body.rank_by, schema, ns, at('rank_by'));
  const aggregates = body.aggregate_by === undefined ? null : parseAggregates(body.aggregate_by, schema, at('aggregate_by'));
  if (!rank && !aggregates) throw bad(at('rank_by'), 'give rank_by (e.g. ["vector", "ANN", [...]] or ["id", "asc"]) or aggregate_by');
  let groupBy: string[] | null = null;
  if (body.group_by !== undefined) {
    if (!aggregates) throw bad(at('group_by'), 'group_by groups the results of aggregate_by; give aggregate_by too');
    if (!Array.isArray(body.group_by) || body.group_by.length === 0) throw bad(at('group_by'), 'must be a non-empty list of attribute names');
    groupBy = body.group_by.map((a, i) => attributeName(a, schema, at(`group_by[${i}]`)));
  }
  const { limit, per } = parseLimit(body, rank, at);
  const { attributes, vector } = parseProjection(body, schema, at);
  const encoding = body.vector_encoding ?? 'float';
  if (encoding !== 'float' && encoding !== 'base64') throw bad(at('vector_encoding'), 'must be "float" or "base64"');
  return {
    rank, filter: parseFilters(body.filters, schema, at('filters')), limit, per, attributes, vector, vectorEncoding: encoding,
    aggregates, groupBy, eventual: parseConsistency(body.consistency, at('consistency')),
  };
}

export function parseConsistency(raw: unknown, path: string): boolean {
  if (raw === undefined) return false;
  if (!isRecord(raw) || Object.keys(raw).some((k) => k !== 'level') || (raw.level !== undefined && raw.level !== 'strong' && raw.level !== 'eventual')) {
    throw bad(path, 'must be {"level": "strong"} or {"level": "eventual"}');
  }
  return raw.level === 'eventual';
}

export function parseFilters(raw: unknown, schema: NamespaceSchema, path: string): CompiledFilter | null {
  if (raw === undefined || raw === null) return null;
  try {
    const ast = parseTurbopufferFilter(raw, schema, path);
    return { match: compileNode(ast), fields: collectFields(ast), ast };
  } catch (e) {
    if (e instanceof FilterError) throw Errors.invalidFilter(e.message);
    throw e;
  }
}

function parseRank(raw: unknown, schema: NamespaceSchema, ns: string, path: string): Rank {
  if (!Array.isArray(raw) || raw.length === 0) throw bad(path, 'expected e.g. ["vector", "ANN", [...]], ["text", "BM25", "query"] or ["id", "asc"]');
  if (raw.length === 2 && (raw[1] === 'asc' || raw[1] === 'desc')) return { kind: 'order', keys: [orderKey(raw, schema, path)] };
  if (raw.every((k) => Array.isArray(k) && k.length === 2 && (k[1] === 'asc' || k[1] === 'desc'))) {
    return { kind: 'order', keys: raw.map((k, i) => orderKey(k as unknown[], schema, `${path}[${i}]`)) };
  }
  if (raw.length === 3 && (raw[1] === 'ANN' || raw[1] === 'kNN')) {
    if (raw[0] !== 'vector') throw bad(`${path}[0]`, `namespace '${ns}' has one vector attribute, "vector"`);
    if (Array.isArray(raw[2]) && Array.isArray(raw[2][0])) throw bad(`${path}[2]`, 'several query vectors in one rank_by are not supported; send one query per vector in a multi-query');
    return { kind: 'vector', exact: raw[1] === 'kNN', vector: parseVector(queryVector(raw[2], `${path}[2]`), schema, ns, `${path}[2]`) };
  }
  return { kind: 'text', expr: parseTextRank(raw, schema, path) };
}

/** A query vector: numbers, or base64 of little-endian float32 (as vector_encoding writes them). */
function queryVector(raw: unknown, path: string): unknown {
  if (typeof raw !== 'string') return raw;
  const bytes = Buffer.from(raw, 'base64');
  if (bytes.length % 4 !== 0) throw bad(path, 'a base64 vector must hold little-endian float32 values (a multiple of 4 bytes)');
  return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
}

function orderKey(raw: unknown[], schema: NamespaceSchema, path: string): OrderKey {
  const [attr, dir] = raw;
  if (attr === 'id') return { attr, desc: dir === 'desc' };
  const name = attributeName(attr, schema, `${path}[0]`);
  const type = schema.attributes[name]!.type;
  if (type.startsWith('array<')) throw bad(`${path}[0]`, `'${name}' is ${type}; order by id or a scalar attribute`);
  return { attr: name, desc: dir === 'desc' };
}

function attributeName(raw: unknown, schema: NamespaceSchema, path: string): string {
  if (typeof raw !== 'string' || ownValue(schema.attributes, raw) === undefined) {
    throw bad(path, `no attribute ${JSON.stringify(raw)}; attributes are ${Object.keys(schema.attributes).join(', ') || 'none'}`);
  }
  return raw;
}

function parseLimit(body: Record<string, unknown>, rank: Rank | null, at: (k: string) => string) {
  if (body.top_k !== undefined && body.limit !== undefined) throw bad(at('limit'), 'give top_k or limit, not both');
  const max = rank?.kind === 'order' ? ORDERED_MAX : RANKED_MAX;
  const count = (v: unknown, path: string, top: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > top) throw bad(path, `must be an integer from 0 to ${top}`);
    return v;
  };
  if (body.limit === undefined || typeof body.limit === 'number') {
    const raw = body.limit ?? body.top_k;
    return { limit: raw === undefined ? DEFAULT_LIMIT : count(raw, at(body.limit === undefined ? 'top_k' : 'limit'), max), per: null };
  }
  const l = body.limit;
  if (!isRecord(l) || Object.keys(l).some((k) => k !== 'total' && k !== 'per')) throw bad(at('limit'), 'must be a number or {"total": n, "per": {"attributes": [...], "limit": n}}');
  const limit = count(l.total, at('limit.total'), max);
  if (l.per === undefined) return { limit, per: null };
  const p = l.per;
  if (!isRecord(p) || !Array.isArray(p.attributes) || p.attributes.length === 0 || Object.keys(p).some((k) => k !== 'attributes' && k !== 'limit')) {
    throw bad(at('limit.per'), 'must be {"attributes": [names], "limit": n}');
  }
  const attributes = p.attributes.map((a, i) => {
    if (typeof a !== 'string') throw bad(at(`limit.per.attributes[${i}]`), 'must be an attribute name');
    return a;
  });
  return { limit, per: { attributes, limit: count(p.limit, at('limit.per.limit'), max) } };
}

function parseProjection(body: Record<string, unknown>, schema: NamespaceSchema, at: (k: string) => string): { attributes: true | string[]; vector: boolean } {
  const names = (raw: unknown, key: string): string[] => {
    if (!Array.isArray(raw)) throw bad(at(key), 'must be true, false or a list of attribute names');
    return raw.map((a, i) => {
      if (a === 'id' || a === 'vector') return a;
      return attributeName(a, schema, at(`${key}[${i}]`));
    });
  };
  const inc = body.include_attributes;
  const exc = body.exclude_attributes;
  if (exc !== undefined) {
    if (inc !== undefined && inc !== true) throw bad(at('exclude_attributes'), 'give include_attributes or exclude_attributes, not both');
    const dropped = new Set(names(exc, 'exclude_attributes'));
    return { attributes: Object.keys(schema.attributes).filter((a) => !dropped.has(a)), vector: !dropped.has('vector') };
  }
  if (inc === undefined || inc === false) return { attributes: [], vector: false };
  if (inc === true) return { attributes: true, vector: true };
  const listed = names(inc, 'include_attributes');
  return { attributes: listed.filter((a) => a !== 'id' && a !== 'vector'), vector: listed.includes('vector') };
}

function parseAggregates(raw: unknown, schema: NamespaceSchema, path: string): Record<string, Aggregate> {
  if (!isRecord(raw) || Object.keys(raw).length === 0) throw bad(path, 'must be an object of name → ["Count"], ["Count", attr] or ["Sum", attr]');
  const out: Record<string, Aggregate> = {};
  for (const [name, spec] of Object.entries(raw)) {
    const p = `${path}.${name}`;
    if (!Array.isArray(spec)) throw bad(p, 'expected ["Count"], ["Count", attr] or ["Sum", attr]');
    if (spec[0] === 'Count' && spec.length === 1) out[name] = { kind: 'count', attr: null };
    else if (spec[0] === 'Count' && spec.length === 2) out[name] = { kind: 'count', attr: spec[1] === 'id' ? null : attributeName(spec[1], schema, `${p}[1]`) };
    else if (spec[0] === 'Sum' && spec.length === 2) {
      const attr = attributeName(spec[1], schema, `${p}[1]`);
      const type = schema.attributes[attr]!.type;
      if (type !== 'integer' && type !== 'float') throw bad(`${p}[1]`, `'${attr}' is ${type}; Sum adds integer and float attributes`);
      out[name] = { kind: 'sum', attr };
    } else throw bad(p, 'expected ["Count"], ["Count", attr] or ["Sum", attr]');
  }
  return out;
}
