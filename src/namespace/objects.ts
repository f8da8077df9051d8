// Where a namespace's immutable objects (segment sections, WAL objects) are read from: the store
// it was given (main.ts wraps it in the disk tier, storage/cached.ts, where that pays). The owner
// and the views open them the same way.
import { Errors } from '../errors.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import type { SegmentRef } from '../manifest/manifest.ts';
import { SegmentCorruptError, SegmentReader, type ReaderOptions } from '../segment/index.ts';
import type { OpenSegmentOptions } from '../segment/reader.ts';
import type { LoadedManifest } from '../manifest/manifest.ts';
import { parseRoute, probeHint, type IvfRoute, type QueryHint } from '../segment/ivf-route.ts';
import { probesAcross } from '../segment/ivf-centroids.ts';
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
 * What each segment's open prefetches for a cold first query: the codes of the clusters `hint`
 * probes first, for the segments whose route the pointer carried (segment/ivf-route.ts). An
 * unfiltered query probes the namespace's IVF segments as one index (executor.ts), so the
 * clusters are chosen across the routes together, as the query will choose them: its picks in
 * a routed segment are among these even when some segment has no route (more candidates only
 * push picks out). A filtered query probes each segment on its own, so each route ranks alone.
 */
export function prefetchPlan(loaded: LoadedManifest, hint: QueryHint | undefined, defaultEf: number): (ref: SegmentRef) => OpenSegmentOptions['prefetch'] {
  if (hint === undefined) return () => undefined;
  const probe = probeHint(hint, defaultEf);
  const routes = new Map<string, IvfRoute>();
  for (const ref of loaded.manifest.segments) {
    const json = loaded.routes?.[ref.id];
    const route = json === undefined ? null : parseRoute(json);
    if (route !== null && route.dim === probe.vector.length) routes.set(ref.id, route);
  }
  if (hint.filtered === true || routes.size === 0) return (ref) => { const route = routes.get(ref.id); return route && { route, hint: probe }; };
  const chosen = probesAcross([...routes].map(([id, dir]) => ({ id, dir })), loaded.manifest.schema.vector_metric, probe.vector, probe.nprobe) as Map<{ id: string }, number[]>;
  const clusters = new Map([...chosen].map(([x, list]) => [x.id, list.sort((a, b) => a - b)]));
  return (ref) => {
    const route = routes.get(ref.id);
    return route && { route, hint: probe, clusters: clusters.get(ref.id) ?? [] };
  };
}
