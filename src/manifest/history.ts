// A namespace's history: the chain of versions from the one the pointer names back through each
// version's `parent`. Orphans (versions the pointer never named) are off the chain, so they are
// never listed or restored. A version's state is self-contained: its segments with their deletion
// lists hold every write up to its WAL watermark, so restoring it needs no WAL object (the WAL
// after a version's watermark is not part of that version; a restore flushes the tail first,
// docs/storage.md "History and restore").
import type { Manifest } from './manifest.ts';
import { ManifestStore } from './manifest.ts';
import { isStorageError } from '../storage/errors.ts';

/** When a version was committed, in ms since the epoch (older manifests: their namespace's creation). */
export function committedAt(m: Manifest): number {
  return Date.parse(m.committed_at ?? m.created_at);
}

/** Live documents in a version's segments. */
export function versionDocuments(m: Manifest): number {
  return m.segments.reduce((n, s) => n + s.rows - s.deleted_rows, 0);
}

/**
 * The chain from `current` (included, first) back to the version that was current at `since`
 * (ms): every version committed at or after it, plus the newest one committed before it, which
 * is the state a point in time at the start of the window names. Stops early where a parent is
 * gone (pruned) or unknown (a manifest written before versions named their parent).
 */
export async function historySince(manifests: ManifestStore, ns: string, current: Manifest, since: number): Promise<Manifest[]> {
  const chain = [current];
  let at = current;
  while (committedAt(at) > since && at.parent !== undefined) {
    let parent: Manifest;
    try {
      parent = await manifests.loadVersion(ns, at.parent);
    } catch (e) {
      if (isStorageError(e, 'not_found')) break;
      throw e;
    }
    // A namespace deleted and created again numbers its versions over: never cross into an earlier incarnation.
    if (parent.created_at !== current.created_at || parent.deleted) break;
    chain.push(parent);
    at = parent;
  }
  return chain;
}
