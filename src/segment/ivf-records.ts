// The float32 records of an IVF segment's rows (`ivf.vectors`, one CRC-checked record a slot,
// docs/segments.md): what a query re-ranks and what get, list and include_vector read. Read by
// range, nearby records coalesced (ivf-ranges.ts), all of one call's misses in parallel, and kept
// in the node's memory tier a page of RECORD_PAGE slots to an entry (RecordPage).
import { crc32 } from 'node:zlib';
import { Sections, SegmentCorruptError, type SectionEntry } from './format.ts';
import { recordBytes, type IvfCluster } from './ivf-directory.ts';
import { coalesce, type ReadRange } from './ivf-ranges.ts';
import type { PartCache } from './part-cache.ts';

/**
 * Records are cached a page of RECORD_PAGE consecutive slots to an entry (RecordPage), not one
 * entry each: a warm query re-ranks 400 rows, and 400 lookups under string keys in the node's LRU
 * took 0.41 ms (≈ 1 µs each: the key's concatenation and hash, the LRU's bookkeeping), about a
 * fifth of a warm 1M query's main-thread CPU (profiled). A query's candidates lie in its probed
 * clusters, whose slots are consecutive, so they share pages.
 */
export const RECORD_PAGE_BITS = 7;
const RECORD_PAGE = 1 << RECORD_PAGE_BITS;
/**
 * What a cached page costs besides its floats, measured: 50k 100-d records in pages of 1, 3 and 10
 * records in the memory tier raised RSS by 1,060–1,090, 1,340–1,370 and 710–900 bytes a page
 * besides the floats (two runs each), so a page is charged the most of those, rounded up. (A
 * record alone under its own key used to be charged 774 bytes besides its floats.)
 */
const RECORD_PAGE_OVERHEAD = 1400;

/**
 * Some of the records of one page of slots, immutable (a page that gains records is replaced,
 * so what the cache charges is always what it holds): `at[slot % RECORD_PAGE]` is 1 + the
 * record's place in `data` (dim floats each), 0 for a record not held.
 */
export class RecordPage {
  constructor(readonly at: Uint8Array, readonly data: Float32Array, readonly count: number) {}

  /** This page with `records` (slot → its dim × 4 bytes of floats) added; those it holds already are kept as they are. */
  with(records: ReadonlyArray<readonly [number, Uint8Array]>, dim: number): RecordPage {
    const at = this.at.slice();
    const added = records.filter(([slot]) => at[slot & (RECORD_PAGE - 1)] === 0);
    const data = new Float32Array((this.count + added.length) * dim);
    data.set(this.data);
    const bytes = new Uint8Array(data.buffer);
    added.forEach(([slot, vector], i) => {
      bytes.set(vector, (this.count + i) * dim * 4);
      at[slot & (RECORD_PAGE - 1)] = this.count + i + 1;
    });
    return new RecordPage(at, data, this.count + added.length);
  }

  get bytes(): number {
    return RECORD_PAGE_OVERHEAD + this.data.byteLength;
  }
}

const EMPTY_PAGE = new RecordPage(new Uint8Array(RECORD_PAGE), new Float32Array(0), 0);

/** One segment's records through the cache: its IvfIndex (ivf-reader.ts) holds one. */
export class IvfRecords {
  /** Records being read now, by slot, for a query that misses them meanwhile. */
  private readonly reading = new Map<number, Promise<Map<number, Uint8Array>>>();

  constructor(
    private readonly dim: number,
    /** Records in the section (slots 0..rows-1). */
    private readonly rows: number,
    private readonly entry: SectionEntry,
    private readonly read: ReadRange,
    private readonly cache: PartCache<IvfCluster | RecordPage>,
    /** The reader's own cache-key prefix. */
    private readonly prefix: string,
    private readonly recordGap: number,
  ) {}

  /**
   * The records of `slots`, as slots.length × dim floats in their order, through the cache's
   * record pages. The misses of one call are read together (one round of parallel
   * ranged reads); a slot another call is reading already is waited for, not read again.
   */
  async get(slots: readonly number[]): Promise<Float32Array> {
    const dim = this.dim;
    const out = new Float32Array(slots.length * dim);
    const misses = this.copyHits(slots, out);
    if (misses.length === 0) return out;
    const wanted = [...new Set(misses.map((i) => slots[i]!))];
    for (const slot of wanted) {
      if (!(slot < this.rows)) throw new SegmentCorruptError(Sections.ivfVectors, `slot ${slot} of ${this.rows}`);
    }
    const from = new Map<number, Promise<Map<number, Uint8Array>>>();
    const own = wanted.filter((slot) => {
      const reading = this.reading.get(slot);
      if (reading !== undefined) from.set(slot, reading);
      return reading === undefined;
    });
    if (own.length > 0) {
      const read = this.readRecords(own).then((records) => {
        this.keepRecords(records);
        return records;
      });
      for (const slot of own) {
        this.reading.set(slot, read);
        from.set(slot, read);
      }
      read.finally(() => {
        for (const slot of own) if (this.reading.get(slot) === read) this.reading.delete(slot);
      }).catch(() => {});
    }
    const done = new Map(await Promise.all([...new Set(from.values())].map(async (p) => [p, await p] as const)));
    const outBytes = new Uint8Array(out.buffer);
    for (const i of misses) outBytes.set(done.get(from.get(slots[i]!)!)!.get(slots[i]!)!, i * dim * 4);
    return out;
  }

  /**
   * Copies the cached records of `slots` into `out` (slot i at i × dim) without a promise each: a
   * warm query's 400, in heap order, not slot order, so each page is looked up in the cache once
   * a call and then kept here. Returns the indexes of the slots not cached.
   */
  private copyHits(slots: readonly number[], out: Float32Array): number[] {
    const dim = this.dim;
    const misses: number[] = [];
    const pages = new Map<number, RecordPage | null>();
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      const pageNo = slot >>> RECORD_PAGE_BITS;
      let page = pages.get(pageNo);
      if (page === undefined) {
        page = (this.cache.hit(this.pageKey(pageNo)) as RecordPage | undefined) ?? null;
        pages.set(pageNo, page);
      }
      const place = page === null ? 0 : page.at[slot & (RECORD_PAGE - 1)]!;
      if (place === 0) misses.push(i);
      else out.set(page!.data.subarray((place - 1) * dim, place * dim), i * dim);
    }
    return misses;
  }

  private pageKey(page: number): string {
    return `${this.prefix}r${page}`;
  }

  /** Adds records just read to their pages in the cache (each page replaced by one that holds them too). */
  private keepRecords(records: ReadonlyMap<number, Uint8Array>): void {
    const byPage = new Map<number, Array<[number, Uint8Array]>>();
    for (const [slot, vector] of records) {
      const page = slot >>> RECORD_PAGE_BITS;
      let list = byPage.get(page);
      if (list === undefined) byPage.set(page, (list = []));
      list.push([slot, vector]);
    }
    for (const [page, list] of byPage) {
      const key = this.pageKey(page);
      const kept = (this.cache.peek(key) as RecordPage | undefined) ?? EMPTY_PAGE;
      const next = kept.with(list, this.dim);
      if (next.count > kept.count) this.cache.set(key, next, next.bytes);
    }
  }

  /**
   * The records of the given slots, nearby ones coalesced into one ranged read, each CRC-checked:
   * views of the bytes read, which the pages and the caller copy (so none pins a run's buffer).
   */
  private async readRecords(slots: number[]): Promise<Map<number, Uint8Array>> {
    const { entry, dim } = this;
    const rb = recordBytes(dim);
    const runs = coalesce(slots, (slot) => slot * rb, (slot) => (slot + 1) * rb, this.recordGap);
    const name = Sections.ivfVectors;
    const out = new Map<number, Uint8Array>();
    await Promise.all(runs.map(async (run) => {
      const first = run[0]!;
      const length = (run[run.length - 1]! - first + 1) * rb;
      const bytes = await this.read(name, { offset: entry.offset + first * rb, length });
      if (bytes.byteLength !== length) throw new SegmentCorruptError(name, `expected ${length} bytes, got ${bytes.byteLength}`);
      for (const slot of run) {
        const at = (slot - first) * rb;
        const vector = bytes.subarray(at, at + dim * 4);
        if (crc32(vector) !== bytes.readUInt32LE(at + dim * 4)) throw new SegmentCorruptError(name, `record ${slot}: CRC mismatch`);
        out.set(slot, vector);
      }
    }));
    return out;
  }

  /** Forgets the cached pages (a key per RECORD_PAGE rows). */
  close(): void {
    for (let p = 0; p * RECORD_PAGE < this.rows; p++) this.cache.delete(this.pageKey(p));
  }
}
