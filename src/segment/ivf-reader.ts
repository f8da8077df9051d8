// A segment's IVF index as a reader holds it: the directory (read at open), codes blocks read on
// demand, each by one ranged read of `ivf.codes`, and the float32 records of the rows a query
// re-ranks (or get, list, include_vector ask for), read by range from `ivf.vectors`, nearby
// records coalesced, all of one query's in parallel. Both go through the store's cache wrapper
// (storage/cached.ts) and are kept decoded in one memory cache bounded by bytes: a warm query
// reads nothing. Compaction, which needs every vector, loads the whole section once (loadVectors).
// Segments of the older `blocks` layout (ivf.ts) re-rank from their probed blocks.
import { crc32 } from 'node:zlib';
import { LRUCache } from 'lru-cache';
import type { VectorMetric } from '../schema/types.ts';
import { Sections, SegmentCorruptError, verifySection, type SectionEntry } from './format.ts';
import { decodeCluster, IvfVectors, recordBytes, type IvfCluster, type IvfDirectory } from './ivf.ts';
import { nprobeOfEf, searchIvf } from './ivf-search.ts';
import type { Neighbours, VectorAccess } from './vector-search.ts';

const NONE_SLOT = 0xffffffff;

/**
 * Records closer than this are read by one ranged GET together with the gap between them: a few
 * KiB more cost a GET nothing measurable, a request more costs a slot in the socket pool. On
 * GloVe-100 50k at nprobe 64 the 400 candidates' records sit ≈ 40 slots apart on average
 * (docs/benchmarks.md, "ivf"), so this merges only true neighbours.
 */
const COALESCE_GAP_BYTES = 2048;

/** A cached record: the vector, plus roughly what its typed array and LRU slot cost. */
const RECORD_ENTRY_OVERHEAD = 64;

type ReadRange = (name: string, range: { offset: number; length: number }) => Promise<Buffer>;

/** What the IVF cache holds: decoded codes blocks, and single rows' float32 vectors. */
export type IvfCacheEntry = IvfCluster | Float32Array;

/** Where decoded blocks and records are kept: cache/memory-cache.ts's MemoryCache fits (main.ts passes one). */
export interface ClusterCache {
  /** The value kept under key, else load()'s, kept when it fits; concurrent callers may share one load. */
  get(key: string, load: () => Promise<{ value: IvfCacheEntry; bytes: number }>): Promise<IvfCacheEntry>;
  delete(key: string): void;
}

/** Until main.ts configures the node's: a byte-bounded LRU of its own. */
function lruClusters(maxBytes: number): ClusterCache {
  const lru = new LRUCache<string, IvfCacheEntry>({ maxSize: maxBytes });
  return {
    async get(key, load) {
      const hit = lru.get(key);
      if (hit !== undefined) return hit;
      const { value, bytes } = await load();
      if (bytes <= maxBytes) lru.set(key, value, { size: Math.max(1, bytes) });
      return value;
    },
    delete: (key) => { lru.delete(key); },
  };
}

/** Decoded blocks and records of every open segment, least recently used evicted first. */
let sharedClusters: ClusterCache = lruClusters(256 * 2 ** 20);

/** The cluster cache that readers opened from now on share (main.ts: bounded by cache.memory_size). */
export function configureClusterCache(cache: ClusterCache): void {
  sharedClusters = cache;
}

let nextReader = 0;

/** The sections an IVF index reads after its directory: blocks, and (apart layout) records. */
export interface IvfSections {
  blocks: SectionEntry;
  vectors: SectionEntry | null;
}

export class IvfIndex {
  private vectors: IvfVectors | null = null;
  private loading: Promise<IvfVectors> | null = null;
  /** Unique per reader: cache keys never collide across segments. */
  private readonly prefix = `ivf${nextReader++}/`;
  private readonly blocksName: string;

  constructor(
    readonly dir: IvfDirectory,
    private readonly sections: IvfSections,
    private readonly read: ReadRange,
    private readonly cache: ClusterCache = sharedClusters,
  ) {
    this.blocksName = dir.layout === 'apart' ? Sections.ivfCodes : Sections.ivfClusters;
  }

  /** The loaded vectors, or null before loadVectors(). */
  get loaded(): IvfVectors | null {
    return this.vectors;
  }

  search(metric: VectorMetric, query: Float32Array, k: number, ef: number, accept?: (row: number) => boolean, nprobe?: number): Promise<Neighbours> {
    return searchIvf(this.dir, (cs) => this.clusters(cs), (rows) => this.vectorsOf(rows), query,
      { metric, k, nprobe: nprobe ?? nprobeOfEf(ef), accept });
  }

  /** Every row's vector, read as the whole section (CRC-checked) and kept until the reader closes. */
  loadVectors(): Promise<IvfVectors> {
    if (this.vectors !== null) return Promise.resolve(this.vectors);
    this.loading ??= (async () => {
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
    const { dir } = this;
    const dim = dir.dim;
    const wanted = [...new Set(rows)].filter((r) => dir.slotOf[r] !== NONE_SLOT);
    const found = dir.layout === 'apart' ? await this.records(wanted) : await this.fromBlocks(wanted);
    const data = new Float32Array(wanted.length * dim);
    const at = new Map<number, number>();
    wanted.forEach((row, i) => {
      data.set(found[i]!, i * dim);
      at.set(row, i * dim);
    });
    return { rows: dir.rows, data, norms: dir.norms, offset: (row) => at.get(row) ?? -1, has: (row) => at.has(row) };
  }

  /** `blocks` layout: each row's vector from its cluster's block. */
  private async fromBlocks(rows: readonly number[]): Promise<Float32Array[]> {
    const { dir } = this;
    const cs = [...new Set(rows.map((r) => dir.clusterOfSlot(dir.slotOf[r]!)))];
    const blocks = new Map((await this.clusters(cs)).map((b, i) => [cs[i]!, b]));
    return rows.map((row) => {
      const slot = dir.slotOf[row]!;
      const c = dir.clusterOfSlot(slot);
      const p = (slot - dir.slotStart[c]!) * dir.dim;
      return blocks.get(c)!.vectors!.subarray(p, p + dir.dim);
    });
  }

  /**
   * `apart` layout: each row's record through the cache. The cache calls load() for each miss
   * before any of them settles, so the misses of one call are collected and read together:
   * one round of parallel ranged reads.
   */
  private records(rows: readonly number[]): Promise<Float32Array[]> {
    const bytes = this.dir.dim * 4 + RECORD_ENTRY_OVERHEAD;
    type Batch = { slots: number[]; read: Promise<Map<number, Float32Array>> };
    let open: Batch | null = null;
    const load = (slot: number) => {
      if (open === null) {
        const batch: Batch = { slots: [], read: Promise.resolve(new Map()) };
        // Closed when its read starts: a miss that comes later starts a batch of its own.
        batch.read = Promise.resolve().then(() => {
          if (open === batch) open = null;
          return this.readRecords(batch.slots);
        });
        open = batch;
      }
      const batch: Batch = open;
      batch.slots.push(slot);
      return batch.read.then((m) => ({ value: m.get(slot)!, bytes }));
    };
    return Promise.all(rows.map(async (row) => {
      const slot = this.dir.slotOf[row]!;
      return (await this.cache.get(`${this.prefix}v${slot}`, () => load(slot))) as Float32Array;
    }));
  }

  /** The records of the given slots, nearby ones coalesced into one ranged read, each CRC-checked. */
  private async readRecords(slots: number[]): Promise<Map<number, Float32Array>> {
    const entry = this.sections.vectors!;
    const dim = this.dir.dim;
    const rb = recordBytes(dim);
    const sorted = [...new Set(slots)].sort((a, b) => a - b);
    const runs: number[][] = [];
    for (const slot of sorted) {
      const run = runs[runs.length - 1];
      if (run !== undefined && (slot - run[run.length - 1]! - 1) * rb <= COALESCE_GAP_BYTES) run.push(slot);
      else runs.push([slot]);
    }
    const name = Sections.ivfVectors;
    const out = new Map<number, Float32Array>();
    await Promise.all(runs.map(async (run) => {
      const first = run[0]!;
      const length = (run[run.length - 1]! - first + 1) * rb;
      const bytes = await this.read(name, { offset: entry.offset + first * rb, length });
      if (bytes.byteLength !== length) throw new SegmentCorruptError(name, `expected ${length} bytes, got ${bytes.byteLength}`);
      for (const slot of run) {
        const at = (slot - first) * rb;
        const vector = bytes.subarray(at, at + dim * 4);
        if (crc32(vector) !== bytes.readUInt32LE(at + dim * 4)) throw new SegmentCorruptError(name, `record ${slot}: CRC mismatch`);
        // A copy: aligned for the typed array, and not pinning the whole run's buffer in the cache.
        const own = new Float32Array(dim);
        new Uint8Array(own.buffer).set(vector);
        out.set(slot, own);
      }
    }));
    return out;
  }

  /** The blocks of the given clusters, from the loaded section (blocks layout) or by one ranged read each. */
  private clusters(cs: readonly number[]): Promise<IvfCluster[]> {
    const whole = this.dir.layout === 'blocks' ? this.vectors : null;
    return Promise.all(cs.map(async (c) => whole !== null
      ? decodeCluster(this.dir, c, whole.block(c))
      : (await this.cache.get(this.prefix + c, () => this.fetch(c))) as IvfCluster));
  }

  private async fetch(c: number): Promise<{ value: IvfCluster; bytes: number }> {
    const { offset, length } = this.dir.blockRange(c);
    const name = this.blocksName;
    let bytes = await this.read(name, { offset: this.sections.blocks.offset + offset, length });
    if (bytes.byteLength !== length) throw new SegmentCorruptError(name, `cluster ${c}: expected ${length} bytes, got ${bytes.byteLength}`);
    if (crc32(bytes) !== this.dir.crcs[c]) throw new SegmentCorruptError(name, `cluster ${c}: CRC mismatch`);
    // Typed-array views need an aligned start; a ranged read may hand back any offset.
    if (bytes.byteOffset % 8 !== 0) {
      const own = Buffer.from(new ArrayBuffer(length));
      bytes.copy(own);
      bytes = own;
    }
    try {
      return { value: decodeCluster(this.dir, c, bytes), bytes: length };
    } catch (e) {
      throw new SegmentCorruptError(name, (e as Error).message);
    }
  }

  /**
   * Forgets the decoded blocks. Cached records are left to age out of the LRU: deleting them
   * would mean a key per vector row (a million for a 1M segment) on every close.
   */
  close(): void {
    for (let c = 0; c < this.dir.clusters; c++) this.cache.delete(this.prefix + c);
    this.vectors = null;
  }
}
