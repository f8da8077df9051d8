// Copy-on-write copy of a namespace: the target's first manifest names the source version's
// segments where they lie (under the source's prefix, or wherever the source borrowed them from),
// so nothing is copied. From then on each namespace writes its own WAL and segments. Who may
// delete a shared segment is manifest/shared.ts's accounting:
//
//   1. under the source's lock (no delete, restore, GC of the source meanwhile on this node):
//      read the source version (the current one after flushing its tail, or a named one);
//   2. write {lender}/borrowers/{target} under every namespace whose segments it names;
//   3. create the target's first manifest (create-if-absent pointer: a concurrent create of the
//      same name loses or wins whole);
//   4. write the target's catalog marker: from here on it is listed.
//
// A crash after 2 leaves markers that name no user: the lenders' GC deletes them after the grace
// period. A crash after 3 leaves an unlisted copy: the client's retry of the same copy finds it
// (copied_from names the source) and finishes step 4. docs/storage.md lists these crash points.
import { Errors } from '../errors.ts';
import { borrowerKey, catalogKey } from '../storage/layout.ts';
import { ManifestStore, type Manifest } from '../manifest/manifest.ts';
import { historySince, versionDocuments } from '../manifest/history.ts';
import { lendersOf } from '../manifest/shared.ts';
import { checkNamespaceName } from '../schema/parse.ts';
import type { NamespaceCatalog } from './catalog.ts';
import { flushTail } from './flush.ts';
import { resolveTarget } from './restore.ts';

export interface CopyOptions {
  /** A version from the source's history; absent: its current state, every acknowledged write included. */
  version?: number;
}

export interface CopyResult {
  namespace: string;
  source: string;
  source_version: number;
  /** The target's first manifest version. */
  version: number;
  documents: number;
  segments: number;
  /** False when a retry found the copy already made (and only listed it). */
  created: boolean;
}

/**
 * Makes `target` a copy of `source` (its current state, or `options.version`) sharing its
 * segments. 404 when the source or the version does not exist, 409 SILT_ERR_NAMESPACE_EXISTS
 * when the target does (unless it is this very copy, made by an interrupted earlier call).
 * Both names are checked. Call it on the source's owner.
 */
export async function copyNamespace(catalog: NamespaceCatalog, source: string, target: string, options: CopyOptions = {}): Promise<CopyResult> {
  checkNamespaceName(source);
  checkNamespaceName(target);
  if (source === target) throw Errors.invalidRequest('to', `the copy must have another name than '${source}'`);
  const manifests = new ManifestStore(catalog.store);
  // Every write acknowledged before the copy began is then in the source's current version.
  if (options.version === undefined) {
    const ns = await catalog.get(source);
    await catalog.guarded(source, () => flushTail(ns));
  }
  return catalog.serialized([source, target], () => catalog.guarded(target, async () => {
    const current = await catalog.loadManifest(source);
    let from: Manifest = current.manifest;
    if (options.version !== undefined) {
      const history = await catalog.guarded(source, () => historySince(manifests, source, current.manifest, catalog.now() - catalog.window.retentionMs));
      from = resolveTarget(source, history, { version: options.version }, catalog.now());
    }
    const existing = await manifests.load(target);
    const result = (version: number, created: boolean): CopyResult => ({
      namespace: target, source, source_version: from.version, version,
      documents: versionDocuments(from), segments: from.segments.length, created,
    });
    if (existing && !existing.manifest.deleted) {
      const listed = await catalog.store.head(catalogKey(target));
      if (listed || existing.manifest.copied_from?.namespace !== source) throw Errors.namespaceExists(target);
      await catalog.store.put(catalogKey(target), Buffer.alloc(0));
      return result(existing.manifest.version, false);
    }
    const lenders = lendersOf(target, { segments: from.segments, lenders: [...(from.lenders ?? []), source] });
    for (const lender of lenders) await catalog.store.put(borrowerKey(lender, target), Buffer.alloc(0));
    if (existing) await catalog.clearForCreate(target);
    const made = await manifests.createFrom(target, {
      schema: from.schema,
      wal_watermark: from.wal_watermark,
      segments: from.segments,
      deleted: false,
      wal_ops: from.wal_ops ?? 0,
      copied_from: { namespace: source, version: from.version },
      lenders,
    }, existing);
    await catalog.store.put(catalogKey(target), Buffer.alloc(0));
    catalog.forget(target);
    return result(made.manifest.version, true);
  }));
}
