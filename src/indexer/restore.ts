// Point-in-time restore: makes an earlier version's state current again as a NEW version on top
// of the current one, so the restore is itself in the history and can be undone by restoring the
// version it replaced. The namespace is quiesced first (catalog.quiesce: writes drained, tail
// flushed), so the replaced version holds every acknowledged write. The new version's WAL
// watermark is past every WAL object stored, so a replay after a crash or on another node never
// brings back a write the restore dropped.
import { Errors } from '../errors.ts';
import { listAll } from '../storage/object-store.ts';
import { walKey, walPrefix, walSeqOfKey } from '../storage/layout.ts';
import { ManifestStore, type Manifest } from '../manifest/manifest.ts';
import { committedAt, historySince, versionDocuments } from '../manifest/history.ts';
import type { NamespaceCatalog } from './catalog.ts';

/** A restore point: a version number, or an instant (the version current then). */
export type RestoreTarget = { version: number } | { timestamp: number };

export interface VersionInfo {
  version: number;
  committed_at: string;
  documents: number;
  segments: number;
  wal_watermark: number;
  current: boolean;
  restored_from?: number;
}

export interface RestoreResult {
  namespace: string;
  /** The new version, whose state is `restored_from`'s. */
  version: number;
  restored_from: number;
  restored_from_committed_at: string;
  /** Operations (upserts, deletes) acknowledged after the restore point, now gone. */
  dropped_writes: number;
  documents_before: number;
  documents_after: number;
}

export function versionInfo(m: Manifest, current: number): VersionInfo {
  return {
    version: m.version,
    committed_at: new Date(committedAt(m)).toISOString(),
    documents: versionDocuments(m),
    segments: m.segments.length,
    wal_watermark: m.wal_watermark,
    current: m.version === current,
    ...(m.restored_from === undefined ? {} : { restored_from: m.restored_from }),
  };
}

/** The restorable history, newest first. */
export async function listVersions(catalog: NamespaceCatalog, name: string, retentionMs: number, now = Date.now()): Promise<VersionInfo[]> {
  const loaded = await catalog.loadManifest(name);
  const history = await catalog.guarded(name, () => historySince(new ManifestStore(catalog.store), name, loaded.manifest, now - retentionMs));
  return history.map((m) => versionInfo(m, loaded.manifest.version));
}

/** The version of `history` (newest first) that `target` names; a 4xx saying why when none. */
export function resolveTarget(name: string, history: Manifest[], target: RestoreTarget, now: number): Manifest {
  const oldest = history[history.length - 1]!;
  // The chain ends at the namespace's first version, or earlier where older history was pruned.
  const truncated = oldest.parent !== undefined;
  if ('version' in target) {
    const found = history.find((m) => m.version === target.version);
    if (found) return found;
    if (truncated && target.version < oldest.version) throw Errors.versionExpired(name, `version ${target.version}`, oldest.version);
    throw Errors.versionNotFound(name, target.version);
  }
  if (target.timestamp > now) throw Errors.invalidRequest('timestamp', `${new Date(target.timestamp).toISOString()} is in the future`);
  const found = history.find((m) => committedAt(m) <= target.timestamp);
  if (found) return found;
  const when = new Date(target.timestamp).toISOString();
  if (truncated) throw Errors.versionExpired(name, when, oldest.version);
  throw Errors.versionBeforeHistory(name, when, new Date(committedAt(oldest)).toISOString());
}

export async function restoreNamespace(catalog: NamespaceCatalog, name: string, target: RestoreTarget, opts: { retentionMs: number; now?: () => number }): Promise<RestoreResult> {
  const now = opts.now ?? Date.now;
  const manifests = new ManifestStore(catalog.store);
  // Checked before anything is closed or flushed, so a bad request changes nothing.
  const before = await catalog.loadManifest(name);
  resolveTarget(name, await catalog.guarded(name, () => historySince(manifests, name, before.manifest, now() - opts.retentionMs)), target, now());
  return catalog.quiesce(name, (loaded) => catalog.guarded(name, async () => {
    // Resolved again on the flushed state: the flush may itself be the version a timestamp names.
    const history = await historySince(manifests, name, loaded.manifest, now() - opts.retentionMs);
    const source = resolveTarget(name, history, target, now());
    let watermark = loaded.manifest.wal_watermark;
    // A WAL object past the applied state (a put whose answer was lost) was never acknowledged; it goes too.
    for await (const obj of listAll(catalog.store, walPrefix(name), watermark > 0 ? walKey(name, watermark) : undefined)) watermark = Math.max(watermark, walSeqOfKey(obj.key) ?? 0);
    const lenders = [...new Set([...(loaded.manifest.lenders ?? []), ...(source.lenders ?? [])])];
    const next = await manifests.commit(name, loaded, {
      schema: source.schema,
      segments: source.segments,
      wal_watermark: watermark,
      restored_from: source.version,
      ...(lenders.length > 0 ? { lenders } : {}),
    });
    return {
      namespace: name,
      version: next.manifest.version,
      restored_from: source.version,
      restored_from_committed_at: new Date(committedAt(source)).toISOString(),
      dropped_writes: Math.max(0, (loaded.manifest.wal_ops ?? 0) - (source.wal_ops ?? 0)),
      documents_before: versionDocuments(loaded.manifest),
      documents_after: versionDocuments(source),
    };
  }));
}
