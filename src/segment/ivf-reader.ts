// A segment's IVF index as a reader holds it: the directory (read at open), codes blocks read on
// demand, each by one ranged read of `ivf.codes`, and the float32 records of the rows a query
// re-ranks (or get, list, include_vector ask for), read by range from `ivf.vectors`
// (ivf-records.ts). Both go through the store's cache wrapper (storage/cached.ts) and are kept
// decoded in one memory cache bounded by bytes: a warm query reads nothing. A merge streams
// every cluster once, a run at a time, past the cache (streamClusters).
// Segments of the older `blocks` layout (ivf.ts) re-rank from their probed blocks. How reads
// are grouped into ranged GETs: ivf-ranges.ts.
import { crc32 } from 'node:zlib';
import type { VectorMetric } from '../schema/types.ts';
import { Sections, SegmentCorruptError, verifySection, type SectionEntry } from './format.ts';
import { decodeCluster, IvfVectors, recordBytes, type IvfCluster, type IvfDirectory } from './ivf-directory.ts';
import { ivfCandidates, nprobeOfEf, rerankExact, searchIvf, type Candidates, type RerankVectors, type ScanClusters } from './ivf-search.ts';
import { nearestAcross, type RankClusters } from './ivf-centroids.ts';
import type { Neighbours, VectorAccess } from './vector-search.ts';
import { sharedCopy } from './scan-pool.ts';
import { lruPartCache, type PartCache } from './part-cache.ts';
import { IvfRecords, type RecordPage } from './ivf-records.ts';
import { batcher, coalesce, CODES_GAP_BYTES, RECORDS_GAP_BYTES, type PrefetchedBlocks, type ReadRange } from './ivf-ranges.ts';

const NONE_SLOT = 0xffffffff;

/** What the IVF cache holds: decoded codes blocks, and pages of rows' float32 vectors. */
export type IvfCacheEntry = IvfCluster | RecordPage;

/** Where decoded blocks and records are kept (part-cache.ts). */
export type ClusterCache = PartCache<IvfCacheEntry>;

/**
 * The cluster cache of readers opened without one (tests, benches, tools): the node passes its
 * memory tier's (main.ts, through ReaderOptions), so that two servers in one process share nothing.
 */
const defaultClusters: ClusterCache = lruPartCache<IvfCacheEntry>(256 * 2 ** 20);

/** Where a reader's code scans run (the node's query pool); this thread when absent. */
export interface CodeScans {
  readonly scan: ScanClusters;
  readonly rank?: RankClusters;
}

let nextReader = 0;

/** The sections an IVF index reads after its directory: blocks, (apart layout) records, and the rows' norms and slots when apart from the directory. */
export interface IvfSections {
  blocks: SectionEntry;
  vectors: SectionEntry | null;
  rows?: SectionEntry | null;
}

export class IvfIndex {
  private vectors: IvfVectors | null = null;
  private loading: Promise<IvfVectors> | null = null;
  private loadingRows: Promise<void> | null = null;
  /** Unique per reader: cache keys never collide across segments. */
  private readonly prefix = `ivf${nextReader++}/`;
  private readonly blocksName: string;
  /** The `apart` layout's records (null for the older `blocks` layout). */
  private readonly records: IvfRecords | null;

  constructor(
    readonly dir: IvfDirectory,
    private readonly sections: IvfSections,
    private readonly read: ReadRange,
    private readonly cache: ClusterCache = defaultClusters,
    private readonly scans: CodeScans | null = null,
    /** Blocks a cold first query asked for with the open; used once by the first search. */
    private prefetched: PrefetchedBlocks | null = null,
    recordGap: number = RECORDS_GAP_BYTES,
  ) {
    this.blocksName = dir.layout === 'apart' ? Sections.ivfCodes : Sections.ivfClusters;
    this.records = sections.vectors === null ? null : new IvfRecords(dir.dim, dir.vectorRows, sections.vectors, read, cache, this.prefix, recordGap);
  }

  /** The loaded vectors, or null before loadVectors(). */
  get loaded(): IvfVectors | null {
    return this.vectors;
  }

  search(metric: VectorMetric, query: Float32Array, k: number, ef: number, accept?: (row: number) => boolean, nprobe?: number): Promise<Neighbours> {
    return searchIvf(this.dir, (cs) => this.clusters(cs), (rows, slots) => this.recordsAt(rows, slots), query,
      { metric, k, nprobe: nprobe ?? nprobeOfEf(ef), accept, scan: this.scans?.scan })
      .finally(() => { this.prefetched = null; });
  }

  /** The query's best code estimates in this segment, to be re-ranked with others' (executor.ts). */
  candidates(metric: VectorMetric, query: Float32Array, k: number, ef: number, accept?: (row: number) => boolean, nprobe?: number, probe?: readonly number[]): Promise<Candidates> {
    return ivfCandidates(this.dir, (cs) => this.clusters(cs), query,
      { metric, k, nprobe: nprobe ?? nprobeOfEf(ef), accept, scan: this.scans?.scan, probe })
      .finally(() => { this.prefetched = null; });
  }

  /** Where this segment's clusters are ranked with others' (nearestAcross: the query pool's, else this thread). */
  get rank(): RankClusters {
    return this.scans?.rank ?? nearestAcross;
  }

  /** The k nearest of the given candidate rows (at the given slots), by exact distance from their float32 records. */
  async rerank(metric: VectorMetric, query: Float32Array, k: number, rows: readonly number[], slots: readonly number[]): Promise<Neighbours> {
    return rerankExact(this.dir, await this.recordsAt(rows, slots), metric, query, k, rows);
  }

  /**
   * The norms and slots of every row (`ivf.rows`, read whole and CRC-checked, kept until the
   * reader closes): what a lookup by row number needs. A search does without (ivf.ts).
   */
  loadRows(): Promise<void> {
    if (this.dir.rowsLoaded) return Promise.resolve();
    this.loadingRows ??= (async () => {
      const entry = this.sections.rows;
      if (!entry) throw new SegmentCorruptError(Sections.ivfRows, 'the directory says its rows are apart, the segment has no such section');
      const bytes = await verifySection(Sections.ivfRows, entry, await this.read(Sections.ivfRows, { offset: entry.offset, length: entry.length }));
      try {
        if (!this.dir.rowsLoaded) this.dir.attachRows(sharedCopy(bytes));
      } catch (e) {
        throw new SegmentCorruptError(Sections.ivfRows, (e as Error).message);
      }
    })().finally(() => { this.loadingRows = null; });
    return this.loadingRows;
  }

  /** Every row's vector, read as the whole section (CRC-checked) and kept until the reader closes. */
  loadVectors(): Promise<IvfVectors> {
    if (this.vectors !== null) return Promise.resolve(this.vectors);
    this.loading ??= (async () => {
      await this.loadRows();
      const [name, entry] = this.sections.vectors === null
        ? [this.blocksName, this.sections.blocks] : [Sections.ivfVectors, this.sections.vectors];
      const bytes = await verifySection(name, entry, await this.read(name, { offset: entry.offset, length: entry.length }));
      try {
        this.vectors = new IvfVectors(this.dir, bytes);
      } catch (e) {
        throw new SegmentCorruptError(name, (e as Error).message);
      }
      return this.vectors;
    })().finally(() => { this.loading = null; });
    return this.loading;
  }

  /**
   * The vectors of the given rows only, as a compact copy: what a query re-ranks and what get,
   * list and include_vector need, without the whole section.
   */
  async vectorsOf(rows: readonly number[]): Promise<VectorAccess> {
    if (this.vectors !== null) return this.vectors;
    await this.loadRows();
    const { dir } = this;
    const wanted = [...new Set(rows)].filter((r) => dir.slotOf[r] !== NONE_SLOT);
    const found = dir.layout === 'blocks' ? await this.fromBlocks(wanted) : await this.records!.get(wanted.map((r) => dir.slotOf[r]!));
    const { data, offset, has } = compact(wanted, found, dir.dim);
    return { rows: dir.rows, data, norms: dir.norms, offset, has };
  }

  /**
   * The vectors of candidate rows whose slots the scan gave: their records, without the rows'
   * slots (`ivf.rows`), which a search never reads. Segments of the `blocks` layout hold the
   * slots in their directory.
   */
  private async recordsAt(rows: readonly number[], slots: readonly number[]): Promise<RerankVectors> {
    if (this.vectors !== null || this.dir.layout === 'blocks') return this.vectorsOf(rows);
    return compact(rows, await this.records!.get(slots), this.dir.dim);
  }

  /** `blocks` layout: each row's vector from its cluster's block, rows.length × dim floats in their order. */
  private async fromBlocks(rows: readonly number[]): Promise<Float32Array> {
    const { dir } = this;
    const cs = [...new Set(rows.map((r) => dir.clusterOfSlot(dir.slotOf[r]!)))];
    const blocks = new Map((await this.clusters(cs)).map((b, i) => [cs[i]!, b]));
    const out = new Float32Array(rows.length * dir.dim);
    rows.forEach((row, i) => {
      const slot = dir.slotOf[row]!;
      const c = dir.clusterOfSlot(slot);
      const p = (slot - dir.slotStart[c]!) * dir.dim;
      out.set(blocks.get(c)!.vectors!.subarray(p, p + dir.dim), i * dir.dim);
    });
    return out;
  }

  /**
   * Every cluster once, in storage order, a run of whole clusters at a time (at most `maxRows`
   * rows a run, unless one cluster alone is larger): each cluster's codes block and its rows'
   * float32 vectors, by two ranged reads a run, past the cache. What a merge reads: caching it
   * would push out every block and row that queries use (a million entries for a 1M segment),
   * and a run at a time bounds what it holds, whatever the segment's size.
   */
  async *streamClusters(maxRows: number): AsyncGenerator<StreamedCluster[]> {
    const { dir } = this;
    const rb = recordBytes(dir.dim);
    for (let first = 0; first < dir.clusters;) {
      let end = first + 1;
      while (end < dir.clusters && dir.slotStart[end + 1]! - dir.slotStart[first]! <= maxRows) end++;
      const blocks = await this.readBlocks(Array.from({ length: end - first }, (_, i) => first + i));
      let records: Buffer | null = null;
      const fromSlot = dir.slotStart[first]!;
      if (dir.layout === 'apart') {
        const entry = this.sections.vectors!;
        const length = (dir.slotStart[end]! - fromSlot) * rb;
        records = await this.read(Sections.ivfVectors, { offset: entry.offset + fromSlot * rb, length });
        if (records.byteLength !== length) throw new SegmentCorruptError(Sections.ivfVectors, `expected ${length} bytes, got ${records.byteLength}`);
      }
      const run: StreamedCluster[] = [];
      for (let c = first; c < end; c++) {
        const block = blocks.get(c)!;
        run.push({ cluster: c, block, vectors: block.vectors ?? vectorsOfRecords(records!, dir.slotStart[c]! - fromSlot, dir.size(c), dir.dim) });
      }
      yield run;
      first = end;
    }
  }

  /** The blocks of the given clusters, from the loaded section (blocks layout) or the cache, misses read together. */
  private clusters(cs: readonly number[]): Promise<IvfCluster[]> {
    const whole = this.dir.layout === 'blocks' ? this.vectors : null;
    if (whole !== null) return Promise.resolve(cs.map((c) => decodeCluster(this.dir, c, whole.block(c))));
    const load = batcher((misses) => this.readBlocks(misses));
    return Promise.all(cs.map(async (c) => (await this.cache.get(this.prefix + c, async () => {
      const value = await load(c);
      return { value, bytes: this.dir.blockRange(c).length };
    })) as IvfCluster));
  }

  /** The given clusters' blocks, nearby ones coalesced into one ranged read, each CRC-checked and decoded. */
  private async readBlocks(cs: number[]): Promise<Map<number, IvfCluster>> {
    const { dir } = this;
    const name = this.blocksName;
    const start = (c: number) => dir.blockOffsets[c]!;
    const out = new Map<number, IvfCluster>();
    // Blocks prefetched with the open are used when the route agreed with the directory.
    const early = this.prefetched;
    const prefetched = (c: number) => {
      const p = early?.get(c);
      return p !== undefined && p.start === dir.blockOffsets[c] && p.end === dir.blockOffsets[c + 1] ? p : undefined;
    };
    const own = cs.filter((c) => prefetched(c) === undefined);
    const taken = cs.filter((c) => prefetched(c) !== undefined).map((c) => [c, prefetched(c)!] as const);
    for (const [c] of taken) early!.delete(c);
    const runs = [
      ...coalesce(own, start, (c) => dir.blockOffsets[c + 1]!, CODES_GAP_BYTES).map((run) => {
        const from = start(run[0]!);
        return { run, from, bytes: this.read(name, { offset: this.sections.blocks.offset + from, length: dir.blockOffsets[run[run.length - 1]! + 1]! - from }) };
      }),
      ...taken.map(([c, p]) => ({ run: [c], from: p.from, bytes: p.bytes })),
    ];
    await Promise.all(runs.map(async ({ run, from, bytes: reading }) => {
      const bytes = await reading;
      const length = dir.blockOffsets[run[run.length - 1]! + 1]! - from;
      if (bytes.byteLength < length) throw new SegmentCorruptError(name, `clusters ${run[0]}–${run[run.length - 1]}: expected ${length} bytes, got ${bytes.byteLength}`);
      for (const c of run) {
        const { offset, length: n } = dir.blockRange(c);
        // Its own aligned buffer, in a SharedArrayBuffer: typed-array views need an aligned start,
        // a cached block must not pin the whole run, and the query pool's workers scan it where it is.
        const own = sharedCopy(bytes.subarray(offset - from, offset - from + n));
        if (crc32(own) !== dir.crcs[c]) throw new SegmentCorruptError(name, `cluster ${c}: CRC mismatch`);
        try {
          out.set(c, decodeCluster(dir, c, own));
        } catch (e) {
          throw new SegmentCorruptError(name, (e as Error).message);
        }
      }
    }));
    return out;
  }

  /** Forgets the decoded blocks and the cached record pages. */
  close(): void {
    for (let c = 0; c < this.dir.clusters; c++) this.cache.delete(this.prefix + c);
    this.records?.close();
    this.vectors = null;
    this.prefetched = null;
  }
}

/** One cluster as a merge streams it: its decoded codes block and its vectors in slot order. */
export interface StreamedCluster {
  cluster: number;
  block: IvfCluster;
  /** size × dim floats, the cluster's rows in block order. */
  vectors: Float32Array;
}

/** `n` records from record `first` of a run of `ivf.vectors`, CRC-checked, as one aligned copy. */
function vectorsOfRecords(records: Buffer, first: number, n: number, dim: number): Float32Array {
  const rb = recordBytes(dim);
  const out = new Float32Array(n * dim);
  const bytes = new Uint8Array(out.buffer);
  for (let i = 0; i < n; i++) {
    const at = (first + i) * rb;
    const vector = records.subarray(at, at + dim * 4);
    if (crc32(vector) !== records.readUInt32LE(at + dim * 4)) throw new SegmentCorruptError(Sections.ivfVectors, `record ${first + i} of the run: CRC mismatch`);
    bytes.set(vector, i * dim * 4);
  }
  return out;
}

/** The given rows' vectors (`data`: rows.length × dim floats in their order), addressed by row (rows distinct). */
function compact(rows: readonly number[], data: Float32Array, dim: number): { data: Float32Array; offset(row: number): number; has(row: number): boolean } {
  const at = new Map<number, number>();
  rows.forEach((row, i) => at.set(row, i * dim));
  return { data, offset: (row) => at.get(row) ?? -1, has: (row) => at.has(row) };
}
