// Every failure of an ObjectStore is a StorageError with one of four kinds. The kind is what
// callers branch on; each backend translates its own errors (errno codes, S3 error names and
// statuses) into a kind at its boundary, so nothing above storage/ knows about them.

export type StorageErrorKind =
  /** The object does not exist (get of a missing key). */
  | 'not_found'
  /** A conditional put lost: the key exists (create-if-absent) or its etag moved (compare-and-swap). */
  | 'precondition_failed'
  /** Worth retrying: timeouts, connection resets, 5xx, throttling. The operation may or may not have happened. */
  | 'transient'
  /** Retrying will not help: bad key, access denied, missing bucket, corrupt response. */
  | 'permanent';

export type StorageOperation = 'get' | 'head' | 'put' | 'list' | 'delete';

export class StorageError extends Error {
  override readonly name = 'StorageError';

  constructor(
    readonly kind: StorageErrorKind,
    readonly operation: StorageOperation,
    /** The key (or, for list, the prefix) the operation was about. */
    readonly key: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${operation} '${key}' failed (${kind}): ${detail}`, options);
  }
}

export function isStorageError(e: unknown, kind?: StorageErrorKind): e is StorageError {
  return e instanceof StorageError && (kind === undefined || e.kind === kind);
}
