// The in-memory tail: every acknowledged write not yet folded into a segment, in apply order.
// Rows are append-only; an upsert of an existing id kills the old row and appends a new one, so
// a row number is stable for the memtable's life (text postings refer to rows).
import type { AttributeValue, DocId, Document, NamespaceSchema } from '../schema/types.ts';
import { idKey } from '../schema/document.ts';
import { ownValue } from '../schema/records.ts';
import { norm } from '../segment/distance.ts';
import { createAnalyzer } from '../segment/text/analyzer.ts';
import { MemTextIndex } from '../segment/text/mem-index.ts';
import type { TextIndexView } from '../segment/text/index-view.ts';
import type { RowSource } from '../segment/row-source.ts';


const ATTRIBUTE_OVERHEAD = 64;
// Rows allocated by an empty tail. Small, since a node holds one tail per open namespace
// (1,024 × dim floats each was 512 KiB at 128-d); ensureCapacity doubles, so appends stay O(1).
const INITIAL_ROWS = 16;

export class Memtable implements RowSource {
  private ids: DocId[] = [];
  private seqs: number[] = [];
  private attrs: Record<string, AttributeValue>[] = [];
  private live = new Uint8Array(INITIAL_ROWS);
  private hasVector = new Uint8Array(INITIAL_ROWS);
  private norms = new Float32Array(INITIAL_ROWS);
  private vectors: Float32Array;
  private readonly idToRow = new Map<string, number>();
  private readonly text = new Map<string, MemTextIndex>();
  /** Deletes applied here, by id key: they shadow older sources until folded into segments. */
  private readonly tombstones = new Map<string, { id: DocId; seq: number }>();
  private liveRows = 0;
  private approxBytes = 0;

  constructor(private readonly schema: NamespaceSchema) {
    this.vectors = new Float32Array(INITIAL_ROWS * schema.vector_dim);
    for (const [name, attr] of Object.entries(schema.attributes)) {
      if (attr.full_text) this.text.set(name, new MemTextIndex(createAnalyzer(attr.full_text)));
    }
  }

  get rowCount(): number {
    return this.ids.length;
  }

  /** Live documents. */
  get size(): number {
    return this.liveRows;
  }

  get bytes(): number {
    return this.approxBytes;
  }

  isLive(row: number): boolean {
    return this.live[row] === 1;
  }

  id(row: number): DocId {
    return this.ids[row]!;
  }

  seq(row: number): number {
    return this.seqs[row]!;
  }

  vectorOffset(row: number): number {
    return this.hasVector[row] === 1 ? row * this.schema.vector_dim : -1;
  }

  vectorData(): Float32Array {
    return this.vectors;
  }

  vectorNorm(row: number): number {
    return this.norms[row]!;
  }

  attributes(row: number): Record<string, AttributeValue> {
    return this.attrs[row]!;
  }

  textIndex(field: string): TextIndexView | undefined {
    return this.text.get(field);
  }

  rowOf(id: DocId): number | undefined {
    return this.idToRow.get(idKey(id));
  }

  upsert(doc: Document, seq: number): void {
    this.kill(doc.id);
    this.tombstones.delete(idKey(doc.id));
    const row = this.ids.length;
    this.ensureCapacity(row + 1);
    this.ids.push(doc.id);
    this.seqs.push(seq);
    this.attrs.push(doc.attributes);
    this.live[row] = 1;
    const dim = this.schema.vector_dim;
    if (doc.vector) {
      this.vectors.set(doc.vector, row * dim);
      this.hasVector[row] = 1;
      this.norms[row] = norm(doc.vector);
    }
    for (const [field, index] of this.text) {
      const value = ownValue(doc.attributes, field);
      if (value !== undefined && value !== null) index.add(row, value as string | string[]);
    }
    this.idToRow.set(idKey(doc.id), row);
    this.liveRows++;
    this.approxBytes += (doc.vector ? dim * 4 : 0) + ATTRIBUTE_OVERHEAD;
  }

  delete(id: DocId, seq: number): boolean {
    this.tombstones.set(idKey(id), { id, seq });
    return this.kill(id);
  }

  /** True when the id was deleted here (so older sources must not show it). */
  isDeleted(id: DocId): boolean {
    return this.tombstones.has(idKey(id));
  }

  /** True when a write with seq > `seq` (upsert or delete) touched the id. */
  touchedAfter(id: DocId, seq: number): boolean {
    const key = idKey(id);
    const row = this.idToRow.get(key);
    if (row !== undefined && this.seqs[row]! > seq) return true;
    const t = this.tombstones.get(key);
    return t !== undefined && t.seq > seq;
  }

  /**
   * Where to cut the tail into pieces of about `pieceRows` live rows, in WAL order: the seqs
   * ending every piece but the last (which ends wherever the caller folds up to). Rows are in
   * apply order, so seqs ascend; a cut falls between two seqs, never inside one write.
   */
  cuts(pieceRows: number): number[] {
    const out: number[] = [];
    let rows = 0;
    let previous = -Infinity;
    for (let row = 0; row < this.ids.length; row++) {
      if (this.live[row] !== 1) continue;
      const seq = this.seqs[row]!;
      if (rows >= pieceRows && seq > previous) {
        out.push(previous);
        rows = 0;
      }
      rows++;
      previous = seq;
    }
    return out;
  }

  /** The live rows written after `afterSeq` up to `throughSeq`, as a segment build input (row order kept). */
  snapshot(afterSeq = -Infinity, throughSeq = Infinity): { ids: DocId[]; vectors: Float32Array; hasVector: Uint8Array; attributes: Record<string, AttributeValue>[]; maxSeq: number } {
    const dim = this.schema.vector_dim;
    const rows: number[] = [];
    for (let row = 0; row < this.ids.length; row++) {
      if (this.live[row] === 1 && this.seqs[row]! > afterSeq && this.seqs[row]! <= throughSeq) rows.push(row);
    }
    const vectors = new Float32Array(rows.length * dim);
    const hasVector = new Uint8Array(rows.length);
    let maxSeq = 0;
    rows.forEach((row, i) => {
      if (this.hasVector[row] === 1) {
        vectors.set(this.vectors.subarray(row * dim, row * dim + dim), i * dim);
        hasVector[i] = 1;
      }
      maxSeq = Math.max(maxSeq, this.seqs[row]!);
    });
    return { ids: rows.map((r) => this.ids[r]!), vectors, hasVector, attributes: rows.map((r) => this.attrs[r]!), maxSeq };
  }

  /**
   * A memtable holding only what was written after `seq` (rows and tombstones), under `schema`
   * (a superset of this one's after attributes were added: new full-text fields get an index).
   */
  retainAfter(seq: number, schema: NamespaceSchema = this.schema): Memtable {
    // Runs on the main thread at every flush commit over the rows written meanwhile (tens of
    // thousands under sustained ingest), so rows are copied as they are: no per-row vector
    // allocation, norm, id key or kill lookup (upsert() did all of that once).
    const fresh = new Memtable(schema);
    const dim = this.schema.vector_dim;
    const keep = (row: number) => this.live[row] === 1 && this.seqs[row]! > seq;
    const newRow = new Int32Array(this.ids.length).fill(-1);
    let kept = 0;
    for (let row = 0; row < this.ids.length; row++) if (keep(row)) kept++;
    fresh.ensureCapacity(kept);
    // Kept rows come in runs (after a flush: one, the suffix), each copied in one go.
    for (let from = 0; from < this.ids.length;) {
      if (!keep(from)) {
        from++;
        continue;
      }
      let to = from + 1;
      while (to < this.ids.length && keep(to)) to++;
      const at = fresh.ids.length;
      fresh.vectors.set(this.vectors.subarray(from * dim, to * dim), at * dim);
      fresh.norms.set(this.norms.subarray(from, to), at);
      fresh.hasVector.set(this.hasVector.subarray(from, to), at);
      fresh.live.fill(1, at, at + to - from);
      for (let row = from; row < to; row++) {
        const r = at + row - from;
        newRow[row] = r;
        fresh.ids.push(this.ids[row]!);
        fresh.seqs.push(this.seqs[row]!);
        fresh.attrs.push(this.attrs[row]!);
        if (fresh.text.size > 0) {
          for (const [field, index] of fresh.text) {
            const value = ownValue(this.attrs[row]!, field);
            if (value !== undefined && value !== null) index.add(r, value as string | string[]);
          }
        }
        fresh.approxBytes += (this.hasVector[row] === 1 ? dim * 4 : 0) + ATTRIBUTE_OVERHEAD;
      }
      fresh.liveRows += to - from;
      from = to;
    }
    for (const [key, row] of this.idToRow) {
      const r = newRow[row]!;
      if (r >= 0) fresh.idToRow.set(key, r);
    }
    for (const [key, t] of this.tombstones) if (t.seq > seq) fresh.tombstones.set(key, t);
    return fresh;
  }

  /** Dead rows waste memory and scan time; rebuild when they outnumber live ones. */
  shouldRebuild(): boolean {
    const dead = this.ids.length - this.liveRows;
    return dead > 10_000 && dead > this.liveRows;
  }

  /** A new memtable with only the live rows, in the same order. */
  rebuilt(): Memtable {
    return this.retainAfter(-1);
  }

  private kill(id: DocId): boolean {
    const key = idKey(id);
    const row = this.idToRow.get(key);
    if (row === undefined) return false;
    this.idToRow.delete(key);
    this.live[row] = 0;
    for (const index of this.text.values()) index.remove(row);
    this.liveRows--;
    return true;
  }

  private ensureCapacity(rows: number): void {
    if (rows <= this.live.length) return;
    const cap = Math.max(rows, this.live.length * 2);
    const grow = <T extends Uint8Array | Float32Array>(a: T, size: number): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.live = grow(this.live, cap);
    this.hasVector = grow(this.hasVector, cap);
    this.norms = grow(this.norms, cap);
    this.vectors = grow(this.vectors, cap * this.schema.vector_dim);
  }
}

