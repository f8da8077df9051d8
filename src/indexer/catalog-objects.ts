// Removing a namespace's objects, on objects alone; NamespaceCatalog (catalog.ts) calls it under
// the name's lock.
import type { ObjectStore } from '../storage/object-store.ts';
import { listAll } from '../storage/object-store.ts';
import { manifestPointerKey, manifestPrefix, namespacePrefix, parseKey } from '../storage/layout.ts';
import { lentSegments, type RetentionWindow } from '../manifest/shared.ts';

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
