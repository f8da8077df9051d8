// An S3-compatible server for tests: s3rver (the only one installable here), with the parts of
// S3 that Silt relies on and s3rver gets wrong fixed by Koa middleware and store overrides:
//
// - Conditional PUT (If-None-Match: * / If-Match: etag), which s3rver ignores: checked under a
//   per-key lock that every request on the key takes and holds until its write is complete, so
//   of N concurrent conditional writes exactly one wins; answers 412 PreconditionFailed, or 404
//   NoSuchKey for If-Match on a missing key, as S3 does; a multipart upload's at its completion.
// - Atomic, complete writes: s3rver writes the object file in place and answers before the
//   write stream has flushed, so a read right after a PUT could see a short or mixed file. The
//   store's putObject is replaced by one that writes a temp file, waits for it, and renames.
// - Ranges: `bytes=-N` (suffix) is rewritten to explicit offsets (s3rver reads it as 0..N), and
//   `bytes=0-0` no longer returns the whole object (s3rver treats an end of 0 as "no end").
// - ListObjectsV2 is answered here: s3rver's continuation tokens use DES, which OpenSSL 3 no
//   longer offers, and its walk of the directory tree returns keys out of byte order ("a/x"
//   before "a-b"). Keys are listed in UTF-8 byte order and the token is base64url(last key).
// - failNext(n, status) fails the next n requests with an S3 XML error; requests() counts them.
// Signatures are not verified (s3rver never verifies SigV4 anyway). Nothing is logged.

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, type Dirent, type ReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rmdir, unlink, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KeyMutex } from '../../src/storage/key-mutex.ts';

export interface S3TestServer {
  endpoint: string;
  bucket: string;
  port: number;
  stop(): Promise<void>;
  /** The next n requests fail with `status` (default 503) and an S3 XML error body. */
  failNext(n: number, status?: number): void;
  /** Requests received so far, failed ones included. */
  requests(): number;
}

// ---- the parts of s3rver and Koa used here (s3rver ships no types) ----
type Metadata = Record<string, string | number>;
interface S3ObjectModel { bucket: string; key: string; content: Readable | Buffer | null; metadata: Metadata; range?: { start: number; end: number } }
interface FilesystemStore {
  rootDirectory: string;
  getBucket(name: string): Promise<object | null>;
  getMetadata(bucket: string, key: string): Promise<Metadata>;
  putMetadata(bucket: string, key: string, metadata: Metadata, md5: string): Promise<void>;
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  putObject(object: S3ObjectModel): Promise<{ size: number; md5: string }>;
  getObject(bucket: string, key: string, options?: { start?: number; end?: number }): Promise<S3ObjectModel | null>;
  deleteObject(bucket: string, key: string): Promise<void>;
}
interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  req: IncomingMessage;
  status: number;
  type: string;
  body: unknown;
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
interface S3rver {
  middleware: Middleware[];
  store: FilesystemStore;
  httpServer?: Server;
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3ErrorClass = new (code: string, message: string, detail?: Record<string, unknown>) => Error;
type S3ObjectClass = new (bucket: string, key: string, content: Readable | null, metadata: Metadata) => S3ObjectModel;

const require = createRequire(import.meta.url);
const S3rverClass = require('s3rver') as new (options: Record<string, unknown>) => S3rver;
const S3Error = require('s3rver/lib/models/error.js') as S3ErrorClass;
const S3Object = require('s3rver/lib/models/object.js') as S3ObjectClass;

const OBJECT_SUFFIX = '._S3rver_object';

export async function startS3Server(opts: { directory: string; port?: number; bucket?: string }): Promise<S3TestServer> {
  const bucket = opts.bucket ?? 'silt-test';
  await mkdir(opts.directory, { recursive: true });
  const server = new S3rverClass({
    address: '127.0.0.1',
    port: opts.port ?? 0,
    directory: opts.directory,
    silent: true,
    vhostBuckets: false,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const store = server.store;
  const locks = new KeyMutex();
  fixStore(store);

  let received = 0;
  let failures = 0;
  let failStatus = 503;
  const countAndFail: Middleware = async (ctx, next) => {
    received += 1;
    if (failures > 0) {
      failures -= 1;
      await drain(ctx.req);
      ctx.status = failStatus;
      ctx.type = 'application/xml';
      ctx.body = errorXml(failStatus);
      return;
    }
    await next();
  };

  const fixes: Middleware = async (ctx, next) => {
    const match = /^\/([^/]+)(?:\/(.*))?$/.exec(ctx.path);
    const bucketName = match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
    const key = match?.[2] === undefined || match[2] === '' ? undefined : decodeURIComponent(match[2]);
    if (bucketName === undefined) return next();
    if (key === undefined) {
      if (ctx.method === 'GET' && ctx.query['list-type'] === '2') return listObjectsV2(ctx, store, locks, bucketName);
      return next();
    }
    await locks.run(`${bucketName}/${key}`, async () => {
      // A multipart upload's condition comes with its completion (POST ?uploadId), as on S3.
      const completes = ctx.method === 'POST' && 'uploadId' in ctx.query;
      if ((ctx.method === 'PUT' && !('x-amz-copy-source' in ctx.req.headers) && !('partNumber' in ctx.query)) || completes) {
        await checkWriteConditions(ctx, store, bucketName, key);
      }
      if (ctx.method === 'GET' || ctx.method === 'HEAD') await rewriteSuffixRange(ctx, store, bucketName, key);
      await next();
    });
  };

  // countAndFail sees every request first; fixes runs just before s3rver's router.
  server.middleware.unshift(countAndFail);
  server.middleware.splice(server.middleware.length - 1, 0, fixes);

  const address = await server.run();
  const port = address.port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    port,
    async stop() {
      const closed = server.close();
      server.httpServer?.closeAllConnections();
      await closed;
    },
    failNext(n: number, status = 503) {
      failures = n;
      failStatus = status;
    },
    requests: () => received,
  };
}

async function checkWriteConditions(ctx: KoaContext, store: FilesystemStore, bucket: string, key: string): Promise<void> {
  const ifNoneMatch = header(ctx.req, 'if-none-match');
  const ifMatch = header(ctx.req, 'if-match');
  if (ifNoneMatch === undefined && ifMatch === undefined) return;
  const current = await metadataOrNull(store, bucket, key);
  let failure: Error | undefined;
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') {
    failure = new S3Error('NotImplemented', 'If-None-Match on PUT only supports "*"', { Header: 'If-None-Match' });
  } else if (ifNoneMatch !== undefined && current !== null) {
    failure = new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-None-Match' });
  } else if (ifMatch !== undefined && current === null) {
    failure = new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key });
  } else if (ifMatch !== undefined && unquote(ifMatch) !== unquote(String(current?.['etag']))) {
    failure = new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
  }
  if (failure !== undefined) {
    await drain(ctx.req);
    throw failure;
  }
}

async function rewriteSuffixRange(ctx: KoaContext, store: FilesystemStore, bucket: string, key: string): Promise<void> {
  const range = header(ctx.req, 'range');
  const suffix = range === undefined ? null : /^bytes=-(\d+)$/.exec(range.trim());
  if (suffix?.[1] === undefined) return;
  const current = await metadataOrNull(store, bucket, key);
  if (current === null) return; // s3rver answers NoSuchKey
  const size = Number(current['content-length']);
  const n = Number(suffix[1]);
  if (n === 0 || size === 0) {
    throw new S3Error('InvalidRange', 'The requested range is not satisfiable', { RangeRequested: range, ActualObjectSize: size });
  }
  ctx.req.headers['range'] = `bytes=${Math.max(0, size - n)}-${size - 1}`;
}

async function listObjectsV2(ctx: KoaContext, store: FilesystemStore, locks: KeyMutex, bucket: string): Promise<void> {
  if ((await store.getBucket(bucket)) === null) {
    throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
  }
  const param = (name: string) => {
    const v = ctx.query[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const prefix = param('prefix') ?? '';
  const delimiter = param('delimiter') ?? '';
  const maxKeysParam = param('max-keys');
  const maxKeys = maxKeysParam === undefined ? 1000 : Number(maxKeysParam);
  if (!Number.isInteger(maxKeys) || maxKeys < 0) {
    throw new S3Error('InvalidArgument', 'Provided max-keys not an integer or within integer range', { ArgumentName: 'max-keys', ArgumentValue: maxKeysParam });
  }
  const token = param('continuation-token');
  let after = param('start-after') ?? '';
  if (token !== undefined) {
    after = Buffer.from(token, 'base64url').toString('utf8');
    if (after === '') throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
  }

  const bucketPath = path.join(store.rootDirectory, bucket);
  const contents: { key: string; meta: Metadata }[] = [];
  const commonPrefixes: string[] = [];
  let truncated = false;
  let lastReturned: string | undefined;
  for (const key of await allKeys(bucketPath)) {
    if (!key.startsWith(prefix) || Buffer.compare(Buffer.from(key), Buffer.from(after)) <= 0) continue;
    let entry = key;
    if (delimiter !== '') {
      const at = key.indexOf(delimiter, prefix.length);
      if (at >= 0) {
        entry = key.slice(0, at + delimiter.length);
        if (entry === commonPrefixes[commonPrefixes.length - 1]) continue;
        if (Buffer.compare(Buffer.from(entry), Buffer.from(after)) <= 0) continue;
      }
    }
    if (contents.length + commonPrefixes.length >= maxKeys) {
      truncated = true;
      break;
    }
    if (entry !== key) {
      commonPrefixes.push(entry);
    } else {
      const meta = await locks.run(`${bucket}/${key}`, () => metadataOrNull(store, bucket, key));
      if (meta === null) continue; // deleted meanwhile
      contents.push({ key, meta });
    }
    lastReturned = entry;
  }
  ctx.body = {
    ListBucketResult: {
      '@': { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
      Name: bucket,
      Prefix: prefix,
      StartAfter: token === undefined ? param('start-after') : undefined,
      ContinuationToken: token,
      NextContinuationToken: truncated && lastReturned !== undefined ? Buffer.from(lastReturned).toString('base64url') : undefined,
      KeyCount: contents.length + commonPrefixes.length,
      MaxKeys: maxKeys,
      Delimiter: delimiter === '' ? undefined : delimiter,
      IsTruncated: truncated,
      Contents: contents.map(({ key, meta }) => ({
        Key: key,
        LastModified: new Date(String(meta['last-modified'])).toISOString(),
        ETag: meta['etag'],
        Size: Number(meta['content-length']),
        StorageClass: 'STANDARD',
      })),
      CommonPrefixes: commonPrefixes.map((p) => ({ Prefix: p })),
    },
  };
}

/** Every object key in a bucket directory, in UTF-8 byte order. */
async function allKeys(bucketPath: string): Promise<string[]> {
  const keys: string[] = [];
  const walk = async (dir: string, keyPrefix: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // removed meanwhile
    }
    for (const entry of entries) {
      if (entry.isDirectory()) await walk(path.join(dir, entry.name), `${keyPrefix}${entry.name}/`);
      else if (entry.name.endsWith(OBJECT_SUFFIX)) keys.push(keyPrefix + entry.name.slice(0, -OBJECT_SUFFIX.length));
    }
  };
  await walk(bucketPath, '');
  return keys.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** Replaces the FilesystemStore methods that are not atomic or not correct (see the top). */
function fixStore(store: FilesystemStore): void {
  store.putObject = async (object) => {
    const objectPath = store.getResourcePath(object.bucket, object.key, 'object');
    const temp = `${objectPath}.${randomBytes(6).toString('hex')}.tmp`;
    let handle: FileHandle | undefined;
    // A concurrent delete may remove the (empty) directory between mkdir and open.
    for (let attempt = 0; handle === undefined; attempt++) {
      await mkdir(path.dirname(objectPath), { recursive: true });
      handle = await open(temp, 'wx').catch((e: unknown) => {
        if ((e as { code?: string }).code === 'ENOENT' && attempt < 5) return undefined;
        throw e;
      });
    }
    const md5 = createHash('md5');
    let size = 0;
    const source = object.content instanceof Buffer ? Readable.from([object.content]) : object.content;
    try {
      await pipeline(
        source ?? Readable.from([]),
        new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            md5.update(chunk);
            size += chunk.length;
            callback(null, chunk);
          },
        }),
        handle.createWriteStream(),
      );
      const digest = md5.digest('hex');
      await store.putMetadata(object.bucket, object.key, object.metadata, digest);
      await rename(temp, objectPath);
      return { size, md5: digest };
    } catch (e) {
      await unlink(temp).catch(() => {});
      throw e;
    } finally {
      await handle.close().catch(() => {});
    }
  };

  store.getObject = async (bucket, key, options = {}) => {
    const metadata = await metadataOrNull(store, bucket, key);
    if (metadata === null) return null;
    const file = store.getResourcePath(bucket, key, 'object');
    if (options.start === undefined && options.end === undefined) {
      return new S3Object(bucket, key, await openRead(file), metadata);
    }
    const size = Number(metadata['content-length']);
    const start = options.start ?? 0;
    const end = Math.min(options.end ?? Infinity, size - 1);
    const object = new S3Object(bucket, key, null, metadata);
    object.range = { start, end };
    if (Number.isInteger(start) && start >= 0 && start <= end) object.content = await openRead(file, { start, end });
    return object; // no content: s3rver answers 416 InvalidRange
  };

  store.deleteObject = async (bucket, key) => {
    for (const resource of ['object', 'object.md5', 'metadata.json']) {
      await unlink(store.getResourcePath(bucket, key, resource)).catch((e: unknown) => {
        if ((e as { code?: string }).code !== 'ENOENT') throw e;
      });
    }
    const bucketPath = path.join(store.rootDirectory, bucket);
    for (let dir = path.dirname(store.getResourcePath(bucket, key, 'object')); dir.startsWith(`${bucketPath}/`); dir = path.dirname(dir)) {
      try {
        await rmdir(dir); // only succeeds when empty
      } catch {
        break;
      }
    }
  };
}

async function metadataOrNull(store: FilesystemStore, bucket: string, key: string): Promise<Metadata | null> {
  try {
    return await store.getMetadata(bucket, key);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw e;
  }
}

function openRead(file: string, range?: { start: number; end: number }): Promise<ReadStream> {
  return new Promise((resolve, reject) => {
    const stream = createReadStream(file, range).on('error', reject).on('open', () => resolve(stream));
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function unquote(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

function drain(req: IncomingMessage): Promise<void> {
  if (req.complete || req.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    req.on('end', resolve).on('error', () => resolve()).on('close', () => resolve());
    req.resume();
  });
}

const ERROR_CODES: Record<number, [string, string]> = {
  500: ['InternalError', 'We encountered an internal error. Please try again.'],
  503: ['SlowDown', 'Please reduce your request rate.'],
};

function errorXml(status: number): string {
  const [code, message] = ERROR_CODES[status] ?? ['InjectedFailure', `injected failure with status ${status}`];
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>s3-test-server</RequestId></Error>`;
}
