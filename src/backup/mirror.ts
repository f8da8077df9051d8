// Backup and restore of namespaces between two object stores (`silt backup`, `silt restore`):
// one function, run in either direction. Per namespace, in an order that makes the copy usable
// whenever its pointer is there:
//
//   1. read the source's pointer and the version it names (the snapshot being copied);
//   2. its manifest versions (the history; small, rewritten every time: a re-created namespace
//      reuses version numbers), and the destination's versions the source no longer has removed;
//   3. every segment any copied version names, also those under another namespace's prefix
//      (a copy's borrowed segments) with the borrower marker that keeps them there: only the
//      missing ones, since a segment key is never reused and its bytes never change;
//   4. the WAL after the snapshot's watermark (its unindexed tail), and WAL objects the
//      destination holds that the snapshot does not, removed: WAL keys come back after a delete;
//   5. the pointer, then the catalog marker.
//
// A backup interrupted anywhere leaves the previous complete pointer or the new one, each naming
// objects that are all there; running it again finishes it. GC deletes nothing younger than the
// grace period, so a backup that takes less time than compaction.gc_grace_secs copies a snapshot
// whose objects all still exist.
import pLimit from 'p-limit';
import { isStorageError } from '../storage/errors.ts';
import { listAll, type ObjectStore } from '../storage/object-store.ts';
import { listNamespaces } from '../storage/namespace-list.ts';
import {
  borrowerKey, catalogKey, manifestPointerKey, manifestPrefix, manifestVersionKey, manifestVersionOfKey,
  namespaceOfKey, walPrefix, walSeqOfKey,
} from '../storage/layout.ts';
import type { Manifest } from '../manifest/manifest.ts';

export interface MirrorProgress {
  namespace: string;
  /** Objects and bytes copied so far, and those known to be copied (grows as namespaces are planned). */
  objects: number;
  bytes: number;
  totalObjects: number;
  totalBytes: number;
}

export interface MirrorResult {
  namespaces: Array<{ namespace: string; version: number; copied: number; skipped: number; bytes: number }>;
}

export class MirrorError extends Error {}

export interface MirrorOptions {
  /** Only these; absent: every namespace the source lists. */
  namespaces?: string[];
  /** Refuse a namespace that already exists at the destination (restore onto an empty cluster). */
  refuseExisting?: boolean;
  onProgress?: (p: MirrorProgress) => void;
  /** Objects copied at once. */
  concurrency?: number;
}

async function getOrNull(store: ObjectStore, key: string): Promise<Buffer | null> {
  try {
    return (await store.get(key)).body;
  } catch (e) {
    if (isStorageError(e, 'not_found')) return null;
    throw e;
  }
}

/** The version the pointer names, unless the namespace is missing or being deleted. */
async function liveManifest(store: ObjectStore, ns: string): Promise<Manifest | null> {
  const pointer = await getOrNull(store, manifestPointerKey(ns));
  if (!pointer) return null;
  const { version } = JSON.parse(pointer.toString('utf8')) as { version: number };
  const body = await getOrNull(store, manifestVersionKey(ns, version));
  const manifest = body && (JSON.parse(body.toString('utf8')) as Manifest);
  return manifest && !manifest.deleted ? manifest : null;
}

async function keysUnder(store: ObjectStore, prefix: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const obj of listAll(store, prefix)) out.set(obj.key, obj.size);
  return out;
}

export async function mirrorNamespaces(from: ObjectStore, to: ObjectStore, opts: MirrorOptions = {}): Promise<MirrorResult> {
  const names = opts.namespaces ?? await listNamespaces(from);
  const limit = pLimit(opts.concurrency ?? 8);
  const progress: MirrorProgress = { namespace: '', objects: 0, bytes: 0, totalObjects: 0, totalBytes: 0 };
  const result: MirrorResult = { namespaces: [] };
  for (const ns of names) {
    progress.namespace = ns;
    const pointer = await getOrNull(from, manifestPointerKey(ns));
    if (!pointer) throw new MirrorError(`namespace '${ns}' does not exist in the source`);
    const { version } = JSON.parse(pointer.toString('utf8')) as { version: number };
    const current = JSON.parse((await from.get(manifestVersionKey(ns, version))).body.toString('utf8')) as Manifest;
    if (current.deleted) throw new MirrorError(`namespace '${ns}' is being deleted in the source`);
    if (opts.refuseExisting && (await liveManifest(to, ns))) {
      throw new MirrorError(`namespace '${ns}' already exists at the destination; delete it there first`);
    }

    // 2. The history: every version up to the snapshot's (orphans above it are not part of it).
    const versions = [...(await keysUnder(from, manifestPrefix(ns))).keys()].filter((k) => (manifestVersionOfKey(k) ?? Infinity) <= version);
    const manifests: Manifest[] = [];
    const copies: Array<{ key: string; body?: Buffer; size: number }> = [];
    for (const key of versions) {
      const body = await getOrNull(from, key);
      if (!body) continue; // pruned by GC meanwhile
      manifests.push(JSON.parse(body.toString('utf8')) as Manifest);
      copies.push({ key, body, size: body.length });
    }
    // 3. Segments, wherever they lie, and the markers that keep borrowed ones alive.
    const segments = new Map<string, number>();
    for (const m of manifests) for (const s of m.segments) segments.set(s.key, s.bytes);
    const lenders = new Set<string>();
    for (const key of segments.keys()) {
      const owner = namespaceOfKey(key);
      if (owner !== null && owner !== ns) lenders.add(owner);
    }
    let skipped = 0;
    const present = await Promise.all([...segments.keys()].map((key) => limit(async () => (await to.head(key)) !== null)));
    [...segments.entries()].forEach(([key, size], i) => {
      if (present[i]) skipped++;
      else copies.push({ key, size });
    });
    // 4. The WAL tail after the snapshot's watermark.
    const wal = [...(await keysUnder(from, walPrefix(ns))).entries()].filter(([k]) => (walSeqOfKey(k) ?? 0) > current.wal_watermark);
    for (const [key, size] of wal) copies.push({ key, size });

    progress.totalObjects += copies.length + 2;
    progress.totalBytes += copies.reduce((n, c) => n + c.size, 0);
    opts.onProgress?.({ ...progress });
    let bytes = 0;
    await Promise.all(copies.map((c) => limit(async () => {
      const body = c.body ?? (await from.get(c.key)).body;
      await to.put(c.key, body);
      bytes += body.length;
      progress.objects++;
      progress.bytes += body.length;
      opts.onProgress?.({ ...progress });
    })));
    for (const lender of lenders) await to.put(borrowerKey(lender, ns), Buffer.alloc(0));
    // What the destination holds of an older snapshot or incarnation and this one does not:
    // WAL after the new watermark goes before the pointer (a replay would read it), the rest after.
    const keep = new Set([...versions, ...wal.map(([k]) => k)]);
    const stale = async (prefix: string, when: (key: string) => boolean) => {
      for (const key of (await keysUnder(to, prefix)).keys()) {
        if (key !== manifestPointerKey(ns) && !keep.has(key) && when(key)) await to.delete(key);
      }
    };
    await stale(walPrefix(ns), (k) => (walSeqOfKey(k) ?? 0) > current.wal_watermark);
    // 5. The pointer last: the destination's namespace is complete once it is there.
    await to.put(manifestPointerKey(ns), pointer);
    await to.put(catalogKey(ns), Buffer.alloc(0));
    await stale(walPrefix(ns), () => true);
    await stale(manifestPrefix(ns), () => true);
    progress.objects += 2;
    opts.onProgress?.({ ...progress });
    result.namespaces.push({ namespace: ns, version, copied: copies.length, skipped, bytes });
  }
  return result;
}
