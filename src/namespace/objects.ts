// Where a namespace's immutable objects (segment sections, WAL objects) are read from: the store
// it was given (main.ts wraps it in the disk tier, storage/cached.ts, where that pays). The owner
// and the views open them the same way.
import { Errors } from '../errors.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import type { SegmentRef } from '../manifest/manifest.ts';
import { SegmentCorruptError, SegmentReader, type ReaderOptions } from '../segment/index.ts';
import type { OpenSegmentOptions } from '../segment/reader.ts';
import type { LoadedManifest } from '../manifest/manifest.ts';
import { parseRoute, probeHint, type QueryHint } from '../segment/ivf-route.ts';
import type { NamespaceSchema } from '../schema/types.ts';

/** Where segment and WAL bytes come from. */
export interface ObjectSource {
  store: ObjectStore;
  /** Scratch space for hnswlib's index files. */
  tmpDir: string;
  /** The node's reader caches and query pool (main.ts); the segment layer's defaults when absent. */
  readerOptions?: ReaderOptions;
}

/** The segment's immutable reader, its sections read by range. */
export async function openSegmentReader(ns: string, deps: ObjectSource, schema: NamespaceSchema, ref: SegmentRef, prefetch?: OpenSegmentOptions['prefetch']): Promise<SegmentReader> {
  return SegmentReader.open({
    ...deps.readerOptions,
    meta: ref.meta,
    schema,
    tmpDir: deps.tmpDir,
    ...(prefetch ? { prefetch } : {}),
    readSection: async (_name, { offset, length }) => (await deps.store.get(ref.key, { offset, length })).body,
  }).catch((e: unknown) => {
    if (e instanceof SegmentCorruptError) throw Errors.segmentCorrupt(ns, ref.id, ref.key, e.message);
    throw e;
  });
}

/**
 * What a segment's open prefetches for a cold first query: the codes of the clusters `hint`
 * probes first, when the pointer carried the segment's route (segment/ivf-route.ts).
 */
export function prefetchFor(loaded: LoadedManifest, ref: SegmentRef, hint: QueryHint | undefined, defaultEf: number): OpenSegmentOptions['prefetch'] {
  const json = hint === undefined ? undefined : loaded.routes?.[ref.id];
  const route = json === undefined ? null : parseRoute(json);
  return route === null ? undefined : { route, hint: probeHint(hint!, defaultEf) };
}
