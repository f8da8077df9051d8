// A segment's IVF index as a reader holds it: the directory (read at open) and cluster blocks read
// on demand, each by one ranged read of the `ivf.clusters` section (through the store's cache
// wrapper, storage/cached.ts) and kept decoded in a memory cache bounded by bytes. Some rows'
// vectors (get, list, include_vector, exact filtered search) come from their blocks the same way
// (vectorsOf); compaction, which needs them all, loads the whole section once (loadVectors).
import { crc32 } from 'node:zlib';
import { LRUCache } from 'lru-cache';
import type { VectorMetric } from '../schema/types.ts';
import { Sections, SegmentCorruptError, verifySection, type SectionEntry } from './format.ts';
import { decodeCluster, IvfVectors, type IvfCluster, type IvfDirectory } from './ivf.ts';
import { nprobeOfEf, searchIvf } from './ivf-search.ts';
import type { Neighbours, VectorAccess } from './vector-search.ts';
import { sharedCopy, type ScanPool } from './scan-pool.ts';

const NONE_SLOT = 0xffffffff;

type ReadRange = (name: string, range: { offset: number; length: number }) => Promise<Buffer>;

/** Where decoded blocks are kept: cache/memory-cache.ts's MemoryCache fits (main.ts passes one). */
export interface ClusterCache {
  /** The value kept under key, else load()'s, kept when it fits; concurrent callers may share one load. */
  get(key: string, load: () => Promise<{ value: IvfCluster; bytes: number }>): Promise<IvfCluster>;
  delete(key: string): void;
}

/** Until main.ts configures the node's: a byte-bounded LRU of its own. */
function lruClusters(maxBytes: number): ClusterCache {
  const lru = new LRUCache<string, IvfCluster>({ maxSize: maxBytes });
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

/** Decoded cluster blocks of every open segment, least recently used evicted first. */
let sharedClusters: ClusterCache = lruClusters(256 * 2 ** 20);

/** The cluster cache that readers opened from now on share (main.ts: bounded by cache.memory_size). */
export function configureClusterCache(cache: ClusterCache): void {
  sharedClusters = cache;
}

/** Where every reader's code scans run: the main thread until main.ts configures a pool. */
let scanPool: ScanPool | null = null;

/**
 * The query pool readers scan on (main.ts, from `query.threads`), or null for this thread. Set
 * once for the node like the cluster cache, rather than passed through every reader's opener.
 */
export function configureScanPool(pool: ScanPool | null): void {
  scanPool = pool;
}

let nextReader = 0;

export class IvfIndex {
  private vectors: IvfVectors | null = null;
  private loading: Promise<IvfVectors> | null = null;
  /** Unique per reader: cache keys never collide across segments. */
  private readonly prefix = `ivf${nextReader++}/`;

  constructor(
    readonly dir: IvfDirectory,
    private readonly section: SectionEntry,
    private readonly read: ReadRange,
    private readonly cache: ClusterCache = sharedClusters,
  ) {}

  /** The loaded vectors, or null before loadVectors(). */
  get loaded(): IvfVectors | null {
    return this.vectors;
  }

  search(metric: VectorMetric, query: Float32Array, k: number, ef: number, accept?: (row: number) => boolean, nprobe?: number): Promise<Neighbours> {
    return searchIvf(this.dir, (cs) => this.clusters(cs), query, { metric, k, nprobe: nprobe ?? nprobeOfEf(ef), accept, scan: scanPool?.scan });
  }

  /** Every row's vector, read as the whole section (CRC-checked) and kept until the reader closes. */
  loadVectors(): Promise<IvfVectors> {
    if (this.vectors !== null) return Promise.resolve(this.vectors);
    this.loading ??= (async () => {
      const name = Sections.ivfClusters;
      const bytes = await verifySection(name, this.section, await this.read(name, { offset: this.section.offset, length: this.section.length }));
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
   * The vectors of the given rows only, read through their clusters' blocks (the cache), as a
   * compact copy: what get, list and include_vector need without the whole section.
   */
  async vectorsOf(rows: readonly number[]): Promise<VectorAccess> {
    if (this.vectors !== null) return this.vectors;
    const { dir } = this;
    const dim = dir.dim;
    const wanted = rows.filter((r) => dir.slotOf[r] !== NONE_SLOT);
    const cs = [...new Set(wanted.map((r) => dir.clusterOfSlot(dir.slotOf[r]!)))];
    const blocks = new Map((await this.clusters(cs)).map((b, i) => [cs[i]!, b]));
    const data = new Float32Array(wanted.length * dim);
    const at = new Map<number, number>();
    wanted.forEach((row, i) => {
      const slot = dir.slotOf[row]!;
      const c = dir.clusterOfSlot(slot);
      const p = (slot - dir.slotStart[c]!) * dim;
      data.set(blocks.get(c)!.vectors.subarray(p, p + dim), i * dim);
      at.set(row, i * dim);
    });
    return { rows: dir.rows, data, norms: dir.norms, offset: (row) => at.get(row) ?? -1, has: (row) => at.has(row) };
  }

  /** The blocks of the given clusters, from the loaded section or by one ranged read each. */
  private clusters(cs: readonly number[]): Promise<IvfCluster[]> {
    const whole = this.vectors;
    return Promise.all(cs.map((c) => whole !== null
      ? Promise.resolve(decodeCluster(this.dir, c, whole.block(c)))
      : this.cache.get(this.prefix + c, () => this.fetch(c))));
  }

  private async fetch(c: number): Promise<{ value: IvfCluster; bytes: number }> {
    const { offset, length } = this.dir.blockRange(c);
    const name = Sections.ivfClusters;
    const read = await this.read(name, { offset: this.section.offset + offset, length });
    if (read.byteLength !== length) throw new SegmentCorruptError(name, `cluster ${c}: expected ${length} bytes, got ${read.byteLength}`);
    if (crc32(read) !== this.dir.crcs[c]) throw new SegmentCorruptError(name, `cluster ${c}: CRC mismatch`);
    // A copy of its own, in a SharedArrayBuffer: typed-array views need an aligned start (a
    // ranged read may hand back any offset), and the query pool's workers scan it where it is.
    const bytes = sharedCopy(read);
    try {
      return { value: decodeCluster(this.dir, c, bytes), bytes: length };
    } catch (e) {
      throw new SegmentCorruptError(name, (e as Error).message);
    }
  }

  close(): void {
    for (let c = 0; c < this.dir.clusters; c++) this.cache.delete(this.prefix + c);
    this.vectors = null;
  }
}
