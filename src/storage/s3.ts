// The ObjectStore on S3 (or anything that speaks its API) through @aws-sdk/client-s3. This file
// is the SDK's only home: it absorbs the SDK's quirks and turns every failure into a
// StorageError kind, so nothing else knows about S3 error names or HTTP statuses.
//
// Conditional writes are S3's own: PutObject with `If-None-Match: *` (create-if-absent) or
// `If-Match: <etag>` (compare-and-swap). S3 answers 412 when the condition fails, 404 for
// If-Match on a missing key, and 409 ConditionalRequestConflict when another conditional write
// to the key is in flight; all three are 'precondition_failed' here (the caller reloads).
//
// Bodies larger than one part go up as a multipart upload, the condition on its completion (S3
// evaluates If-None-Match / If-Match there): one PutObject may carry at most 5 GB, and the
// request timeout covers the upload, so a 570 MB segment of a 1M-document namespace timed out
// at 10 s on the S3 test server (bench scale) where 16 MiB parts each finish well inside it.

import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand,
  DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand,
  S3Client, UploadPartCommand, type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { StorageError, type StorageOperation } from './errors.ts';
import {
  assertKey, assertRange, pageSize, resolveRange,
  type ByteRange, type GetResult, type ListOptions, type ListPage, type ObjectInfo,
  type ObjectStore, type PutCondition,
} from './object-store.ts';

export interface S3ObjectStoreOptions {
  bucket: string;
  region: string;
  /** Custom endpoint (MinIO, s3rver, …); null or absent for AWS. Implies path-style addressing. */
  endpoint?: string | null;
  /** Keys are stored as `${prefix}/${key}`; list strips it. */
  prefix?: string;
  forcePathStyle?: boolean;
  /**
   * Limit for connecting, for the response headers to arrive (upload included), and for any
   * pause while the body streams. Retrying is the job of withRetry (maxAttempts is 1 here).
   */
  requestTimeoutMs: number;
  /** Bodies larger than this go up as a multipart upload in parts of this size (S3's minimum part is 5 MiB). */
  partSizeBytes?: number;
  /** Absent: the SDK's default chain (environment, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** Parts in flight at once for one multipart upload. */
const PART_CONCURRENCY = 4;
export const DEFAULT_PART_SIZE = 16 * 1024 * 1024;

export class S3ObjectStore implements ObjectStore {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #partSize: number;

  constructor(options: S3ObjectStoreOptions) {
    const timeout = options.requestTimeoutMs;
    this.#bucket = options.bucket;
    this.#partSize = options.partSizeBytes ?? DEFAULT_PART_SIZE;
    this.#prefix = options.prefix === undefined || options.prefix === '' ? '' : `${options.prefix.replace(/\/+$/, '')}/`;
    this.#client = new S3Client({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.forcePathStyle ?? Boolean(options.endpoint),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      // Without these the SDK streams uploads with aws-chunked framing and trailing checksums,
      // which S3-compatible servers (s3rver among them) store verbatim inside the object.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 1,
      // requestTimeout alone only logs a warning in @smithy/node-http-handler 4.x unless
      // throwOnRequestTimeout is set; it also stops at the response headers, so socketTimeout
      // covers a body that stalls while streaming.
      requestHandler: new NodeHttpHandler({
        connectionTimeout: timeout,
        requestTimeout: timeout,
        throwOnRequestTimeout: true,
        socketTimeout: timeout,
      }),
    });
  }

  async get(key: string, range?: ByteRange): Promise<GetResult> {
    assertKey('get', key);
    if (range !== undefined) assertRange(key, range);
    const header = range === undefined ? undefined : rangeHeader(range);
    if (header === null) return this.#emptyRange(key); // zero-length range: HTTP cannot express it
    let response: GetObjectCommandOutput;
    try {
      response = await this.#client.send(new GetObjectCommand({
        Bucket: this.#bucket, Key: this.#prefix + key, ...(header ? { Range: header } : {}),
      }));
    } catch (e) {
      if (statusOf(e) === 416) return this.#emptyRange(key); // offset at or past the end
      throw s3Error('get', key, e);
    }
    let body: Buffer;
    try {
      const bytes = await response.Body?.transformToByteArray() ?? new Uint8Array();
      body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (e) {
      throw s3Error('get', key, e);
    }
    const etag = response.ETag ?? '';
    const total = totalFromContentRange(response.ContentRange);
    if (total !== undefined) return { body, etag, size: total };
    // 200: the whole object, either asked for or because the server ignored the Range header.
    const { start, end } = resolveRange(range, body.length);
    return { body: range === undefined ? body : body.subarray(start, end), etag, size: body.length };
  }

  async head(key: string): Promise<ObjectInfo | null> {
    assertKey('head', key);
    try {
      const r = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key }));
      return { key, size: r.ContentLength ?? 0, etag: r.ETag ?? '', lastModified: r.LastModified ?? new Date(0) };
    } catch (e) {
      const error = s3Error('head', key, e);
      if (error.kind === 'not_found') return null;
      throw error;
    }
  }

  async put(key: string, body: Uint8Array, condition?: PutCondition): Promise<{ etag: string }> {
    assertKey('put', key);
    if (body.byteLength > this.#partSize) return this.#putMultipart(key, body, condition);
    try {
      const r = await this.#client.send(new PutObjectCommand({
        Bucket: this.#bucket,
        Key: this.#prefix + key,
        Body: body,
        ContentLength: body.byteLength,
        ContentType: 'application/octet-stream',
        ...(condition === undefined ? {} : 'ifNoneMatch' in condition ? { IfNoneMatch: '*' } : { IfMatch: condition.ifMatch }),
      }));
      if (r.ETag === undefined) throw new StorageError('permanent', 'put', key, 'the server returned no ETag');
      return { etag: r.ETag };
    } catch (e) {
      throw putError(key, e, condition);
    }
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    const limit = pageSize(prefix, options.maxKeys);
    try {
      const r = await this.#client.send(new ListObjectsV2Command({
        Bucket: this.#bucket,
        Prefix: this.#prefix + prefix,
        MaxKeys: limit,
        ...(options.continuationToken !== undefined
          ? { ContinuationToken: options.continuationToken }
          : options.startAfter !== undefined ? { StartAfter: this.#prefix + options.startAfter } : {}),
      }));
      const objects = (r.Contents ?? []).map((o): ObjectInfo => ({
        key: (o.Key ?? '').slice(this.#prefix.length),
        size: o.Size ?? 0,
        etag: o.ETag ?? '',
        lastModified: o.LastModified ?? new Date(0),
      }));
      return r.IsTruncated && r.NextContinuationToken ? { objects, nextToken: r.NextContinuationToken } : { objects };
    } catch (e) {
      throw s3Error('list', prefix, e);
    }
  }

  async delete(key: string): Promise<void> {
    assertKey('delete', key);
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key }));
    } catch (e) {
      const error = s3Error('delete', key, e);
      if (error.kind !== 'not_found') throw error; // some S3-compatible servers answer 404
    }
  }

  /**
   * The parts go up PART_CONCURRENCY at a time, each its own request (and timeout); any failure
   * aborts the upload, so no parts are left behind, and the caller's retry starts a new one.
   */
  async #putMultipart(key: string, body: Uint8Array, condition?: PutCondition): Promise<{ etag: string }> {
    const target = { Bucket: this.#bucket, Key: this.#prefix + key };
    let uploadId: string | undefined;
    try {
      const created = await this.#client.send(new CreateMultipartUploadCommand({ ...target, ContentType: 'application/octet-stream' }));
      uploadId = created.UploadId;
      if (uploadId === undefined) throw new StorageError('permanent', 'put', key, 'the server returned no upload id');
      const count = Math.ceil(body.byteLength / this.#partSize);
      const etags: string[] = new Array(count);
      let next = 0;
      const uploader = async (): Promise<void> => {
        for (let part = next++; part < count; part = next++) {
          const start = part * this.#partSize;
          const chunk = body.subarray(start, Math.min(body.byteLength, start + this.#partSize));
          const r = await this.#client.send(new UploadPartCommand({
            ...target, UploadId: uploadId, PartNumber: part + 1, Body: chunk, ContentLength: chunk.byteLength,
          }));
          if (r.ETag === undefined) throw new StorageError('permanent', 'put', key, `the server returned no ETag for part ${part + 1}`);
          etags[part] = r.ETag;
        }
      };
      await Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, count) }, uploader));
      const r = await this.#client.send(new CompleteMultipartUploadCommand({
        ...target,
        UploadId: uploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        ...(condition === undefined ? {} : 'ifNoneMatch' in condition ? { IfNoneMatch: '*' } : { IfMatch: condition.ifMatch }),
      }));
      if (r.ETag === undefined) throw new StorageError('permanent', 'put', key, 'the server returned no ETag');
      return { etag: r.ETag };
    } catch (e) {
      if (uploadId !== undefined) {
        await this.#client.send(new AbortMultipartUploadCommand({ ...target, UploadId: uploadId })).catch(() => {});
      }
      throw putError(key, e, condition);
    }
  }

  /** Closes the client's pooled connections (so a process or test can exit). */
  close(): void {
    this.#client.destroy();
  }

  async #emptyRange(key: string): Promise<GetResult> {
    const info = await this.head(key);
    if (info === null) throw new StorageError('not_found', 'get', key, 'no such key');
    return { body: Buffer.alloc(0), etag: info.etag, size: info.size };
  }
}

/** The Range header for a range, or null when it selects nothing (`bytes=-0` is invalid). */
function rangeHeader(range: ByteRange): string | null {
  if ('suffix' in range) return range.suffix === 0 ? null : `bytes=-${range.suffix}`;
  if (range.length === 0) return null;
  return `bytes=${range.offset}-${range.length === undefined ? '' : range.offset + range.length - 1}`;
}

function totalFromContentRange(contentRange: string | undefined): number | undefined {
  const match = contentRange === undefined ? null : /\/(\d+)\s*$/.exec(contentRange);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

function statusOf(e: unknown): number | undefined {
  const metadata = (e as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata;
  return typeof metadata?.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
}

const TRANSIENT_NAMES = new Set([
  'SlowDown', 'RequestTimeout', 'InternalError', 'ServiceUnavailable', 'Throttling', 'ThrottlingException',
  'RequestThrottled', 'TimeoutError', 'AbortError',
]);
const TRANSIENT_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH',
  'EAI_AGAIN', 'ERR_STREAM_PREMATURE_CLOSE',
]);

function putError(key: string, e: unknown, condition: PutCondition | undefined): StorageError {
  const error = s3Error('put', key, e);
  // S3 answers If-Match on a missing key with 404 NoSuchKey: for the caller, the swap lost.
  if (error.kind === 'not_found' && condition !== undefined && 'ifMatch' in condition) {
    return new StorageError('precondition_failed', 'put', key, `ifMatch failed: key does not exist`, { cause: e });
  }
  return error;
}

/** Translates an SDK or network error into a StorageError kind. */
function s3Error(operation: StorageOperation, key: string, e: unknown): StorageError {
  if (e instanceof StorageError) return e;
  const status = statusOf(e);
  const name = e instanceof Error ? e.name : '';
  const code = (e as { code?: unknown } | null)?.code;
  const message = e instanceof Error ? e.message || name : String(e);
  const detail = `${status === undefined ? '' : `HTTP ${status} `}${name}${message && message !== name ? `: ${message}` : ''}`;
  let kind: StorageError['kind'] = 'permanent';
  if (status === 412 || name === 'PreconditionFailed' || name === 'ConditionalRequestConflict') {
    kind = 'precondition_failed';
  } else if (name === 'NoSuchBucket') {
    kind = 'permanent';
  } else if (status === 404 || name === 'NoSuchKey' || name === 'NotFound') {
    kind = 'not_found';
  } else if (
    (status !== undefined && (status >= 500 || status === 429)) ||
    TRANSIENT_NAMES.has(name) ||
    (typeof code === 'string' && TRANSIENT_CODES.has(code))
  ) {
    kind = 'transient';
  }
  return new StorageError(kind, operation, key, detail, { cause: e });
}
