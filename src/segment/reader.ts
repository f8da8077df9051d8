// Opens a segment from its table (readSegmentMeta) and a section fetcher (ranged reads behind a
// cache), verifying every section's CRC as it arrives. Everything but the IVF cluster blocks is
// loaded at open, in parallel, so that the per-row methods the query executor calls are
// synchronous; IVF blocks are read as queries probe them (ivf-reader.ts).
import { nameRecord } from '../schema/records.ts';
import type { AttributeValue, DocId, NamespaceSchema } from '../schema/types.ts';
import { ColumnReader } from './columns.ts';
import { Sections, type SegmentMeta } from './format.ts';
import { checkRows, decoded, SegmentSections, type ReadSection } from './section-reads.ts';
import { HnswIndex } from './hnsw.ts';
import { IdColumn } from './ids.ts';
import { TEXT_FORMAT_BLOCKS } from './text/block-index.ts';
import { BlockTextIndex, type TextPartCache } from './text/block-reader.ts';
import type { BlockTextView } from './text/block-view.ts';
import { DiskTextIndex, type SegmentTextView, type TextStats } from './text/disk-index.ts';
import { IvfDirectory } from './ivf-directory.ts';
import { IvfIndex } from './ivf-reader.ts';
import { prefetchBlocks } from './ivf-ranges.ts';
import { firstProbes, routeCentroids, routeJson, type IvfRoute, type IvfRouteJson, type ProbeHint } from './ivf-route.ts';
import { sharedCopy } from './scan-pool.ts';
import type { ClusterCache, CodeScans, StreamedCluster } from './ivf-reader.ts';
import type { Candidates } from './ivf-search.ts';
import type { RankClusters, RankDirectory } from './ivf-centroids.ts';
import { exactNearest, scanNearest, type Neighbours, type VectorAccess } from './vector-search.ts';
import { VectorColumn } from './vectors.ts';

export type { ReadSection } from './section-reads.ts';

/**
 * What the node's readers share, built once from the config (main.ts) and passed down to the
 * catalog and the views: each server its own, nothing process-wide.
 */
export interface ReaderOptions {
  /** Decoded IVF cluster blocks and records; a default LRU of the reader's module unless given. */
  clusterCache?: ClusterCache;
  /** Decoded dictionary blocks and postings of text format 2; a default LRU unless given. */
  textCache?: TextPartCache;
  /** The query pool IVF code scans run on; this thread unless given. */
  scans?: CodeScans | null;
  /** IVF records closer than this are read by one GET; RECORDS_GAP_BYTES unless given (tests that count records read pass 0). */
  recordGapBytes?: number;
}

export interface OpenSegmentOptions extends ReaderOptions {
  meta: SegmentMeta;
  schema: NamespaceSchema;
  readSection: ReadSection;
  /** Where the HNSW section is materialized for hnswlib (deleted as soon as it is loaded). */
  tmpDir: string;
  /**
   * A cold first query's vector and the segment's route (from the manifest pointer): the codes
   * of the clusters it probes first are read with the open, not after it (ivf-route.ts).
   */
  /** `clusters`: the probe chosen across the namespace's segments (executor.ts), read instead of this route's own first probes. */
  prefetch?: { route: IvfRoute; hint: ProbeHint; clusters?: readonly number[] };
}

export class SegmentReader {
  readonly rows: number;
  private closed = false;

  private constructor(
    readonly meta: SegmentMeta,
    readonly schema: NamespaceSchema,
    private readonly ids: IdColumn,
    private readonly flat: VectorAccess | null,
    private readonly ivf: IvfIndex | null,
    private readonly columns: ReadonlyArray<[string, ColumnReader]>,
    private readonly text: ReadonlyMap<string, DiskTextIndex | BlockTextIndex>,
    private hnsw: HnswIndex | null,
  ) {
    this.rows = meta.rows;
  }

  static async open(opts: OpenSegmentOptions): Promise<SegmentReader> {
    const { meta, schema } = opts;
    if (meta.dim !== schema.vector_dim || meta.metric !== schema.vector_metric) {
      throw new Error(`segment has ${meta.dim}-d ${meta.metric} vectors; the schema says ${schema.vector_dim}-d ${schema.vector_metric}`);
    }
    const sections = new SegmentSections(meta, opts.readSection);
    const load = (name: string) => sections.load(name);
    // An attribute added to the schema after the segment was written has no column here: every
    // row of the segment lacks it (meta.columns names every attribute the builder saw).
    const attrNames = Object.keys(schema.attributes).filter((n) => Object.hasOwn(meta.columns, n));
    const textNames = attrNames.filter((n) => schema.attributes[n]!.full_text !== null && Object.hasOwn(meta.text, n));
    // Text format 2 is read by range: the header, term index and norms now, a query's own terms
    // when it runs (text/block-reader.ts). Format 1 is loaded whole.
    const openText = async (n: string): Promise<DiskTextIndex | BlockTextIndex> => {
      const name = Sections.text(n);
      const stats = meta.text[n]!;
      if (stats.format !== TEXT_FORMAT_BLOCKS) {
        const bytes = await load(name);
        return decoded(name, () => new DiskTextIndex(bytes, name));
      }
      // BlockTextIndex.open throws SegmentCorruptError itself; anything else is the store's.
      return BlockTextIndex.open(sections.ranged(name), name, {
        rows: meta.rows, stats: { docCount: stats.docCount, sumTotalTermFreq: stats.sumTotalTermFreq },
        ...(opts.textCache ? { cache: opts.textCache } : {}),
      });
    };
    const clustered = meta.sections[Sections.ivf] !== undefined;
    const codesEntry = meta.sections[Sections.ivfCodes];
    const early = opts.prefetch;
    const prefetched = clustered && codesEntry !== undefined && early !== undefined && early.route.dim === meta.dim
      ? prefetchBlocks(early.route, early.clusters ?? firstProbes(early.route, meta.metric, early.hint), codesEntry, opts.readSection) : null;
    // The centroids apart from the directory come from the pointer's route when it carries the
    // same bytes (its CRC is the section's), else they are read with the rest.
    const centroidsEntry = clustered ? meta.sections[Sections.ivfCentroids] : undefined;
    const routed = centroidsEntry !== undefined && early !== undefined ? routeCentroids(early.route, meta.dim, centroidsEntry) : null;
    const [idBytes, vectorBytes, ivfBytes, centroidBytes, hnswBytes, columnBytes, textIndexes] = await Promise.all([
      load(Sections.ids),
      // IVF blocks are read by cluster when a query probes them (ivf-reader.ts), not at open.
      clustered ? Promise.resolve(null) : load(Sections.vectors),
      clustered ? load(Sections.ivf) : Promise.resolve(null),
      centroidsEntry !== undefined && routed === null ? load(Sections.ivfCentroids) : Promise.resolve(null),
      meta.sections[Sections.hnsw] === undefined ? Promise.resolve(null) : load(Sections.hnsw),
      Promise.all(attrNames.map((n) => load(Sections.column(n)))),
      Promise.all(textNames.map(openText)),
    ]);

    const ids = decoded(Sections.ids, () => new IdColumn(idBytes));
    // Segments written before `ivf.codes` keep each cluster's vectors in its block (ivf.ts).
    const layout = meta.sections[Sections.ivfCodes] === undefined ? 'blocks' : 'apart';
    const centroids = routed ?? (centroidBytes === null ? undefined : sharedCopy(centroidBytes));
    const dir = ivfBytes === null ? null : decoded(Sections.ivf, () => new IvfDirectory(sharedCopy(ivfBytes), layout, centroids));
    const flat = vectorBytes === null ? null : decoded(Sections.vectors, () => new VectorColumn(vectorBytes));
    const entry = (name: string) => sections.entry(name);
    const ivf = dir === null ? null : new IvfIndex(dir, layout === 'apart'
      ? { blocks: entry(Sections.ivfCodes), vectors: entry(Sections.ivfVectors), rows: dir.rowsApart ? entry(Sections.ivfRows) : null }
      : { blocks: entry(Sections.ivfClusters), vectors: null },
    opts.readSection, opts.clusterCache, opts.scans ?? null, prefetched, opts.recordGapBytes);
    const columns = attrNames.map((n, i): [string, ColumnReader] => [n,
      decoded(Sections.column(n), () => new ColumnReader(n, schema.attributes[n]!.type, columnBytes[i]!))]);
    const text = new Map(textNames.map((n, i) => [n, textIndexes[i]!]));
    checkRows(meta, [[Sections.ids, ids.rows], [dir === null ? Sections.vectors : Sections.ivf, (flat ?? dir)!.rows],
      ...columns.map(([n, c]) => [Sections.column(n), c.rows] as const),
      ...[...text].map(([n, t]) => [Sections.text(n), t.rows] as const)]);
    const hnsw = hnswBytes === null ? null : await HnswIndex.load({
      bytes: hnswBytes, metric: meta.metric, dim: meta.dim, tmpDir: opts.tmpDir,
    });
    return new SegmentReader(meta, schema, ids, flat, ivf, columns, text, hnsw);
  }

  id(row: number): DocId {
    return this.ids.id(row);
  }

  /** The ids in id order (ids.ts), for ordered scans that start anywhere. */
  idOrder(): IdColumn {
    return this.ids;
  }

  /** The row holding id, by binary search over the sorted ids. */
  rowOfId(id: DocId): number | undefined {
    return this.ids.rowOf(id);
  }

  /**
   * Makes vectorOffset/vectorData/exactSearch usable: an IVF segment reads its vectors only when
   * something needs every row's vector (the whole vectors section, kept until close).
   */
  async loadVectors(): Promise<void> {
    await this.ivf?.loadVectors();
  }

  /** Random access to the given rows' vectors: the whole column, or (IVF) just their records (or clusters, older layout). */
  vectorsOf(rows: readonly number[]): Promise<VectorAccess> {
    const v = this.flat ?? this.ivf?.loaded;
    return v ? Promise.resolve(v) : this.ivf!.vectorsOf(rows);
  }

  /** The IVF directory (centroids, cluster sizes, norms, slots), or null for a segment without clusters. */
  get ivfDirectory(): IvfDirectory | null {
    return this.ivf?.dir ?? null;
  }

  /**
   * Every vector once, in the order it is stored (IVF: cluster by cluster), a chunk of at most
   * `maxRows` rows at a time (IVF: whole clusters, so one larger cluster alone may exceed it),
   * read past the caches: what a merge reads, holding one chunk, never the whole section.
   */
  async *streamVectors(maxRows: number): AsyncGenerator<{ rows: Uint32Array; data: Float32Array }> {
    const dim = this.meta.dim;
    if (this.ivf === null) {
      const flat = this.flat!;
      const rows: number[] = [];
      for (let row = 0; row < this.rows; row++) if (flat.has(row)) rows.push(row);
      for (let at = 0; at < rows.length; at += maxRows) {
        const chunk = Uint32Array.from(rows.slice(at, at + maxRows));
        const data = new Float32Array(chunk.length * dim);
        chunk.forEach((row, i) => data.set(flat.data.subarray(flat.offset(row), flat.offset(row) + dim), i * dim));
        yield { rows: chunk, data };
      }
      return;
    }
    for await (const run of this.ivf.streamClusters(maxRows)) {
      const n = run.reduce((s, c) => s + c.block.rows.length, 0);
      const rows = new Uint32Array(n);
      const data = new Float32Array(n * dim);
      let at = 0;
      for (const { block, vectors } of run) {
        rows.set(block.rows, at);
        data.set(vectors, at * dim);
        at += block.rows.length;
      }
      yield { rows, data };
    }
  }

  /** streamVectors by cluster, with each cluster's codes block (IVF segments only): a merge that keeps the clusters. */
  streamClusters(maxRows: number): AsyncGenerator<StreamedCluster[]> {
    if (this.ivf === null) throw new Error('streamClusters: the segment has no IVF index');
    return this.ivf.streamClusters(maxRows);
  }

  private get vectors(): VectorAccess {
    const v = this.flat ?? this.ivf?.loaded;
    if (!v) throw new Error('segment vectors not loaded: call loadVectors() first');
    return v;
  }

  /** Offset of the row's vector in vectorData(), or -1 when the row has no vector. */
  vectorOffset(row: number): number {
    return this.vectors.offset(row);
  }

  vectorData(): Float32Array {
    return this.vectors.data;
  }

  vectorNorm(row: number): number {
    return (this.flat?.norms ?? this.ivf!.dir.norms)[row]!;
  }

  /** The row's attributes, decoded from the columns; null values are left out. */
  attributes(row: number): Record<string, AttributeValue> {
    const out = nameRecord<AttributeValue>();
    for (const [name, col] of this.columns) {
      const v = col.value(row);
      if (v !== null) out[name] = v;
    }
    return out;
  }

  /** One attribute's column, for filters that read a column without decoding whole rows. */
  column(name: string): ColumnReader | undefined {
    return this.columns.find(([n]) => n === name)?.[1];
  }

  /**
   * A BM25 view of one full-text field where only rows with live[row] === 1 exist. Its stats are
   * computed from `live` on first use (one pass over the rows) unless `stats` are given (e.g.
   * kept up to date with exactLength as rows die). A view assumes `live` no longer changes:
   * create a new one after killing rows.
   */
  textView(field: string, live: Uint8Array, stats?: TextStats): SegmentTextView | BlockTextView | undefined {
    return this.text.get(field)?.view(live, stats);
  }

  /** The exact token count of a row in a full-text field (0 when the row has no tokens). */
  async exactLength(field: string, row: number): Promise<number> {
    const index = this.text.get(field);
    if (index === undefined) throw new Error(`segment has no full-text field '${field}'`);
    const lengths = index instanceof BlockTextIndex ? await index.loadLengths() : index.lengths;
    return lengths[row]!;
  }

  /**
   * Nearest rows among those `accept` allows, with exact distances in Silt's convention
   * (distance.ts), nearest first. A segment built without an HNSW index (fewer rows than
   * EXACT_SCAN_ROWS, builder.ts) is scanned exactly. With HNSW, when the search returns fewer
   * than k rows (a selective filter cuts the graph), the rows are found by exact search over the
   * accepted rows instead, so the result is short only when fewer than k rows are accepted.
   */
  searchVector(query: Float32Array, k: number, ef: number, accept?: (row: number) => boolean, nprobe?: number): Neighbours {
    this.checkQuery(query);
    if (this.closed) throw new Error('segment reader used after close()');
    const hnsw = this.hnsw;
    if (k <= 0) return { rows: [], distances: [] };
    if (this.ivf !== null) throw new Error('an IVF segment is searched with search()');
    if (hnsw === null) return scanNearest(this.meta.metric, query, this.vectors, k, accept);
    const rows = hnsw.search(query, k, ef, accept);
    if (accept !== undefined && rows.length < Math.min(k, hnsw.count)) {
      return this.exactSearch(query, k, this.acceptedVectorRows(accept));
    }
    return this.exactSearch(query, k, rows);
  }

  /**
   * The graph's `wide` nearest rows, searched without a filter callback, then only those `keep`
   * allows, re-ranked exactly (nearest first). For broad filters: cheaper than a filtered graph
   * search, and no distance is computed for a candidate the filter drops. Without an HNSW index,
   * the exact `wide` nearest of the rows `keep` allows (a superset of what the graph would keep).
   */
  searchThenFilter(query: Float32Array, wide: number, ef: number, keep: (row: number) => boolean, nprobe?: number): Neighbours {
    this.checkQuery(query);
    if (this.closed) throw new Error('segment reader used after close()');
    if (wide <= 0) return { rows: [], distances: [] };
    if (this.ivf !== null) throw new Error('an IVF segment is searched with search()');
    if (this.hnsw === null) return scanNearest(this.meta.metric, query, this.vectors, wide, keep);
    const rows = this.hnsw.search(query, wide, ef).filter(keep);
    return this.exactSearch(query, rows.length, rows);
  }

  /** Whether the segment carries an HNSW index (else its vector searches are IVF or exact scans). */
  get hasHnsw(): boolean {
    return this.hnsw !== null;
  }

  /**
   * searchVector for every kind of segment; an IVF segment reads the blocks of the clusters it
   * probes (nprobe, else derived from ef) and applies `accept` while it scans.
   */
  async search(query: Float32Array, k: number, ef: number, accept?: (row: number) => boolean, nprobe?: number): Promise<Neighbours> {
    if (this.ivf === null) return this.searchVector(query, k, ef, accept);
    this.checkQuery(query);
    if (this.closed) throw new Error('segment reader used after close()');
    return this.ivf.search(this.meta.metric, query, k, ef, accept, nprobe);
  }

  /** The centroids and codes offsets a manifest pointer carries for a cold first query (ivf-route.ts); null without IVF codes. */
  ivfRoute(): IvfRouteJson | null {
    return this.ivf !== null && this.ivf.dir.layout === 'apart' ? routeJson(this.ivf.dir) : null;
  }

  /**
   * An IVF segment's best code estimates for the query (search() without the exact re-rank).
   * Allowed after close(), as rerank() is: a query's probes are chosen across segments first
   * (an await on the query pool), and a merge committing meanwhile closes its inputs, whose
   * objects outlive the reader (bench scale at 1M failed a query during ingest with a 500).
   */
  candidates(query: Float32Array, k: number, ef: number, accept?: (row: number) => boolean, nprobe?: number, probe?: readonly number[]): Promise<Candidates> {
    this.checkQuery(query);
    if (this.ivf === null) throw new Error('candidates() needs an IVF segment');
    return this.ivf.candidates(this.meta.metric, query, k, ef, accept, nprobe, probe);
  }

  /** The IVF centroids, and where to rank them with other segments' (executor.ts); null without IVF. */
  ivfCentroids(): { dir: RankDirectory; rank: RankClusters } | null {
    return this.ivf === null ? null : { dir: this.ivf.dir, rank: this.ivf.rank };
  }

  /**
   * The k nearest of candidate rows (from candidates(), with their slots) by exact distance. Allowed after close():
   * a merge closes its inputs as it commits, while a query that scanned them still re-ranks
   * (their objects outlive the reader; search() had the same window before its re-rank).
   */
  rerank(query: Float32Array, k: number, rows: readonly number[], slots: readonly number[]): Promise<Neighbours> {
    if (this.ivf === null) throw new Error('rerank() needs an IVF segment');
    return this.ivf.rerank(this.meta.metric, query, k, rows, slots);
  }

  /** Whether the segment carries an IVF index (ivf.ts). */
  get hasIvf(): boolean {
    return this.ivf !== null;
  }

  /** Exact k nearest among the given distinct rows (rows without a vector are skipped). */
  exactSearch(query: Float32Array, k: number, rows: Iterable<number>): Neighbours {
    this.checkQuery(query);
    return exactNearest(this.meta.metric, query, this.vectors, k, rows);
  }

  /** Drops the HNSW index (hnswlib frees it when the object is collected). */
  close(): void {
    this.closed = true;
    this.hnsw?.close();
    this.hnsw = null;
    this.ivf?.close();
    for (const index of this.text.values()) if (index instanceof BlockTextIndex) index.close();
  }

  private *acceptedVectorRows(accept: (row: number) => boolean): Generator<number> {
    const vectors = this.vectors;
    for (let row = 0; row < this.rows; row++) if (vectors.has(row) && accept(row)) yield row;
  }

  private checkQuery(query: Float32Array): void {
    if (query.length !== this.meta.dim) {
      throw new RangeError(`query vector has ${query.length} dimensions; the segment holds ${this.meta.dim}`);
    }
  }
}

