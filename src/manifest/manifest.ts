// The manifest: immutable versions plus a pointer replaced by compare-and-swap (DESIGN.md §2).
//
//   {ns}/manifest/{version:020}.json   immutable, created with If-None-Match: *
//   {ns}/manifest/current              {"version": N, "created_at": …}, replaced with If-Match: <etag>
//
// A writer that lost a race fails its pointer swap (or its version create) and must reload:
// the two conditional writes are the fencing tokens between writers.
import type { ObjectStore } from '../storage/object-store.ts';
import { listAll } from '../storage/object-store.ts';
import { isStorageError } from '../storage/errors.ts';
import type { NamespaceSchema } from '../schema/types.ts';
import type { SegmentMeta } from '../segment/index.ts';

export const MANIFEST_FORMAT = 1;

export interface SegmentRef {
  id: string;
  /** Object key of the segment (one object; sections are read with ranged GETs). */
  key: string;
  /** Rows in the segment, deleted ones included. */
  rows: number;
  /** Highest WAL seq whose writes the segment holds. */
  max_seq: number;
  bytes: number;
  /** Section table and column statistics, so readers need no extra round trip for the footer. */
  meta: SegmentMeta;
  /** Rows deleted since the segment was written (superseded or deleted ids): encodeRowSet(). */
  deletions: string;
  deleted_rows: number;
}

export interface Manifest {
  format: number;
  namespace: string;
  version: number;
  schema: NamespaceSchema;
  created_at: string;
  /** Highest WAL seq folded into segments; WAL objects after it are the unindexed tail. */
  wal_watermark: number;
  segments: SegmentRef[];
  /** Set by DELETE; the rest of the namespace's objects are being removed. */
  deleted: boolean;
}

export interface LoadedManifest {
  manifest: Manifest;
  pointerEtag: string;
}

export class ManifestConflictError extends Error {
  constructor(readonly namespace: string, readonly version: number) {
    super(`manifest of namespace '${namespace}' changed concurrently (while committing version ${version})`);
  }
}

export const manifestPrefix = (ns: string) => `${ns}/manifest/`;
export const manifestPointerKey = (ns: string) => `${ns}/manifest/current`;
export const manifestVersionKey = (ns: string, version: number) =>
  `${ns}/manifest/${String(version).padStart(20, '0')}.json`;

export class ManifestStore {
  constructor(private readonly store: ObjectStore) {}

  async load(ns: string): Promise<LoadedManifest | null> {
    const pointer = await this.loadPointer(ns);
    return pointer && { manifest: await this.loadVersion(ns, pointer.version), pointerEtag: pointer.etag };
  }

  /** The version the pointer names (one GET); null when the namespace has no manifest. */
  async loadPointer(ns: string): Promise<{ version: number; etag: string } | null> {
    let pointer;
    try {
      pointer = await this.store.get(manifestPointerKey(ns));
    } catch (e) {
      if (isStorageError(e, 'not_found')) return null;
      throw e;
    }
    const { version } = JSON.parse(pointer.body.toString('utf8')) as { version: number };
    return { version, etag: pointer.etag };
  }

  /** One manifest version; `fetch` may stand in for the store's GET (a cache: versions are immutable). */
  async loadVersion(ns: string, version: number, fetch?: (key: string) => Promise<Buffer>): Promise<Manifest> {
    const key = manifestVersionKey(ns, version);
    const bytes = fetch ? await fetch(key) : (await this.store.get(key)).body;
    const manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
    if (manifest.format !== MANIFEST_FORMAT) {
      throw new Error(`manifest ${manifestVersionKey(ns, version)} has unsupported format ${manifest.format}`);
    }
    return manifest;
  }

  /** The first manifest of a namespace (or of its re-creation after a delete). */
  async create(ns: string, schema: NamespaceSchema, previous: LoadedManifest | null): Promise<LoadedManifest> {
    let highest = previous?.manifest.version ?? 0;
    if (!previous) {
      for await (const obj of listAll(this.store, manifestPrefix(ns))) {
        const m = /(\d{20})\.json$/.exec(obj.key);
        if (m) highest = Math.max(highest, Number(m[1]));
      }
    }
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      namespace: ns,
      version: highest + 1,
      schema,
      created_at: new Date().toISOString(),
      wal_watermark: 0,
      segments: [],
      deleted: false,
    };
    return this.write(ns, manifest, previous?.pointerEtag ?? null);
  }

  /** Commits the next version on top of `base`; throws ManifestConflictError when another writer won. */
  async commit(ns: string, base: LoadedManifest, change: Partial<Omit<Manifest, 'version' | 'format' | 'namespace'>>): Promise<LoadedManifest> {
    const manifest: Manifest = { ...base.manifest, ...change, version: base.manifest.version + 1 };
    return this.write(ns, manifest, base.pointerEtag);
  }

  private async write(ns: string, manifest: Manifest, pointerEtag: string | null): Promise<LoadedManifest> {
    const body = Buffer.from(JSON.stringify(manifest), 'utf8');
    try {
      await this.store.put(manifestVersionKey(ns, manifest.version), body, { ifNoneMatch: '*' });
      // created_at makes the pointer's bytes (and so its etag) differ between incarnations of a
      // namespace deleted and created again, whose version numbers may start over.
      const pointer = Buffer.from(JSON.stringify({ version: manifest.version, created_at: manifest.created_at }), 'utf8');
      const { etag } = await this.store.put(
        manifestPointerKey(ns),
        pointer,
        pointerEtag === null ? { ifNoneMatch: '*' } : { ifMatch: pointerEtag },
      );
      return { manifest, pointerEtag: etag };
    } catch (e) {
      if (isStorageError(e, 'precondition_failed')) throw new ManifestConflictError(ns, manifest.version);
      throw e;
    }
  }
}
