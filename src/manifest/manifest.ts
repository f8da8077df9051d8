// The manifest: immutable versions plus a pointer replaced by compare-and-swap (DESIGN.md §2).
// Keys (storage/layout.ts):
//   manifestVersionKey   immutable, created with If-None-Match: *
//   manifestPointerKey   {"version": N, "created_at": …, "commit": …, "manifest": {…}}, replaced
//                        with If-Match: <etag>
//
// The pointer carries a copy of the version it names (`manifest`), so a reader opening a
// namespace needs one GET, not two: the cold first query's chain was pointer → version → open.
// The version object stays the record (history, point-in-time restore, GC, backups read it);
// a pointer written before the copy existed names only the version, and is read through it.
//
// The pointer's compare-and-swap on the writer's base etag is the one fencing token: a writer
// whose base is stale loses it and must reload. A version object is only a proposal until the
// pointer names it. One that never gets named (the writer crashed, ran out of retries or lost
// the race between its two puts) is an orphan: it blocks nothing, because a writer whose create
// collides re-reads the pointer and, when it still holds the base etag, takes the next free
// number above every existing version. docs/storage.md lists the invariants and crash points.
import type { GetOptions, ObjectStore } from '../storage/object-store.ts';
import { listAll } from '../storage/object-store.ts';
import { manifestPointerKey, manifestPrefix, manifestVersionKey, manifestVersionOfKey } from '../storage/layout.ts';
import { randomBytes } from 'node:crypto';
import { isStorageError } from '../storage/errors.ts';
import type { NamespaceSchema } from '../schema/types.ts';
import type { SegmentMeta } from '../segment/index.ts';
import type { IvfRouteJson } from '../segment/ivf-route.ts';

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
  /** When the newest write folded into segments was made; absent before the first flush. */
  updated_at?: string;
  /** Highest WAL seq folded into segments; WAL objects after it are the unindexed tail. */
  wal_watermark: number;
  segments: SegmentRef[];
  /** Set by DELETE; the rest of the namespace's objects are being removed. */
  deleted: boolean;
  /** Random per commit, also in the pointer: names the writer, so its bytes are never another's. */
  commit?: string;
  /** When this version was committed (ISO-8601, the writer's clock): the point-in-time history. */
  committed_at?: string;
  /** The version this one was committed on top of; the chain from the pointer is the history (orphans are off it). */
  parent?: number;
  /** Operations (upserts and deletes) folded into segments or dropped by a restore, cumulative: restore counts what it drops from it. */
  wal_ops?: number;
  /** Set by a restore: the version whose state this one makes current again. */
  restored_from?: number;
  /** Set by a copy (indexer/copy.ts): the namespace and version this one started from. */
  copied_from?: { namespace: string; version: number };
  /** Namespaces whose segments this one's history may reference (copy-on-write); their GC asks this one. */
  lenders?: string[];
}

export interface LoadedManifest {
  manifest: Manifest;
  pointerEtag: string;
  /** Per IVF segment id, the route the pointer carries (absent in older pointers and for other segments). */
  routes?: Routes;
}

/** IVF routes by segment id (segment/ivf-route.ts). */
export type Routes = Record<string, IvfRouteJson>;

/**
 * Route bytes one pointer carries at most. Every commit rewrites the pointer and every view that
 * sees the commit reads it: GloVe-50k's one route is 0.13 MiB, a 1M × 128-d namespace's about
 * 2.7 MB (float32 centroids as base64). A segment without a route still answers, its first
 * query a round trip slower (open, then codes).
 */
export const POINTER_ROUTES_MAX_BYTES = 4 * 1024 * 1024;

/** The listed segments' routes, the largest segments first, as many as fit in POINTER_ROUTES_MAX_BYTES. */
export function pointerRoutes(segments: readonly SegmentRef[], all: Routes, maxBytes = POINTER_ROUTES_MAX_BYTES): Routes {
  const routes: Routes = {};
  let bytes = 0;
  for (const s of [...segments].sort((a, b) => b.rows - a.rows)) {
    const route = all[s.id];
    if (route === undefined) continue;
    const size = route.centroids.length + route.offsets.length;
    if (bytes + size > maxBytes) continue;
    bytes += size;
    routes[s.id] = route;
  }
  return routes;
}

/** What the pointer object holds; `manifest` is absent in pointers written before it was added. */
interface PointerBody {
  version: number;
  created_at: string;
  commit?: string;
  manifest?: Manifest;
  /** Per IVF segment of `manifest`, its centroids and codes offsets (segment/ivf-route.ts). */
  routes?: Routes;
}

function checkFormat(ns: string, version: number, manifest: Manifest): void {
  if (manifest.format !== MANIFEST_FORMAT) {
    throw new Error(`manifest ${manifestVersionKey(ns, version)} has unsupported format ${manifest.format}`);
  }
}

export class ManifestConflictError extends Error {
  constructor(readonly namespace: string, readonly version: number) {
    super(`manifest of namespace '${namespace}' changed concurrently (while committing version ${version})`);
  }
}

/** Version creates that may collide with orphans before a commit gives up (each collision costs a LIST). */
const MAX_VERSION_ATTEMPTS = 8;

export class ManifestStore {
  constructor(private readonly store: ObjectStore) {}

  async load(ns: string): Promise<LoadedManifest | null> {
    const pointer = await this.loadPointer(ns);
    return pointer && {
      manifest: pointer.manifest ?? await this.loadVersion(ns, pointer.version), pointerEtag: pointer.etag,
      ...(pointer.routes ? { routes: pointer.routes } : {}),
    };
  }

  /**
   * The version the pointer names (one GET), with the manifest when the pointer carries it
   * (pointers written before the copy do not); null when the namespace has no manifest.
   */
  async loadPointer(ns: string): Promise<{ version: number; etag: string; manifest?: Manifest; routes?: Routes } | null> {
    const pointer = await this.readPointer(ns);
    if (!pointer) return null;
    const { version, manifest, routes } = JSON.parse(pointer.body.toString('utf8')) as PointerBody;
    if (manifest === undefined) return { version, etag: pointer.etag };
    checkFormat(ns, version, manifest);
    if (manifest.version !== version) throw new Error(`manifest pointer of '${ns}' names version ${version} but carries version ${manifest.version}`);
    return { version, etag: pointer.etag, manifest, ...(routes ? { routes } : {}) };
  }

  /**
   * The pointer's etag alone (a HEAD), null when the namespace has no manifest: whether the
   * manifest changed, without the copy of it the pointer carries (a view refreshing per query).
   */
  async pointerEtag(ns: string): Promise<string | null> {
    return (await this.store.head(manifestPointerKey(ns)))?.etag ?? null;
  }

  /**
   * One manifest version. A version number comes back when a namespace is deleted and created
   * again; a caller that names the pointer etag it read as `generation` lets a cached store serve
   * the version from a copy made under that same pointer.
   */
  async loadVersion(ns: string, version: number, options?: GetOptions): Promise<Manifest> {
    const key = manifestVersionKey(ns, version);
    const bytes = (await this.store.get(key, undefined, options)).body;
    const manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
    checkFormat(ns, version, manifest);
    return manifest;
  }

  /** The first manifest of a namespace (or of its re-creation after a delete). */
  async create(ns: string, schema: NamespaceSchema, previous: LoadedManifest | null): Promise<LoadedManifest> {
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      namespace: ns,
      // Above every version left by an earlier incarnation or an interrupted create.
      version: previous ? previous.manifest.version + 1 : (await this.highestVersion(ns)) + 1,
      schema,
      created_at: new Date().toISOString(),
      wal_watermark: 0,
      segments: [],
      deleted: false,
    };
    return this.write(ns, manifest, previous?.pointerEtag ?? null);
  }

  /** The first manifest of a namespace that starts from another's state (a copy); fields as given. */
  async createFrom(ns: string, manifest: Omit<Manifest, 'version' | 'format' | 'namespace' | 'created_at'>, previous: LoadedManifest | null): Promise<LoadedManifest> {
    return this.write(ns, {
      ...manifest,
      format: MANIFEST_FORMAT,
      namespace: ns,
      version: previous ? previous.manifest.version + 1 : (await this.highestVersion(ns)) + 1,
      created_at: new Date().toISOString(),
    }, previous?.pointerEtag ?? null);
  }

  /**
   * Commits a new version on top of `base`; throws ManifestConflictError when another writer won.
   * The pointer keeps the base's routes of the segments still listed, updated by `routes`.
   */
  async commit(ns: string, base: LoadedManifest, change: Partial<Omit<Manifest, 'version' | 'format' | 'namespace'>>, routes: Routes = {}): Promise<LoadedManifest> {
    const manifest: Manifest = { ...base.manifest, restored_from: undefined, ...change, version: base.manifest.version + 1, parent: base.manifest.version };
    return this.write(ns, manifest, base.pointerEtag, { ...base.routes, ...routes });
  }

  private async write(ns: string, proposed: Manifest, baseEtag: string | null, allRoutes: Routes = {}): Promise<LoadedManifest> {
    let manifest: Manifest = { ...proposed, commit: randomBytes(8).toString('hex'), committed_at: new Date().toISOString() };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.put(manifestVersionKey(ns, manifest.version), Buffer.from(JSON.stringify(manifest), 'utf8'), { ifNoneMatch: '*' });
        break;
      } catch (e) {
        if (!isStorageError(e, 'precondition_failed')) throw e;
      }
      // The number is taken. If the pointer moved, another writer committed: we are fenced.
      // If not, the version is an orphan (or a rival's proposal on the same base, which the
      // pointer swap will decide between us): skip past every existing version.
      const pointer = await this.readPointer(ns);
      if ((pointer?.etag ?? null) !== baseEtag || attempt >= MAX_VERSION_ATTEMPTS) {
        throw new ManifestConflictError(ns, manifest.version);
      }
      manifest = { ...manifest, version: Math.max(manifest.version, await this.highestVersion(ns)) + 1 };
    }
    // created_at makes the pointer's bytes (and so its etag) differ between incarnations of a
    // namespace deleted and created again, whose version numbers may start over; commit makes
    // them differ between writers, so reading back our own bytes proves the swap was ours.
    // Routes only for the segments this version lists: the pointer is not history.
    const routes = pointerRoutes(manifest.segments, allRoutes);
    const withRoutes = Object.keys(routes).length > 0 ? { routes } : {};
    const body: PointerBody = { version: manifest.version, created_at: manifest.created_at, commit: manifest.commit, manifest, ...withRoutes };
    const pointer = Buffer.from(JSON.stringify(body), 'utf8');
    try {
      const { etag } = await this.store.put(manifestPointerKey(ns), pointer, baseEtag === null ? { ifNoneMatch: '*' } : { ifMatch: baseEtag });
      return { manifest, pointerEtag: etag, ...withRoutes };
    } catch (e) {
      // A lost response or a retry that met our own swap: the pointer says whether we won.
      const stored = await this.readPointer(ns).catch(() => null);
      if (stored?.body.equals(pointer)) return { manifest, pointerEtag: stored.etag, ...withRoutes };
      if (isStorageError(e, 'precondition_failed')) throw new ManifestConflictError(ns, manifest.version);
      throw e;
    }
  }

  private async readPointer(ns: string): Promise<{ body: Buffer; etag: string } | null> {
    try {
      return await this.store.get(manifestPointerKey(ns));
    } catch (e) {
      if (isStorageError(e, 'not_found')) return null;
      throw e;
    }
  }

  /** The highest version number stored (orphans included), 0 when there is none. */
  private async highestVersion(ns: string): Promise<number> {
    let highest = 0;
    for await (const obj of listAll(this.store, manifestPrefix(ns))) {
      highest = Math.max(highest, manifestVersionOfKey(obj.key) ?? 0);
    }
    return highest;
  }
}
