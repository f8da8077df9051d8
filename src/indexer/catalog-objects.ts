// The catalog's work on objects alone: listing namespaces by their catalog markers (one marker
// object per namespace, storage/layout.ts catalogKey, so listing is one paged LIST), and removing
// a namespace's objects. NamespaceCatalog (catalog.ts) calls these under the name's lock.
import type { ObjectStore } from '../storage/object-store.ts';
import { listAll } from '../storage/object-store.ts';
import { CATALOG_PREFIX, catalogKey, manifestPointerKey, manifestPrefix, namespaceOfCatalogKey, namespacePrefix, parseKey } from '../storage/layout.ts';
import { lentSegments, type RetentionWindow } from '../manifest/shared.ts';

/**
 * One page of namespace names in order, those starting with `prefix`, after `cursor` (the last
 * name of the previous page): one LIST of the catalog. `next` is null on the last page.
 */
export async function listNamespacePage(store: ObjectStore, prefix: string, pageSize: number, cursor: string | null): Promise<{ names: string[]; next: string | null }> {
  const names: string[] = [];
  let startAfter = cursor !== null && cursor >= prefix ? catalogKey(cursor) : undefined;
  // Keys that are not namespace markers are skipped, so a page may take more than one LIST.
  for (;;) {
    const page = await store.list(catalogKey(prefix), { ...(startAfter === undefined ? {} : { startAfter }), maxKeys: Math.min(1000, pageSize + 1) });
    for (const obj of page.objects) {
      const ns = namespaceOfCatalogKey(obj.key);
      if (ns !== null) names.push(ns);
    }
    if (names.length > pageSize) return { names: names.slice(0, pageSize), next: names[pageSize - 1]! };
    const last = page.objects[page.objects.length - 1];
    if (!page.nextToken || !last) return { names, next: null };
    startAfter = last.key;
  }
}

/** Every namespace name. */
export async function listNamespaces(store: ObjectStore): Promise<string[]> {
  const names: string[] = [];
  for await (const obj of listAll(store, CATALOG_PREFIX)) {
    const ns = namespaceOfCatalogKey(obj.key);
    if (ns !== null) names.push(ns);
  }
  return names;
}

/**
 * Deletes the namespace's objects; the manifest pointer and history only when `all`, and the
 * version the pointer names only once the pointer is gone (else a crash would leave a pointer
 * to nothing, and the name unusable).
 */
export async function removeNamespaceObjects(store: ObjectStore, name: string, all: boolean, window: RetentionWindow, now: number): Promise<void> {
  const manifests = manifestPrefix(name);
  const data: string[] = [];
  const versions: string[] = [];
  // Segments that copies still name stay, with their borrowers' markers; whoever sweeps the
  // prefix later (manifest/shared.ts) deletes them once no copy needs them.
  const lent = await lentSegments(store, name, window, now);
  const stale = new Set(lent.staleMarkers);
  for await (const obj of listAll(store, namespacePrefix(name))) {
    if (lent.keys.has(obj.key) || (parseKey(obj.key)?.kind === 'borrower' && !stale.has(obj.key))) continue;
    if (!obj.key.startsWith(manifests)) data.push(obj.key);
    else if (obj.key !== manifestPointerKey(name)) versions.push(obj.key);
  }
  const removeAll = async (keys: string[]) => {
    for (let i = 0; i < keys.length; i += 16) await Promise.all(keys.slice(i, i + 16).map((k) => store.delete(k)));
  };
  await removeAll(data);
  if (!all) return;
  await store.delete(manifestPointerKey(name));
  await removeAll(versions);
}
