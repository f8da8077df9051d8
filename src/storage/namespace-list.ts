// Listing namespaces by their catalog markers (one marker object per namespace, layout.ts
// catalogKey), so a page of names is one LIST: for the catalog's list routes and for backups.
import type { ObjectStore } from './object-store.ts';
import { listAll } from './object-store.ts';
import { CATALOG_PREFIX, catalogKey, namespaceOfCatalogKey } from './layout.ts';

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

