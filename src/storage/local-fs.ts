// An ObjectStore in a local directory: key "ns/wal/001.wal" is the file <root>/ns/wal/001.wal.
//
// Guarantees, and how:
// - Atomic, durable puts: the bytes go to a temp file in <root>/.silt-tmp/, which is fsynced and
//   then renamed (or linked) over the key, and the key's directory is fsynced. A crash leaves the
//   old object or the new one, plus at worst a stray temp file there, which list skips.
//   Temp files live apart from the keys so that every key Silt can build is storable: a suffix
//   reserved beside the objects (".silt-tmp" once was) would refuse valid namespace names such
//   as "x.silt-tmp". The one reserved name is the root-level ".silt-tmp", which no namespace can
//   produce (names cannot start with '.') and which differs from the catalog's ".catalog/".
// - create-if-absent is exclusive even against other processes: `link(temp, final)` fails with
//   EEXIST when the key exists; there is no check-then-rename window.
// - compare-and-swap (ifMatch) compares the current etag and renames under a per-key mutex, so
//   it is exact within this process only. This backend is therefore single-process: distributed
//   mode refuses local storage, and two processes must never share a root.
// - Reads open the file once and read only the requested bytes; a concurrent put replaces the
//   directory entry, not the inode the reader holds, so a read never sees a mixture.
// Limits: a key cannot be both an object and a "directory" of other keys ("a" and "a/b"), which
// S3 allows; Silt's layout never does that, and such a put fails with kind 'permanent'. The root
// must be on a case-sensitive filesystem (as on Linux): namespaces "Docs" and "docs" are distinct.

import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { constants } from 'node:fs';
import { access, link, lstat, mkdir, open, readdir, rename, rmdir, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { StorageError, type StorageOperation } from './errors.ts';
import { KeyMutex } from './key-mutex.ts';
import { LOCAL_TEMP_DIR } from './layout.ts';
import {
  assertRange, compareKeys, pageSize, resolveRange,
  type ByteRange, type GetResult, type ListOptions, type ListPage, type ObjectInfo,
  type ObjectStore, type PutCondition,
} from './object-store.ts';

const TEMP_DIR = LOCAL_TEMP_DIR;

export class LocalFsObjectStore implements ObjectStore {
  readonly #root: string;
  readonly #mutex = new KeyMutex();

  constructor(rootPath: string) {
    this.#root = path.resolve(rootPath);
  }

  /** The root must exist and be writable: a put would recreate a deleted root, empty, and carry on. */
  async checkWritable(): Promise<void> {
    try {
      await access(this.#root, constants.W_OK);
    } catch (e) {
      throw fsError('put', '', e, `the storage root ${this.#root} is missing or not writable (${errnoCode(e) ?? 'error'})`);
    }
  }

  async get(key: string, range?: ByteRange): Promise<GetResult> {
    const file = this.#path('get', key);
    if (range !== undefined) assertRange(key, range);
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (e) {
      if (isMissing(e)) throw new StorageError('not_found', 'get', key, 'no such key', { cause: e });
      throw fsError('get', key, e);
    }
    try {
      const stat = await handle.stat({ bigint: true });
      if (!stat.isFile()) throw new StorageError('not_found', 'get', key, 'no such key');
      const size = Number(stat.size);
      const { start, end } = resolveRange(range, size);
      const body = Buffer.alloc(end - start);
      let done = 0;
      while (done < body.length) {
        const { bytesRead } = await handle.read(body, done, body.length - done, start + done);
        if (bytesRead === 0) throw new StorageError('permanent', 'get', key, `file shrank while reading (${file})`);
        done += bytesRead;
      }
      return { body, etag: etagOf(stat), size };
    } catch (e) {
      throw fsError('get', key, e);
    } finally {
      await handle.close();
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const file = this.#path('head', key);
    try {
      const stat = await lstat(file, { bigint: true });
      return stat.isFile() ? { key, size: Number(stat.size), etag: etagOf(stat), lastModified: stat.mtime } : null;
    } catch (e) {
      if (isMissing(e)) return null;
      throw fsError('head', key, e);
    }
  }

  async put(key: string, body: Uint8Array, condition?: PutCondition): Promise<{ etag: string }> {
    const file = this.#path('put', key);
    return this.#mutex.run(key, async () => {
      if (condition !== undefined && 'ifMatch' in condition) {
        const current = await this.head(key);
        if (current?.etag !== condition.ifMatch) {
          const why = current === null ? 'key does not exist' : `current etag is ${current.etag}`;
          throw new StorageError('precondition_failed', 'put', key, `ifMatch ${condition.ifMatch} failed: ${why}`);
        }
      }
      const { temp, etag, createdDirs } = await this.#writeTemp(key, file, body);
      try {
        if (condition !== undefined && 'ifNoneMatch' in condition) {
          await link(temp, file);
          await unlink(temp);
        } else {
          await rename(temp, file);
        }
      } catch (e) {
        await unlink(temp).catch(() => {});
        if (errnoCode(e) === 'EEXIST' && condition !== undefined && 'ifNoneMatch' in condition) {
          if ((await this.head(key)) !== null) {
            throw new StorageError('precondition_failed', 'put', key, 'key already exists (ifNoneMatch: *)', { cause: e });
          }
        }
        throw fsError('put', key, e);
      }
      // The new directory entries (the file's, and those of directories mkdir just made).
      for (const dir of [path.dirname(file), ...createdDirs.map((d) => path.dirname(d))]) {
        await fsyncDir(dir).catch((e: unknown) => { throw fsError('put', key, e); });
      }
      return { etag };
    });
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    const limit = pageSize(prefix, options.maxKeys);
    const after = options.continuationToken ?? options.startAfter;
    // Start in the deepest directory the prefix names ("ns/wal/00" → <root>/ns/wal).
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash < 0 ? '' : prefix.slice(0, slash + 1);
    if (dirKey !== '' && keyProblem(dirKey.slice(0, -1)) !== null) return { objects: [] };
    const keys: string[] = [];
    try {
      for await (const key of this.#walk(dirKey, prefix, after)) {
        keys.push(key);
        if (keys.length > limit) break;
      }
    } catch (e) {
      throw fsError('list', prefix, e);
    }
    const pageKeys = keys.slice(0, limit);
    const infos = await Promise.all(pageKeys.map((key) => this.head(key)));
    const objects = infos.filter((info): info is ObjectInfo => info !== null); // deleted meanwhile
    const last = pageKeys[pageKeys.length - 1];
    return keys.length > limit && last !== undefined ? { objects, nextToken: last } : { objects };
  }

  async delete(key: string): Promise<void> {
    const file = this.#path('delete', key);
    await this.#mutex.run(key, async () => {
      try {
        await unlink(file);
      } catch (e) {
        if (isMissing(e) || errnoCode(e) === 'EISDIR') return;
        throw fsError('delete', key, e);
      }
      await fsyncDir(path.dirname(file)).catch((e: unknown) => { throw fsError('delete', key, e); });
      // Drop directories the delete emptied, so garbage-collected segments leave nothing behind.
      // A concurrent put into the same directory recreates it (see #writeTemp).
      for (let dir = path.dirname(file); dir !== this.#root; dir = path.dirname(dir)) {
        try {
          await rmdir(dir);
        } catch {
          break;
        }
      }
    });
  }

  /** Keys under `dirKey` ("" or ending in "/") that start with `prefix` and sort after `after`, in order. */
  async *#walk(dirKey: string, prefix: string, after: string | undefined): AsyncGenerator<string> {
    let entries: Dirent[];
    try {
      entries = await readdir(path.join(this.#root, dirKey), { withFileTypes: true });
    } catch (e) {
      if (isMissing(e)) return;
      throw e;
    }
    // A directory "d" holds keys "d/…"; sorting it as "d/" puts it where those keys belong.
    const items = entries
      .filter((e) => e.isFile() || (e.isDirectory() && !(dirKey === '' && e.name === TEMP_DIR)))
      .map((e) => ({ isDir: e.isDirectory(), key: dirKey + e.name + (e.isDirectory() ? '/' : '') }))
      .sort((a, b) => compareKeys(a.key, b.key));
    for (const { isDir, key } of items) {
      if (isDir) {
        const overlapsPrefix = key.startsWith(prefix) || prefix.startsWith(key);
        // Every key under `key` sorts before `after` unless `after` is itself under `key`.
        const allBeforeAfter = after !== undefined && compareKeys(key, after) < 0 && !after.startsWith(key);
        if (overlapsPrefix && !allBeforeAfter) yield* this.#walk(key, prefix, after);
      } else if (key.startsWith(prefix) && (after === undefined || compareKeys(key, after) > 0)) {
        yield key;
      }
    }
  }

  /** Writes and fsyncs a temp file for `file`; returns it with the etag it will have. */
  async #writeTemp(key: string, file: string, body: Uint8Array) {
    const tempDir = path.join(this.#root, TEMP_DIR);
    const temp = path.join(tempDir, randomBytes(8).toString('hex'));
    const createdDirs: string[] = [];
    let handle: FileHandle | undefined;
    // A concurrent delete may remove the directory between mkdir and open; make it again.
    for (let attempt = 0; handle === undefined; attempt++) {
      try {
        const created = await mkdir(path.dirname(file), { recursive: true });
        if (created !== undefined) createdDirs.push(...dirsBetween(created, path.dirname(file)));
        await mkdir(tempDir, { recursive: true });
        handle = await open(temp, 'wx');
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT' || attempt >= 5) {
          const detail = errnoCode(e) === 'ENOTDIR' || errnoCode(e) === 'EEXIST'
            ? 'a parent of this key is itself an object' : undefined;
          throw fsError('put', key, e, detail);
        }
      }
    }
    try {
      await handle.writeFile(body);
      await handle.utimes(new Date(), uniqueMtime());
      await handle.sync();
      const stat = await handle.stat({ bigint: true });
      return { temp, etag: etagOf(stat), createdDirs };
    } catch (e) {
      await unlink(temp).catch(() => {});
      throw fsError('put', key, e);
    } finally {
      await handle.close().catch(() => {});
    }
  }

  #path(operation: StorageOperation, key: string): string {
    const problem = keyProblem(key);
    if (problem !== null) throw new StorageError('permanent', operation, String(key), `invalid key: ${problem}`);
    return path.join(this.#root, ...key.split('/'));
  }
}

/** Why `key` cannot name a file under the root, or null when it can. */
function keyProblem(key: string): string | null {
  if (typeof key !== 'string' || key.length === 0) return 'keys must be non-empty strings';
  if (key.startsWith('/')) return 'keys must be relative (no leading "/")';
  if (key.includes('\\')) return 'keys must not contain "\\"';
  if (key.includes('\0')) return 'keys must not contain NUL';
  for (const segment of key.split('/')) {
    if (segment === '..' || segment === '.') return `keys must not contain "${segment}" segments`;
    if (segment === '') return 'keys must not contain empty segments ("//" or a trailing "/")';
  }
  if (key === TEMP_DIR || key.startsWith(`${TEMP_DIR}/`)) return `"${TEMP_DIR}/" is reserved for temp files`;
  return null;
}

// The etag is inode + mtime (ns) + size from one stat, rather than a content hash, so head and
// list answer from a stat without reading the file. Every put writes a new file (new inode), but
// a freed inode number can be reused and coarse kernel timestamps (one jiffy) could then repeat
// an old etag; so each put also stamps its file with a per-process strictly increasing mtime.
// The etag therefore changes on every write, even of identical bytes.
function etagOf(stat: { ino: bigint; mtimeNs: bigint; size: bigint }): string {
  return `${stat.ino.toString(36)}-${stat.mtimeNs.toString(36)}-${stat.size.toString(36)}`;
}

let lastMtimeMicros = 0;
function uniqueMtime(): number {
  lastMtimeMicros = Math.max(Date.now() * 1000, lastMtimeMicros + 1);
  return lastMtimeMicros / 1e6; // seconds; microsecond steps survive the double → timespec conversion
}

/** The directories from `first` down to `last` inclusive (mkdir -p made all of them). */
function dirsBetween(first: string, last: string): string[] {
  const dirs: string[] = [];
  for (let dir = last; dir.length >= first.length; dir = path.dirname(dir)) {
    dirs.push(dir);
    if (dir === first) break;
  }
  return dirs;
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function errnoCode(e: unknown): string | undefined {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

function isMissing(e: unknown): boolean {
  const code = errnoCode(e);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

const TRANSIENT_CODES = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'EINTR', 'ETIMEDOUT']);

function fsError(operation: StorageOperation, key: string, e: unknown, detail?: string): StorageError {
  if (e instanceof StorageError) return e;
  const code = errnoCode(e);
  const kind = code !== undefined && TRANSIENT_CODES.has(code) ? 'transient' : 'permanent';
  const message = detail ?? (e instanceof Error ? e.message : String(e));
  return new StorageError(kind, operation, key, message, { cause: e });
}
