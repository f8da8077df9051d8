// The HTTP server: fastify with Silt's error mapping, body limits, health, and the routes of
// the roles this node plays.
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import { Errors, SiltError } from './errors.ts';
import { parseConfig, type SiltConfig } from './config/index.ts';
import type { ObjectStore } from './storage/object-store.ts';
import { isStorageError } from './storage/errors.ts';
import type { NamespaceCatalog } from './indexer/catalog.ts';
import { registerWriteRoutes } from './indexer/routes.ts';
import { registerReadRoutes } from './query/routes.ts';
import { registerCompactionRoutes } from './compaction/routes.ts';
import type { QueryLimits } from './query/request.ts';
import type { DiskCacheStats, MemoryCacheStats } from './cache/index.ts';
import { registerClusterRouting, type RoutingOptions, type RoutingStats } from './cluster/routing.ts';
import { renderMetrics, type Sample } from './metrics.ts';

/** What GET /stats reports and GET /metrics exposes. */
export interface NodeStats {
  node: string;
  role: 'single' | 'indexer' | 'query';
  object_store_requests: Record<string, number>;
  cache: { memory: MemoryCacheStats; disk: DiskCacheStats };
  namespaces_open: number;
  namespace_views: number;
}

export interface ServerDeps {
  catalog: NamespaceCatalog;
  store: ObjectStore;
  log: FastifyBaseLogger;
  bodyLimit: number;
  queryLimits: QueryLimits;
  nodeId: string;
  compaction: { max_segments: number; max_total_docs: number };
  /** Cluster routing; absent on a single node. */
  cluster?: RoutingOptions;
  stats: () => NodeStats;
  /** Timeouts and the connection cap of the HTTP server; the [server] defaults when absent. */
  http?: HttpLimits;
}

/** What a client may hold open, and for how long (docs/configuration.md, "Timeouts and connections"). */
export interface HttpLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
}

export function httpLimits(server: SiltConfig['server']): HttpLimits {
  return {
    headersTimeoutMs: server.headers_timeout_ms,
    requestTimeoutMs: server.request_timeout_ms,
    keepAliveTimeoutMs: server.keep_alive_timeout_ms,
    maxConnections: server.max_connections,
  };
}

/**
 * Longest path parameter the router accepts: a 128-character namespace name or a 64-byte string
 * id, percent-encoded at 3 characters a byte. Anything longer cannot be valid.
 */
export const MAX_PARAM_LENGTH = 3 * 128;

export function buildServer(deps: ServerDeps): FastifyInstance {
  const http = deps.http ?? httpLimits(parseConfig('').server);
  const app = Fastify({
    loggerInstance: deps.log,
    bodyLimit: deps.bodyLimit,
    disableRequestLogging: false,
    return503OnClosing: true,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    requestTimeout: http.requestTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    http: {
      headersTimeout: http.headersTimeoutMs,
      // Node checks both timeouts on this interval (default 30 s): keep it well below the header timeout.
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(http.headersTimeoutMs / 4))),
    },
    // Errors raised before routing (a bad URL, an overlong parameter) and on the socket itself
    // (timeouts, unparsable HTTP) get Silt's envelope and x-silt-node like every other response.
    frameworkErrors: (error, request, reply) => {
      const e = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? Errors.urlTooLong(request.url, MAX_PARAM_LENGTH) : Errors.requestUrl(request.url);
      void (reply as FastifyReply).header('x-silt-node', deps.nodeId).status(e.statusCode).send(envelope(e));
    },
    clientErrorHandler: (err: Error & { code?: string; reason?: string }, socket: Socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      deps.log.debug({ err }, 'client error');
      const e = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? Errors.requestTimeout(http.headersTimeoutMs, http.requestTimeoutMs)
        : err.code === 'HPE_HEADER_OVERFLOW' ? Errors.headersTooLarge() : Errors.requestMalformed(`${err.code ?? 'error'}: ${err.reason ?? err.message}`);
      // As node does: answer only if no response has started on this socket, else it would corrupt it.
      const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
      if (inFlight?.headersSent) socket.destroy();
      else answerOnSocket(socket, e, deps.nodeId);
    },
  });
  // Node hands CONNECT (a proxy's method) to this event instead of the router, and closes the
  // connection without a word when nobody listens.
  app.server.on('connect', (req: IncomingMessage, socket: Socket) => {
    answerOnSocket(socket, Errors.routeNotFound('CONNECT', req.url ?? ''), deps.nodeId);
  });
  // Connections beyond the cap are closed by node as they arrive; the ones already open go on.
  app.server.maxConnections = http.maxConnections;
  app.server.on('drop', () => {
    dropped++;
    const now = Date.now();
    if (now - droppedLoggedAt < 60_000) return;
    deps.log.warn({ dropped, max_connections: http.maxConnections }, 'connection limit reached; closing new connections');
    droppedLoggedAt = now;
    dropped = 0;
  });
  let dropped = 0;
  let droppedLoggedAt = 0;
  let closing = false;
  app.addHook('onClose', async () => {
    closing = true;
  });

  // Bodies are JSON. Besides application/json (and +json), a missing type, text/plain and
  // application/x-www-form-urlencoded (what `curl -d` sends) are read as JSON too; a body declared
  // as anything else, in a charset other than UTF-8, or compressed gets 415 instead of a parse
  // error about bytes that were never JSON.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (req, body, done) => {
    const refused = refusedBody(req.headers['content-type'], req.headers['content-encoding']);
    if (refused) return done(Errors.contentType(refused), undefined);
    const text = body as string;
    if (text.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      done(Errors.invalidJson((e as Error).message), undefined);
    }
  });

  // Forwarded responses keep the owner's x-silt-node: it names the node that handled the request.
  app.addHook('onSend', async (_req, reply) => {
    if (!reply.hasHeader('x-silt-node')) reply.header('x-silt-node', deps.nodeId);
  });
  const responses = new Map<string, number>();
  app.addHook('onResponse', async (_req, reply) => {
    const key = String(reply.statusCode);
    responses.set(key, (responses.get(key) ?? 0) + 1);
  });

  app.setErrorHandler((error: FastifyError | SiltError | Error, request, reply) => {
    const silt = toSiltError(error, request, deps.bodyLimit);
    // The client's message names the namespace; object keys and storage errors go here only.
    if (silt.statusCode >= 500) request.log.error({ err: error, ...silt.logFields }, 'request failed');
    void reply.status(silt.statusCode).send(envelope(silt));
  });
  app.setNotFoundHandler((request, reply) => {
    const e = Errors.routeNotFound(request.method, request.url);
    void reply.status(404).send(envelope(e));
  });

  app.get('/health', async () => ({ status: closing ? 'stopping' : 'ok', node: deps.nodeId }));
  // Ready when object storage answers: a node that cannot reach it can acknowledge nothing.
  app.get('/ready', async (_req, reply) => {
    try {
      await deps.store.list('.catalog/', { maxKeys: 1 });
      return { status: 'ready', node: deps.nodeId };
    } catch (e) {
      throw Errors.storageUnavailable(null, { operation: 'list', key: '.catalog/', message: (e as Error).message });
    }
  });

  const routing = deps.cluster ? registerClusterRouting(app, deps.cluster) : null;
  app.get('/stats', async () => ({ ...deps.stats(), routing }));
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8');
    return renderMetrics(metricSamples(deps.stats(), routing, responses));
  });

  registerWriteRoutes(app, deps);
  registerReadRoutes(app, deps);
  registerCompactionRoutes(app, deps);
  return app;
}

function metricSamples(stats: NodeStats, routing: RoutingStats | null, responses: Map<string, number>): Sample[] {
  const tiers = (pick: (s: MemoryCacheStats | DiskCacheStats) => number) =>
    [{ labels: { tier: 'memory' }, value: pick(stats.cache.memory) }, { labels: { tier: 'disk' }, value: pick(stats.cache.disk) }];
  const samples: Sample[] = [
    { name: 'silt_http_responses_total', help: 'HTTP responses sent, by status code.', type: 'counter',
      values: [...responses].map(([status, value]) => ({ labels: { status }, value })) },
    { name: 'silt_object_store_requests_total', help: 'Object-store requests made, by operation.', type: 'counter',
      values: Object.entries(stats.object_store_requests).map(([op, value]) => ({ labels: { op }, value })) },
    { name: 'silt_cache_hits_total', help: 'Cache hits, by tier.', type: 'counter', values: tiers((s) => s.hits) },
    { name: 'silt_cache_misses_total', help: 'Cache misses, by tier.', type: 'counter', values: tiers((s) => s.misses) },
    { name: 'silt_cache_evictions_total', help: 'Cache entries evicted to stay within the size bound, by tier.', type: 'counter', values: tiers((s) => s.evictions) },
    { name: 'silt_cache_bytes', help: 'Bytes held by the cache, by tier.', type: 'gauge', values: tiers((s) => s.bytes) },
    { name: 'silt_cache_max_bytes', help: 'Configured size bound of the cache, by tier.', type: 'gauge', values: tiers((s) => s.max_bytes) },
    { name: 'silt_cache_entries', help: 'Entries held by the cache, by tier.', type: 'gauge', values: tiers((s) => s.entries) },
    { name: 'silt_namespaces_open', help: 'Namespaces this node owns and has open.', type: 'gauge', values: stats.namespaces_open },
    { name: 'silt_namespace_views', help: 'Read-only views of namespaces owned by other nodes.', type: 'gauge', values: stats.namespace_views },
  ];
  if (routing) {
    samples.push(
      { name: 'silt_forwarded_total', help: 'Requests forwarded to the owning indexer.', type: 'counter', values: routing.forwarded },
      { name: 'silt_forward_failures_total', help: 'Forwarded requests whose owner did not answer.', type: 'counter', values: routing.forwardFailures },
      { name: 'silt_served_from_storage_total', help: 'Reads served from object storage because the owner did not answer.', type: 'counter', values: routing.servedFromStorage },
      { name: 'silt_served_eventual_total', help: 'consistency "eventual" queries served from the local view.', type: 'counter', values: routing.servedEventual },
    );
  }
  return samples;
}

function envelope(e: SiltError): { error: { code: string; message: string } } {
  return { error: { code: e.code, message: e.message } };
}

/** A response written straight to the socket, for errors node raises outside any request; then it closes. */
function answerOnSocket(socket: Socket, e: SiltError, nodeId: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(envelope(e));
  socket.end(
    `HTTP/1.1 ${e.statusCode} ${STATUS_CODES[e.statusCode] ?? 'Error'}\r\ncontent-type: application/json; charset=utf-8\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nx-silt-node: ${nodeId}\r\nconnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

const JSON_BODY_TYPES = new Set(['application/json', 'text/plain', 'application/x-www-form-urlencoded']);

/** Why a body with these headers is not read as JSON, or null when it is. */
function refusedBody(type: string | undefined, encoding: string | undefined): string | null {
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    return `content-encoding '${encoding.slice(0, 40)}' is not supported`;
  }
  if (type === undefined) return null;
  const [media = '', ...params] = type.split(';');
  const mediaType = media.trim().toLowerCase();
  if (!JSON_BODY_TYPES.has(mediaType) && !mediaType.endsWith('+json')) return `content-type '${type.slice(0, 80)}' is not accepted`;
  for (const param of params) {
    const [name = '', value = ''] = param.split('=');
    const charset = value.trim().replace(/^"|"$/g, '').toLowerCase();
    if (name.trim().toLowerCase() === 'charset' && charset !== 'utf-8' && charset !== 'utf8') {
      return `charset '${charset.slice(0, 40)}' is not accepted`;
    }
  }
  return null;
}

function toSiltError(error: unknown, request: FastifyRequest, bodyLimit: number): SiltError {
  if (error instanceof SiltError) return error;
  const e = error as FastifyError;
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return Errors.bodyTooLarge(bodyLimit);
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return Errors.contentType(`content-type '${String(request.headers['content-type']).slice(0, 80)}' is not a media type`);
  }
  if (e.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') return Errors.requestMalformed('the body length differs from its content-length');
  if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e instanceof SyntaxError) return Errors.invalidJson(e.message);
  if (isStorageError(error)) return Errors.storageUnavailable(null, error);
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new SiltError('SILT_ERR_REQUEST_INVALID', e.statusCode, e.message);
  }
  return Errors.internal(e.message ?? String(error));
}
