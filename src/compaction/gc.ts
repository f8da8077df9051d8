// Garbage collection (the janitor): deletes objects no manifest within the retention window
// references. A reader that loaded an older manifest may still fetch its segments and WAL
// objects, so nothing younger than the grace period is deleted, and neither is anything that a
// manifest version younger than the grace period refers to.
import type { ObjectStore } from '../storage/object-store.ts';
import { listAll } from '../storage/object-store.ts';
import { isStorageError } from '../storage/errors.ts';
import { manifestPointerKey, manifestPrefix, type Manifest } from '../manifest/manifest.ts';
import { walPrefix, walSeqOfKey } from '../wal/format.ts';

export interface GcResult {
  wal: number;
  segments: number;
  manifests: number;
}

export async function collectGarbage(store: ObjectStore, ns: string, current: Manifest, graceMs: number, now = Date.now()): Promise<GcResult> {
  const cutoff = now - graceMs;
  const result: GcResult = { wal: 0, segments: 0, manifests: 0 };
  const remove = async (key: string) => {
    await store.delete(key);
  };

  // Manifest versions: keep the current one and every version younger than the grace period;
  // what those reference is live.
  const referenced = new Set(current.segments.map((s) => s.key));
  let oldestWatermark = current.wal_watermark;
  const stale: string[] = [];
  for await (const obj of listAll(store, manifestPrefix(ns))) {
    const m = /(\d{20})\.json$/.exec(obj.key);
    if (!m || obj.key === manifestPointerKey(ns)) continue;
    const version = Number(m[1]);
    if (version === current.version) continue;
    if (version > current.version || obj.lastModified.getTime() >= cutoff) {
      try {
        const kept = JSON.parse((await store.get(obj.key)).body.toString('utf8')) as Manifest;
        kept.segments.forEach((s) => referenced.add(s.key));
        oldestWatermark = Math.min(oldestWatermark, kept.wal_watermark);
      } catch (e) {
        if (!isStorageError(e, 'not_found')) throw e;
      }
    } else {
      stale.push(obj.key);
    }
  }

  for await (const obj of listAll(store, `${ns}/seg/`)) {
    if (!referenced.has(obj.key) && obj.lastModified.getTime() < cutoff) {
      await remove(obj.key);
      result.segments++;
    }
  }
  // WAL objects folded into segments by every manifest a reader may still hold.
  for await (const obj of listAll(store, walPrefix(ns))) {
    const seq = walSeqOfKey(obj.key);
    if (seq === null || seq > oldestWatermark) break;
    if (obj.lastModified.getTime() < cutoff) {
      await remove(obj.key);
      result.wal++;
    }
  }
  for (const key of stale) {
    await remove(key);
    result.manifests++;
  }
  return result;
}
