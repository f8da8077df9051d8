// Where a namespace's immutable objects (segment sections, WAL objects) are read from: the store,
// through the disk tier when there is one. The owner and the views open them the same way.
import { Errors } from '../errors.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import type { SegmentRef } from '../manifest/manifest.ts';
import type { WalFetch } from '../wal/reader.ts';
import { SegmentCorruptError, SegmentReader } from '../segment/index.ts';
import type { NamespaceSchema } from '../schema/types.ts';

/** Where segment and WAL bytes come from: the store, through the disk tier when there is one. */
export interface ObjectSource {
  store: ObjectStore;
  /** Scratch space for hnswlib's index files. */
  tmpDir: string;
  /** Local copies of immutable objects: segment sections (by key and range) and WAL objects (by key and etag). */
  objectCache?: ByteCache;
}

/** What openSegment needs of a byte cache (the disk tier): one shared load per key. */
export interface ByteCache {
  get(key: string, load: () => Promise<Buffer>): Promise<Buffer>;
}

/** The segment's immutable reader; sections come through deps.objectCache when there is one. */
export async function openSegmentReader(ns: string, deps: ObjectSource, schema: NamespaceSchema, ref: SegmentRef): Promise<SegmentReader> {
  const fetch = async (offset: number, length: number) => (await deps.store.get(ref.key, { offset, length })).body;
  const cache = deps.objectCache;
  return SegmentReader.open({
    meta: ref.meta,
    schema,
    tmpDir: deps.tmpDir,
    readSection: (_name, { offset, length }) =>
      cache ? cache.get(`${ref.key}#${offset}+${length}`, () => fetch(offset, length)) : fetch(offset, length),
  }).catch((e: unknown) => {
    if (e instanceof SegmentCorruptError) throw Errors.segmentCorrupt(ns, ref.id, ref.key, e.message);
    throw e;
  });
}

/** Reads WAL objects through deps.objectCache when there is one. */
export function walFetch(deps: ObjectSource): WalFetch | undefined {
  const cache = deps.objectCache;
  if (!cache) return undefined;
  return (obj) => cache.get(`${obj.key}@${obj.etag}`, async () => (await deps.store.get(obj.key)).body);
}
