// The segment layer: immutable, self-checking segment objects (docs/segments.md).
export { buildSegment, EXACT_SCAN_ROWS, type BuiltSegment, type SegmentInput } from './builder.ts';
export { BuildPool, backlogThreads, buildThreads, type BuildOptions, type BuildPoolOptions, type BuildPoolStats, type SegmentBuilds } from './build-pool.ts';
export {
  readSegmentMeta,
  segmentTailLength,
  SEGMENT_TRAILER_BYTES,
  residentBytes,
  SEGMENT_FORMAT,
  SegmentCorruptError,
  Sections,
  type ColumnStats,
  type SectionEntry,
  type SectionRange,
  type SegmentMeta,
} from './format.ts';
export { SegmentReader, type OpenSegmentOptions, type ReadSection, type ReaderOptions } from './reader.ts';
export type { ClusterCache, CodeScans, IvfCacheEntry } from './ivf-reader.ts';
export { queryThreads, ScanPool, type ScanPoolOptions, type ScanPoolStats } from './scan-pool.ts';
export { shortlistStats } from './ivf-shortlist.ts';
export { mergeInputs, readMergeInputs } from './merge.ts';
export type { HnswParams } from './hnsw.ts';
export type { Neighbours } from './vector-search.ts';
export type { ColumnReader } from './columns.ts';
export type { SegmentTextView, TextStats } from './text/disk-index.ts';
export type { BlockTextView } from './text/block-view.ts';
export type { TextPart, TextPartCache } from './text/block-reader.ts';
