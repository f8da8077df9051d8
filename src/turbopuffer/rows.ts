// The rows of a turbopuffer answer: `{id, $dist?, ...attributes, vector?}`. turbopuffer's $dist
// is Silt's distance for cosine (1 − cos) and its square for euclidean_squared (Silt's l2 is the
// Euclidean distance); for BM25 it is the score. A vector is a list of floats, or base64 of
// little-endian float32 when vector_encoding is "base64".
import { idToJson } from '../schema/document.ts';
import type { DocId, NamespaceSchema, VectorMetric } from '../schema/types.ts';
import type { RowSource } from '../segment/row-source.ts';
import { vectorAccess, type RowVectors } from '../namespace/read.ts';
import type { TurbopufferQuery } from './query-parse.ts';

export type RowJson = { id: number | string; $dist?: number } & Record<string, unknown>;

/** turbopuffer's $dist from Silt's distance (segment/distance.ts). */
export function turbopufferDist(metric: VectorMetric, siltDistance: number): number {
  return metric === 'l2' ? siltDistance * siltDistance : siltDistance;
}

export function encodeVector(v: ArrayLike<number>, encoding: 'float' | 'base64'): number[] | string {
  if (encoding === 'float') return Array.from(v);
  const f = Float32Array.from(v);
  // Little-endian on every platform Node runs on; DataView would say so explicitly at a cost per element.
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64');
}

/** A row from its id, distance, attributes and vector, projected as the query asked. */
export function rowJson(q: TurbopufferQuery, id: DocId | number | string, dist: number | undefined, attrs: Record<string, unknown>, vector: ArrayLike<number> | null): RowJson {
  const out: RowJson = { id: typeof id === 'bigint' || typeof id === 'string' ? idToJson(id as DocId) : id };
  if (dist !== undefined) out.$dist = dist;
  const names = q.attributes === true ? Object.keys(attrs) : q.attributes;
  for (const name of names) if (Object.hasOwn(attrs, name) && attrs[name] !== null) out[name] = attrs[name];
  if (q.vector && vector) out.vector = encodeVector(vector, q.vectorEncoding);
  return out;
}

/** The row `row` of `source`; `vectors` holds its vector when the query returns vectors. */
function sourceRow(q: TurbopufferQuery, schema: NamespaceSchema, source: RowSource, row: number, dist: number | undefined, vectors: RowVectors | undefined): RowJson {
  const wantsAttrs = q.attributes === true || q.attributes.length > 0;
  const off = vectors ? vectors.offset(row) : -1;
  const vector = off < 0 ? null : vectors!.data.subarray(off, off + schema.vector_dim);
  return rowJson(q, source.id(row), dist, wantsAttrs ? source.attributes(row) : {}, vector);
}

/**
 * The picked rows as turbopuffer rows, in order. A Promise: with `include_vector`, the vectors
 * of the picked rows are read first (an IVF segment reads just their clusters).
 */
export async function sourceRows<T extends { source: RowSource; row: number }>(
  q: TurbopufferQuery, schema: NamespaceSchema, picks: readonly T[], dist: (p: T) => number | undefined = () => undefined,
): Promise<RowJson[]> {
  const vectors = new Map<RowSource, RowVectors>();
  if (q.vector) {
    const bySource = new Map<RowSource, number[]>();
    for (const p of picks) bySource.set(p.source, [...(bySource.get(p.source) ?? []), p.row]);
    for (const [source, rows] of bySource) vectors.set(source, await vectorAccess(source, rows));
  }
  return picks.map((p) => sourceRow(q, schema, p.source, p.row, dist(p), vectors.get(p.source)));
}

/** Keeps at most `per.limit` rows per distinct value of `per.attributes`, in order, up to `limit`. */
export function limitPer<T>(rows: Iterable<T>, attrsOf: (r: T) => Record<string, unknown>, q: TurbopufferQuery): T[] {
  const out: T[] = [];
  const counts = new Map<string, number>();
  for (const r of rows) {
    if (out.length >= q.limit) break;
    if (q.per) {
      const attrs = attrsOf(r);
      const key = JSON.stringify(q.per.attributes.map((a) => attrs[a] ?? null));
      const n = counts.get(key) ?? 0;
      if (n >= q.per.limit) continue;
      counts.set(key, n + 1);
    }
    out.push(r);
  }
  return out;
}
