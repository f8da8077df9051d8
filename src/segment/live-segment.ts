// A segment as queries see it: the immutable reader plus a live-row bitmap. Rows die when a
// later write supersedes or deletes their id (the manifest's deletion list, then every WAL op
// applied since), so at most one live row exists per id across a namespace's sources.
import { nameRecord } from '../schema/records.ts';
import type { AttributeValue, DocId } from '../schema/types.ts';
import type { TextIndexView } from './text/index-view.ts';
import type { Candidates } from './ivf-search.ts';
import type { RowSource } from './row-source.ts';
import type { SegmentReader } from './reader.ts';

/** Filter results kept per segment (a bitmap of one byte per row each, plus matching rows). */
const MEMO_ENTRIES = 16;

export class LiveSegment implements RowSource {
  private readonly live: Uint8Array;
  private liveRows: number;
  private readonly textViews = new Map<string, TextIndexView | undefined>();
  private readonly memos = new Map<string, object>();
  private ranges: Map<string, { min: number | string; max: number | string; hasNull: boolean }> | null = null;

  constructor(readonly segmentId: string, readonly reader: SegmentReader, deletedRows: Iterable<number>) {
    this.live = new Uint8Array(reader.rows).fill(1);
    this.liveRows = reader.rows;
    for (const row of deletedRows) this.kill(row);
  }

  get rowCount(): number {
    return this.reader.rows;
  }

  get size(): number {
    return this.liveRows;
  }

  isLive(row: number): boolean {
    return this.live[row] === 1;
  }

  /** The live bitmap; callers must not modify it. */
  liveBitmap(): Uint8Array {
    return this.live;
  }

  kill(row: number): boolean {
    if (this.live[row] !== 1) return false;
    this.live[row] = 0;
    this.liveRows--;
    this.textViews.clear();
    return true;
  }

  /** Kills the row holding `id`, if it is live here. */
  killId(id: DocId): boolean {
    const row = this.reader.rowOfId(id);
    return row !== undefined && this.kill(row);
  }

  /** Live row of `id`, if any. */
  liveRowOf(id: DocId): number | undefined {
    const row = this.reader.rowOfId(id);
    return row !== undefined && this.live[row] === 1 ? row : undefined;
  }

  deadRows(): number[] {
    const out: number[] = [];
    for (let row = 0; row < this.live.length; row++) if (this.live[row] !== 1) out.push(row);
    return out;
  }

  id(row: number): DocId {
    return this.reader.id(row);
  }

  vectorOffset(row: number): number {
    return this.reader.vectorOffset(row);
  }

  vectorData(): Float32Array {
    return this.reader.vectorData();
  }

  vectorNorm(row: number): number {
    return this.reader.vectorNorm(row);
  }

  attributes(row: number): Record<string, AttributeValue> {
    return this.reader.attributes(row);
  }

  attributeReader(fields: ReadonlySet<string>): (row: number) => Record<string, AttributeValue> {
    const columns = [...fields].flatMap((name) => {
      const col = this.reader.column(name);
      return col ? [[name, col] as const] : [];
    });
    return (row) => {
      const out = nameRecord<AttributeValue>();
      for (const [name, col] of columns) {
        const v = col.value(row);
        if (v !== null) out[name] = v;
      }
      return out;
    };
  }

  memo<T extends object>(key: string, make: () => T): T {
    const hit = this.memos.get(key);
    if (hit) {
      // Refresh its place in the LRU order.
      this.memos.delete(key);
      this.memos.set(key, hit);
      return hit as T;
    }
    const value = make();
    this.memos.set(key, value);
    if (this.memos.size > MEMO_ENTRIES) this.memos.delete(this.memos.keys().next().value!);
    return value;
  }

  numericColumn(name: string) {
    return this.reader.column(name)?.numeric() ?? null;
  }

  columnRanges() {
    if (!this.ranges) {
      this.ranges = new Map();
      for (const [name, stats] of Object.entries(this.reader.meta.columns)) {
        // A column with no value at all stays unknown (conservative: never skipped for it).
        if (stats) this.ranges.set(name, stats);
      }
    }
    return this.ranges;
  }

  idOrder() {
    return this.reader.idOrder();
  }

  annThenFilter(query: Float32Array, wide: number, ef: number, keep: (row: number) => boolean) {
    return this.reader.searchThenFilter(query, wide, ef, keep);
  }

  loadVectors(): Promise<void> {
    return this.reader.loadVectors();
  }

  vectorsOf(rows: readonly number[]) {
    return this.reader.vectorsOf(rows);
  }

  get filtersInScan(): boolean {
    return this.reader.hasIvf;
  }

  annSearch(query: Float32Array, k: number, ef: number, accept?: (row: number) => boolean, nprobe?: number) {
    const filter = this.liveFilter(accept);
    return this.reader.hasIvf ? this.reader.search(query, k, ef, filter, nprobe) : this.reader.searchVector(query, k, ef, filter);
  }

  /** IVF segments: annSearch's code estimates, re-ranked with other segments' by annRerank. */
  get annCandidates(): ((query: Float32Array, k: number, ef: number, accept?: (row: number) => boolean, nprobe?: number, probe?: readonly number[]) => Promise<Candidates>) | undefined {
    if (!this.reader.hasIvf) return undefined;
    return (query, k, ef, accept, nprobe, probe) => this.reader.candidates(query, k, ef, this.liveFilter(accept), nprobe, probe);
  }

  ivfCentroids() {
    const c = this.reader.ivfCentroids();
    return c && { id: this.segmentId, ...c };
  }

  annRerank(query: Float32Array, k: number, rows: readonly number[], slots: readonly number[]) {
    return this.reader.rerank(query, k, rows, slots);
  }

  /** hnswlib calls a filter back into JS for every candidate: none when every row is live. */
  private liveFilter(accept: ((row: number) => boolean) | undefined): ((row: number) => boolean) | undefined {
    return accept ?? (this.liveRows < this.reader.rows ? (row: number) => this.live[row] === 1 : undefined);
  }

  /** Views are rebuilt after kills so their statistics count live rows only. */
  textIndex(field: string): TextIndexView | undefined {
    if (!this.textViews.has(field)) this.textViews.set(field, this.reader.textView(field, this.live));
    return this.textViews.get(field);
  }
}
