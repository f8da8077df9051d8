// Garbage collection (the janitor): deletes objects no manifest within the retention window
// references. The history (manifest/history.ts) within compaction.history_retention_secs is kept
// whole, segments included, so any version in it can be restored; older history is pruned. A reader that loaded an older manifest may still fetch its segments and WAL
// objects, and a commit in flight may still swap the pointer to the version it just created, so
// nothing younger than the grace period is deleted, and neither is anything that a manifest
// version younger than the grace period refers to. Older versions other than the current one go,
// orphans above it included (a version the pointer never named: its writer crashed or lost).
//
// Only the writer whose manifest the pointer names may judge: to a stale writer the real current
// version looks like an orphan. So the pointer is read before planning and again before deleting,
// and GC does nothing when it names another version.
import type { ObjectStore } from '../storage/object-store.ts';
import { listAll } from '../storage/object-store.ts';
import { isStorageError } from '../storage/errors.ts';
import { manifestPrefix, manifestVersionOfKey, segmentPrefix, walPrefix, walSeqOfKey } from '../storage/layout.ts';
import { ManifestStore, type Manifest } from '../manifest/manifest.ts';
import { historySince } from '../manifest/history.ts';
import { lendersOf, lentSegments, sweepLender } from '../manifest/shared.ts';

export interface GcResult {
  wal: number;
  segments: number;
  manifests: number;
}

/**
 * `retentionMs`: how far back the history stays restorable. WAL objects are kept only for the
 * grace period's readers: a version's segments hold its whole state (history.ts).
 */
export async function collectGarbage(store: ObjectStore, ns: string, current: Manifest, graceMs: number, now = Date.now(), retentionMs = 0): Promise<GcResult> {
  const cutoff = now - graceMs;
  const result: GcResult = { wal: 0, segments: 0, manifests: 0 };
  const manifests = new ManifestStore(store);
  const pointerNamesCurrent = async () => (await manifests.loadPointer(ns))?.version === current.version;
  if (!(await pointerNamesCurrent())) return result;

  // Manifest versions: keep the current one, the history within the retention window and every
  // version younger than the grace period (orphans too: a commit may be in flight); what those
  // reference is live.
  const referenced = new Set(current.segments.map((s) => s.key));
  const history = await historySince(manifests, ns, current, now - retentionMs);
  const retained = new Set(history.map((m) => m.version));
  for (const m of history) m.segments.forEach((s) => referenced.add(s.key));
  let oldestWatermark = current.wal_watermark;
  const stale: string[] = [];
  for await (const obj of listAll(store, manifestPrefix(ns))) {
    const version = manifestVersionOfKey(obj.key);
    if (version === null || version === current.version) continue;
    // Versions of the retained history whose readers are gone need no WAL: their segments are their state.
    if (retained.has(version) && obj.lastModified.getTime() < cutoff) continue;
    if (obj.lastModified.getTime() >= cutoff) {
      try {
        const kept = await manifests.loadVersion(ns, version);
        kept.segments.forEach((s) => referenced.add(s.key));
        oldestWatermark = Math.min(oldestWatermark, kept.wal_watermark);
      } catch (e) {
        if (!isStorageError(e, 'not_found')) throw e;
      }
    } else {
      stale.push(obj.key);
    }
  }
  // Segments that copies of this namespace still name (manifest/shared.ts).
  const window = { graceMs, retentionMs };
  const lent = await lentSegments(store, ns, window, now);
  lent.keys.forEach((k) => referenced.add(k));
  const segments: string[] = [];
  for await (const obj of listAll(store, segmentPrefix(ns))) {
    if (!referenced.has(obj.key) && obj.lastModified.getTime() < cutoff) segments.push(obj.key);
  }
  // WAL objects folded into segments by every manifest a reader may still hold.
  const wal: string[] = [];
  for await (const obj of listAll(store, walPrefix(ns))) {
    const seq = walSeqOfKey(obj.key);
    if (seq === null || seq > oldestWatermark) break;
    if (obj.lastModified.getTime() < cutoff) wal.push(obj.key);
  }

  // Each delete removes garbage only, so a crash between any two of them leaves a namespace
  // that loads and commits as before; the next run finishes the job.
  if (!(await pointerNamesCurrent())) return result;
  for (const key of segments) {
    await store.delete(key);
    result.segments++;
  }
  for (const key of wal) {
    await store.delete(key);
    result.wal++;
  }
  for (const key of stale) {
    await store.delete(key);
    result.manifests++;
  }
  for (const key of lent.staleMarkers) await store.delete(key);
  // Namespaces this one borrowed from that have since been deleted: nobody else cleans their prefix.
  const lenders = new Set(history.flatMap((m) => lendersOf(ns, m)));
  for (const lender of lenders) await sweepLender(store, lender, window, now);
  return result;
}
