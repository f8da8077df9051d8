// What the query executor reads from a set of rows: the in-memory tail or a segment (with its
// deletions applied). Row numbers are local to the source.
import type { AttributeValue, DocId } from '../schema/types.ts';
import type { TextIndexView } from './text/index-view.ts';
import type { Candidates } from './ivf-search.ts';
import type { RankClusters, RankDirectory } from './ivf-centroids.ts';

export interface RowSource {
  readonly rowCount: number;
  isLive(row: number): boolean;
  id(row: number): DocId;
  /** Offset of the row's vector in vectorData(), or -1 when the row has no vector. */
  vectorOffset(row: number): number;
  vectorData(): Float32Array;
  vectorNorm(row: number): number;
  attributes(row: number): Record<string, AttributeValue>;
  textIndex(field: string): TextIndexView | undefined;
  /**
   * Reads only the named attributes of a row, for filters: cheaper than attributes(row) when a
   * source stores columns. Absent: the executor uses attributes(row).
   */
  attributeReader?(fields: ReadonlySet<string>): (row: number) => Record<string, AttributeValue>;
  /**
   * Caches a value computed from the source's immutable rows (e.g. a filter's match bitmap),
   * like Elasticsearch's per-segment query cache. Sources whose rows change leave this undefined.
   */
  memo?<T extends object>(key: string, make: () => T): T;
  /** Values and presence bits (bit i of byte i>>3) of a numeric column, when stored as one. */
  numericColumn?(name: string): { values: Float64Array; present: Uint8Array } | null;
  /** Per-attribute [min, max] over the source's rows, for skipping it under a filter. */
  columnRanges?(): Map<string, { min: number | string; max: number | string; hasNull: boolean }>;
  /**
   * Rows in id order (u64 ids ascending, then string ids by UTF-8 bytes), dead ones included:
   * `rowInIdOrder(i)` for i in [0, rowCount), and the first position after an id. Sources that keep no
   * such order (the in-memory tail) leave this undefined.
   */
  idOrder?(): { rowInIdOrder(i: number): number; positionAfter(id: DocId, inclusive: boolean): number };
  /**
   * Approximate nearest neighbours through the source's vector index, among rows `accept` allows
   * (without it, among the live rows), with exact distances. Sources without an index (the
   * in-memory tail) leave this undefined.
   */
  /**
   * The index's `wide` nearest rows (no filter during the graph search), then those `keep`
   * allows, with exact distances. Present exactly when annSearch is.
   */
  annThenFilter?(query: Float32Array, wide: number, ef: number, keep: (row: number) => boolean): { rows: number[]; distances: number[] };
  annSearch?(query: Float32Array, k: number, ef: number, accept?: (row: number) => boolean, nprobe?: number):
    { rows: number[]; distances: number[] } | Promise<{ rows: number[]; distances: number[] }>;
  /**
   * IVF segments: annSearch before its exact re-rank, the best code estimates among the rows
   * `accept` allows (the live rows without it), so that a query re-ranks once across segments.
   */
  annCandidates?(query: Float32Array, k: number, ef: number, accept?: (row: number) => boolean, nprobe?: number, probe?: readonly number[]): Promise<Candidates>;
  /**
   * IVF segments: the centroids, ranked with other segments' to choose a query's probes across
   * them, and the segment's id, which orders segments (ties) the same wherever probes are chosen.
   */
  ivfCentroids?(): { id: string; dir: RankDirectory; rank: RankClusters } | null;
  /** The k nearest of rows from annCandidates, with exact distances. Present exactly when annCandidates is. */
  annRerank?(query: Float32Array, k: number, rows: readonly number[], slots: readonly number[]): Promise<{ rows: number[]; distances: number[] }>;
  /** Sources that read vectors on demand (IVF segments): call before vectorData()/vectorOffset(). */
  loadVectors?(): Promise<void>;
  /** Sources that read vectors on demand: the given rows' vectors only (data + offset(row)). */
  vectorsOf?(rows: readonly number[]): Promise<{ data: Float32Array; offset(row: number): number }>;
  /** The index applies a filter while it scans (IVF), so annThenFilter would gain nothing. */
  readonly filtersInScan?: boolean;
}
