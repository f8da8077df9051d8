// Every error Silt returns over HTTP: a stable code (never reused), its status, and a message
// template that says what was wrong and what to do. docs/errors.md lists them; a test checks
// that every code here is documented there.

/** Fields for the server's log line that the client must not see: object keys, raw storage errors. */
export type LogFields = Readonly<Record<string, unknown>>;

export class SiltError extends Error {
  readonly logFields: LogFields | undefined;

  constructor(
    readonly code: string,
    readonly statusCode: number,
    message: string,
    options?: { cause?: unknown; logFields?: LogFields },
  ) {
    super(message, options);
    this.name = 'SiltError';
    this.logFields = options?.logFields;
  }
}

/** A client message, or one with the internal detail that goes to the log instead. */
type Message = string | { message: string; log: LogFields };
type Template<A extends unknown[]> = (...args: A) => Message;

function define<A extends unknown[]>(code: string, statusCode: number, template: Template<A>) {
  const make = (...args: A) => {
    const m = template(...args);
    return typeof m === 'string'
      ? new SiltError(code, statusCode, m)
      : new SiltError(code, statusCode, m.message, { logFields: m.log });
  };
  return Object.assign(make, { code, statusCode });
}

/** What a storage failure tells the log: the operation, the object key and the backend's error. */
export interface StorageFailureDetail {
  operation: string;
  key: string;
  message: string;
}

/** Echoed request text (a URL, a header) is cut so an error body stays small. */
function clip(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export const Errors = {
  // 400: the request is wrong; the message names the field.
  invalidJson: define('SILT_ERR_REQUEST_INVALID_JSON', 400, (detail: string) =>
    `request body is not valid JSON: ${detail}`),
  bodyEncoding: define('SILT_ERR_REQUEST_BODY_ENCODING', 400, (encoding: string) =>
    `the body is not valid ${encoding} data; compress the whole body, or leave out content-encoding`),
  invalidRequest: define('SILT_ERR_REQUEST_INVALID', 400, (path: string, what: string) =>
    `${path}: ${what}`),
  versionBeforeHistory: define('SILT_ERR_VERSION_BEFORE_HISTORY', 400, (ns: string, when: string, first: string) =>
    `namespace '${ns}' did not exist at ${when}; its first version was committed at ${first}`),
  invalidNamespaceName: define('SILT_ERR_NAMESPACE_NAME', 400, (name: string) =>
    `namespace name '${name}' is invalid; use 1-128 characters from [A-Za-z0-9_.-], not starting with '.'`),
  invalidSchema: define('SILT_ERR_SCHEMA_INVALID', 400, (path: string, what: string) =>
    `${path}: ${what}`),
  invalidDocument: define('SILT_ERR_DOCUMENT_INVALID', 400, (path: string, what: string) =>
    `${path}: ${what}`),
  vectorDimension: define('SILT_ERR_DOCUMENT_VECTOR_DIMENSION', 400,
    (path: string, got: number, ns: string, expected: number) =>
      `${path}: vector has ${got} dimensions; namespace '${ns}' expects ${expected}`),
  invalidId: define('SILT_ERR_DOCUMENT_ID', 400, (path: string, what: string) => `${path}: ${what}`),
  invalidFilter: define('SILT_ERR_FILTER_INVALID', 400, (message: string) => message),
  invalidQuery: define('SILT_ERR_QUERY_INVALID', 400, (path: string, what: string) => `${path}: ${what}`),
  turbopufferUnsupported: define('SILT_ERR_TPUF_UNSUPPORTED', 400, (path: string, what: string) =>
    `${path}: ${what} (docs/turbopuffer.md lists what Silt supports)`),
  topKTooLarge: define('SILT_ERR_QUERY_TOP_K', 400, (got: number, max: number) =>
    `top_k ${got} exceeds the maximum of ${max}; lower top_k or raise query.max_top_k in the server configuration`),

  // 401, 403: a missing, wrong or insufficient credential (src/auth.ts). Never echo the key.
  authMissing: define('SILT_ERR_AUTH_MISSING', 401, () =>
    'this request needs an API key: send "Authorization: Bearer <key>"; keys are set by auth.api_keys / SILT_AUTH_API_KEYS ' +
    '(read-only: auth.read_only_keys / SILT_AUTH_READ_ONLY_KEYS)'),
  authInvalid: define('SILT_ERR_AUTH_INVALID', 401, (what: string) =>
    `${what}; send "Authorization: Bearer <key>" with a key from auth.api_keys / SILT_AUTH_API_KEYS or auth.read_only_keys`),
  clusterTokenInvalid: define('SILT_ERR_AUTH_CLUSTER_TOKEN', 401, (from: string) =>
    `this request says it was relayed by node '${from}' (x-silt-forwarded-by) but has no valid x-silt-cluster-token; ` +
    'clients must not send x-silt-forwarded-by, and every node needs the same auth.cluster_token / SILT_AUTH_CLUSTER_TOKEN'),
  authForbidden: define('SILT_ERR_AUTH_FORBIDDEN', 403, (method: string, path: string) =>
    `${method} ${path} changes data and this API key is read-only (auth.read_only_keys); use a key from auth.api_keys`),

  // 404
  namespaceNotFound: define('SILT_ERR_NAMESPACE_NOT_FOUND', 404, (ns: string) =>
    `namespace '${ns}' does not exist; create it with PUT /v1/namespaces/${ns}`),
  versionNotFound: define('SILT_ERR_VERSION_NOT_FOUND', 404, (ns: string, version: number) =>
    `namespace '${ns}' has no version ${version} in its history; GET /v1/namespaces/${ns}/versions lists the versions it can be restored to`),
  documentNotFound: define('SILT_ERR_DOCUMENT_NOT_FOUND', 404, (ns: string, id: string) =>
    `document ${id} does not exist in namespace '${ns}'`),
  routeNotFound: define('SILT_ERR_ROUTE_NOT_FOUND', 404, (method: string, url: string) =>
    `no route for ${clip(method, 20)} ${clip(url)}; see docs/api.md`),

  // 409
  schemaConflict: define('SILT_ERR_NAMESPACE_SCHEMA_CONFLICT', 409, (ns: string, detail: string) =>
    `namespace '${ns}' already exists with a different schema (${detail}); delete it first or use another name`),
  turbopufferSchemaConflict: define('SILT_ERR_TPUF_SCHEMA_CONFLICT', 409, (ns: string, what: string) =>
    `namespace '${ns}': ${what}`),
  writeConflict: define('SILT_ERR_NAMESPACE_WRITE_CONFLICT', 409, (ns: string) =>
    `another writer changed namespace '${ns}' concurrently; the write was not applied, retry it`),

  namespaceExists: define('SILT_ERR_NAMESPACE_EXISTS', 409, (ns: string) =>
    `namespace '${ns}' already exists; copy to a new name, or delete '${ns}' first`),

  // 410
  versionExpired: define('SILT_ERR_VERSION_EXPIRED', 410, (ns: string, what: string, oldest: number) =>
    `${what} of namespace '${ns}' is older than the history kept (compaction.history_retention_secs); the oldest version kept is ${oldest}`),

  // 421
  misrouted: define('SILT_ERR_ROUTING_MISMATCH', 421, (ns: string, from: string, self: string, owner: string) =>
    `namespace '${ns}' was forwarded to ${self} by ${from}, but ${self}'s distributed.indexer_cluster.nodes says ${owner} owns it; ` +
    'every node must have the same nodes list in the same order'),

  // 413
  bodyTooLarge: define('SILT_ERR_REQUEST_TOO_LARGE', 413, (limit: number) =>
    `request body exceeds ${limit} bytes; split the batch or raise server.body_limit_bytes`),

  // 429
  backpressure: define('SILT_ERR_BACKPRESSURE', 429, (ns: string, what: string, retryAfterSecs: number) =>
    `namespace '${ns}': ${what}; the write was not applied, retry it after ${retryAfterSecs} s (indexing is catching up)`),

  // Requests the HTTP layer refuses before any route sees them.
  requestUrl: define('SILT_ERR_REQUEST_URL', 400, (url: string) =>
    `the URL ${clip(url)} is not valid: a '%' must be followed by two hex digits of UTF-8; percent-encode names and ids with encodeURIComponent`),
  requestMalformed: define('SILT_ERR_REQUEST_MALFORMED', 400, (what: string) =>
    `the request is not valid HTTP/1.1 (${what}); check the client or proxy in front of Silt`),
  urlTooLong: define('SILT_ERR_REQUEST_URL_TOO_LONG', 414, (url: string, max: number) =>
    `a path segment of ${clip(url)} is longer than ${max} characters; namespace names have at most 128 characters ` +
    'and document ids at most 64 bytes (both percent-encoded at most 3 characters a byte)'),
  contentType: define('SILT_ERR_REQUEST_CONTENT_TYPE', 415, (what: string) =>
    `${what}; send a JSON body in UTF-8, with content-type application/json (or none), uncompressed`),
  requestTimeout: define('SILT_ERR_REQUEST_TIMEOUT', 408, (headersMs: number, requestMs: number) =>
    `the request did not arrive in time: headers must arrive within ${headersMs} ms (server.headers_timeout_ms) and the whole ` +
    `request within ${requestMs} ms (server.request_timeout_ms); send it faster, or split a large batch`),
  headersTooLarge: define('SILT_ERR_REQUEST_HEADERS_TOO_LARGE', 431, () =>
    'the request headers exceed the 16 KiB node accepts (its --max-http-header-size); send fewer or shorter headers'),

  // 500
  walCorrupt: define('SILT_ERR_WAL_CORRUPT', 500, (ns: string, key: string, detail: string) => ({
    message: `namespace '${ns}' is stopped: its write-ahead log is corrupt (${detail}); restore the WAL object named in the ` +
      "server log ('request failed', field object) from backup — it is never skipped",
    log: { namespace: ns, object: key, detail },
  })),
  segmentCorrupt: define('SILT_ERR_SEGMENT_CORRUPT', 500, (ns: string, segment: string, key: string, detail: string) => ({
    message: `namespace '${ns}' is stopped: segment ${segment} is corrupt (${detail}); restore its object, named in the ` +
      "server log ('request failed', field object), from backup",
    log: { namespace: ns, segment, object: key, detail },
  })),
  internal: define('SILT_ERR_INTERNAL', 500, (detail: string) => ({
    message: "internal error; this is a bug: report it with the server log line 'request failed'",
    log: { detail },
  })),

  // 503
  storageUnavailable: define('SILT_ERR_STORAGE_UNAVAILABLE', 503, (ns: string | null, failed: StorageFailureDetail) => ({
    message: `object storage is unavailable${ns === null ? '' : ` for namespace '${ns}'`} (a ${failed.operation} failed after ` +
      "retries); nothing was acknowledged, retry later — if it persists, check the store and its credentials (the server log has the store's error)",
    log: { ...(ns === null ? {} : { namespace: ns }), operation: failed.operation, object: failed.key, storage_error: failed.message },
  })),
  ownerUnavailable: define('SILT_ERR_OWNER_UNAVAILABLE', 503, (ns: string, owner: string, url: string, detail: string) =>
    `indexer ${owner} (${url}), which owns namespace '${ns}', is not answering (${detail}); ` +
    'writes to this namespace wait for it to come back, queries are served by query nodes'),
  ownerTimeout: define('SILT_ERR_OWNER_TIMEOUT', 504, (ns: string, owner: string, ms: number) =>
    `indexer ${owner}, which owns namespace '${ns}', did not answer within ${ms} ms; the write may or may not have been applied, ` +
    'retry it (upserts and deletes are idempotent)'),
  shuttingDown: define('SILT_ERR_SHUTTING_DOWN', 503, () =>
    'server is shutting down; retry against another node'),
} as const;

export function isSiltError(e: unknown): e is SiltError {
  return e instanceof SiltError;
}
