// Shared segments (copy-on-write copies, indexer/copy.ts): a copy's manifests name segments under
// the source's prefix instead of copying them. Who may delete such a segment is decided here.
//
// Accounting: before a copy's first manifest is created, a marker {lender}/borrowers/{copy} is
// written under every namespace whose segments the copy will name (storage/layout.ts). Whoever
// deletes segments under a lender's prefix (the lender's GC, the lender's delete, and the sweep
// below once the lender is gone) first asks every borrower the markers name: a segment that the
// borrower's current version, its retained history or any of its versions younger than the grace
// period names is kept. A marker whose borrower names none of the lender's segments any more (it
// compacted them away, was deleted, or its copy crashed before committing) goes once it is older
// than the grace period, which covers a copy between its marker and its manifest.
import type { ObjectStore } from '../storage/object-store.ts';
import { listAll } from '../storage/object-store.ts';
import { isStorageError } from '../storage/errors.ts';
import { borrowerOfKey, borrowerPrefix, manifestPrefix, manifestVersionOfKey, namespaceOfKey, segmentPrefix } from '../storage/layout.ts';
import { ManifestStore, type Manifest } from './manifest.ts';
import { historySince } from './history.ts';

export interface RetentionWindow {
  /** compaction.gc_grace_secs, in ms: readers and commits in flight. */
  graceMs: number;
  /** compaction.history_retention_secs, in ms: the restorable history. */
  retentionMs: number;
}

export interface Lent {
  /** Segment keys under the lender's prefix that some borrower still names. */
  keys: Set<string>;
  /** Markers of borrowers that no longer need the lender: safe to delete. */
  staleMarkers: string[];
}

/** Every manifest of `ns` whose segments must stay: current, retained history, young versions. */
export async function neededManifests(store: ObjectStore, ns: string, window: RetentionWindow, now: number): Promise<Manifest[] | null> {
  const manifests = new ManifestStore(store);
  const loaded = await manifests.load(ns);
  const out: Manifest[] = [];
  if (loaded && !loaded.manifest.deleted) out.push(...await historySince(manifests, ns, loaded.manifest, now - window.retentionMs));
  for await (const obj of listAll(store, manifestPrefix(ns))) {
    const version = manifestVersionOfKey(obj.key);
    if (version === null || obj.lastModified.getTime() < now - window.graceMs || out.some((m) => m.version === version)) continue;
    try {
      out.push(await manifests.loadVersion(ns, version));
    } catch (e) {
      if (!isStorageError(e, 'not_found')) throw e;
    }
  }
  return loaded || out.length > 0 ? out : null;
}

/** What the borrowers of `lender` still name under its prefix, and which of their markers may go. */
export async function lentSegments(store: ObjectStore, lender: string, window: RetentionWindow, now: number): Promise<Lent> {
  const lent: Lent = { keys: new Set(), staleMarkers: [] };
  for await (const marker of listAll(store, borrowerPrefix(lender))) {
    const borrower = borrowerOfKey(marker.key);
    if (borrower === null) continue;
    let uses = false;
    for (const m of (await neededManifests(store, borrower, window, now)) ?? []) {
      for (const s of m.segments) {
        if (namespaceOfKey(s.key) !== lender) continue;
        lent.keys.add(s.key);
        uses = true;
      }
    }
    if (!uses && marker.lastModified.getTime() < now - window.graceMs) lent.staleMarkers.push(marker.key);
  }
  return lent;
}

/**
 * Cleans the prefix of a lender that no longer exists (deleted while copies still named its
 * segments): deletes the segments no borrower names any more and the markers of borrowers done
 * with it. Called by a borrower's GC and delete; does nothing while the lender exists (its own
 * GC judges then). Returns the number of objects deleted.
 */
export async function sweepLender(store: ObjectStore, lender: string, window: RetentionWindow, now: number): Promise<number> {
  if (await new ManifestStore(store).loadPointer(lender)) return 0;
  const lent = await lentSegments(store, lender, window, now);
  const garbage: string[] = [];
  for await (const obj of listAll(store, segmentPrefix(lender))) {
    if (!lent.keys.has(obj.key) && obj.lastModified.getTime() < now - window.graceMs) garbage.push(obj.key);
  }
  // Segments first: a marker outlives every segment its borrower might name.
  for (const key of [...garbage, ...lent.staleMarkers]) await store.delete(key);
  return garbage.length + lent.staleMarkers.length;
}

/** The namespaces whose segments `m` names, itself excepted, with those it already records. */
export function lendersOf(ns: string, m: Pick<Manifest, 'segments' | 'lenders'>): string[] {
  const out = new Set(m.lenders ?? []);
  for (const s of m.segments) {
    const owner = namespaceOfKey(s.key);
    if (owner !== null && owner !== ns) out.add(owner);
  }
  out.delete(ns);
  return [...out];
}
