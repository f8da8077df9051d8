// The HTTP server's edge: what happens before a request reaches a route, or instead of it. Bad
// URLs, unparsable HTTP, timeouts, CONNECT and bodies that are not JSON get Silt's envelope and
// x-silt-node like every other response; slow clients are timed out and connections capped
// (docs/configuration.md, "Timeouts and connections"). Every request has an id (x-request-id, the
// client's or a new one) that its log lines carry as request_id; probes log at debug.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import type { Socket } from 'node:net';
import { LogController, type FastifyBaseLogger, type FastifyHttpOptions, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Errors, type SiltError } from './errors.ts';
import type { SiltConfig } from './config/index.ts';
// The request id's header is read from the client, sent back, and passed on when a request is relayed.
import { REQUEST_ID } from './cluster/forward.ts';

export { REQUEST_ID };

/** What a client may hold open, and for how long. */
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

/** A client's id is used when it is 1 to 128 visible ASCII characters; anything else gets a new one. */
const VALID_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** The id of a request: the client's x-request-id when it is valid, else a new UUID. */
export function requestId(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID];
  return typeof given === 'string' && VALID_REQUEST_ID.test(given) ? given : randomUUID();
}

/** Routes the orchestrator calls every few seconds: their request lines would drown the rest at info. */
const PROBES = new Set(['/health', '/ready']);

/** Fastify's request lines ("incoming request", "request completed"), at debug for probes. */
class RequestLogs extends LogController {
  override incomingRequest(request: FastifyRequest, reply: FastifyReply): void {
    if (PROBES.has(request.routeOptions.url ?? '')) request.log.debug({ req: request }, 'incoming request');
    else super.incomingRequest(request, reply);
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (!error && PROBES.has(request.routeOptions.url ?? '')) reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
    else super.requestCompleted(error, request, reply);
  }
}

export function envelope(e: SiltError): { error: { code: string; message: string } } {
  return { error: { code: e.code, message: e.message } };
}

/** Fastify options for the timeouts and for the errors raised before routing or on the socket. */
export function edgeOptions(nodeId: string, limits: HttpLimits, log: FastifyBaseLogger): FastifyHttpOptions<Server> {
  return {
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    genReqId: requestId,
    logController: new RequestLogs({ requestIdLogLabel: 'request_id' }),
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      // Node checks both timeouts on this interval (default 30 s): keep it well below the header timeout.
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    frameworkErrors: (error, request, reply) => {
      const e = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? Errors.urlTooLong(request.url, MAX_PARAM_LENGTH) : Errors.requestUrl(request.url);
      // These replies skip the onSend hook that sets x-silt-node everywhere else.
      void (reply as FastifyReply).header('x-silt-node', nodeId).header(REQUEST_ID, request.id).status(e.statusCode).send(envelope(e));
    },
    clientErrorHandler: (err: Error & { code?: string; reason?: string }, socket: Socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      log.debug({ err }, 'client error');
      const e = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? Errors.requestTimeout(limits.headersTimeoutMs, limits.requestTimeoutMs)
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? Errors.headersTooLarge()
          : Errors.requestMalformed(`${err.code ?? 'error'}: ${err.reason ?? err.message}`);
      // As node does: answer only if no response has started on this socket, else it would corrupt it.
      const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
      if (inFlight?.headersSent) socket.destroy();
      else answerOnSocket(socket, e, nodeId);
    },
  };
}

/** The connection cap, and an answer to CONNECT, on the server's socket. */
export function guardConnections(app: FastifyInstance, nodeId: string, limits: HttpLimits, log: FastifyBaseLogger): void {
  // Node hands CONNECT (a proxy's method) to this event instead of the router, and closes the
  // connection without a word when nobody listens.
  app.server.on('connect', (req: IncomingMessage, socket: Socket) => {
    answerOnSocket(socket, Errors.routeNotFound('CONNECT', req.url ?? ''), nodeId);
  });
  // Connections beyond the cap are closed by node as they arrive; the ones already open go on.
  // Under a flood that is one event per connection: log at most once a minute, with the count.
  app.server.maxConnections = limits.maxConnections;
  let dropped = 0;
  let loggedAt = 0;
  app.server.on('drop', () => {
    dropped++;
    const now = Date.now();
    if (now - loggedAt < 60_000) return;
    log.warn({ dropped, max_connections: limits.maxConnections }, 'connection limit reached; closing new connections');
    loggedAt = now;
    dropped = 0;
  });
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
/** A streamed body of one JSON document per line, taken by the upsert route only (indexer/ndjson.ts). */
export const NDJSON_TYPE = 'application/x-ndjson';

/**
 * Why a body with these headers is not read as JSON, or null when it is. Bodies are JSON: besides
 * application/json (and +json), a missing type, text/plain and application/x-www-form-urlencoded
 * (what `curl -d` sends) are read as JSON too; a body declared as anything else, in a charset
 * other than UTF-8, or compressed gets 415 instead of a parse error about bytes that were never JSON.
 * application/x-ndjson is accepted where `ndjsonRoute` says the route takes it, and refused elsewhere.
 */
/**
 * Request content-encodings inflated before parsing, as turbopuffer's client sends them; a body
 * is limited by server.max_body_bytes after inflating, so a small compressed body cannot expand
 * without bound.
 */
export const REQUEST_ENCODINGS = ['gzip', 'deflate'] as const;

/**
 * Inflates gzip and deflate request bodies before they are parsed. Written here rather than taken
 * from @fastify/compress (which compresses the responses): its request side destroys the socket
 * when a large body turns out not to be the data it claims, so the client got a reset instead of
 * a 400 (seen with a 40 kB body). Here a bad body is drained and answered.
 */
export function inflateRequestBodies(app: FastifyInstance): void {
  // The compression plugin must not inflate a second time.
  app.addHook('onRoute', (route) => {
    route.decompress ??= false;
  });
  app.addHook('preParsing', async (req, _reply, payload) => {
    const name = req.headers['content-encoding']?.trim().toLowerCase();
    if (!name || !(REQUEST_ENCODINGS as readonly string[]).includes(name)) return payload;
    const inflate = name === 'gzip' ? createGunzip() : createInflate();
    // Fastify checks content-length against the bytes that arrived, not the inflated ones.
    const out = new PassThrough() as PassThrough & { receivedEncodedLength: number };
    out.receivedEncodedLength = 0;
    payload.on('data', (chunk: Buffer) => { out.receivedEncodedLength += chunk.length; });
    inflate.on('error', () => {
      payload.unpipe(inflate);
      payload.resume();
      out.destroy(Errors.bodyEncoding(name));
    });
    // Fastify listens only while it reads the body; a route that never reads it must not crash.
    out.on('error', () => {});
    payload.pipe(inflate).pipe(out);
    return out as Readable;
  });
}

export function refusedBody(type: string | undefined, encoding: string | undefined, ndjsonRoute = false): string | null {
  // gzip and deflate bodies arrive here already inflated (REQUEST_ENCODINGS, registered in server.ts).
  if (encoding !== undefined && !['identity', ...REQUEST_ENCODINGS].includes(encoding.trim().toLowerCase())) {
    return `content-encoding '${encoding.slice(0, 40)}' is not supported`;
  }
  if (type === undefined) return null;
  const [media = '', ...params] = type.split(';');
  const mediaType = media.trim().toLowerCase();
  if (mediaType === NDJSON_TYPE) {
    if (!ndjsonRoute) return `content-type '${NDJSON_TYPE}' is accepted only by POST /v1/namespaces/:ns/upsert`;
  } else if (!JSON_BODY_TYPES.has(mediaType) && !mediaType.endsWith('+json')) return `content-type '${type.slice(0, 80)}' is not accepted`;
  for (const param of params) {
    const [name = '', value = ''] = param.split('=');
    const charset = value.trim().replace(/^"|"$/g, '').toLowerCase();
    if (name.trim().toLowerCase() === 'charset' && charset !== 'utf-8' && charset !== 'utf8') {
      return `charset '${charset.slice(0, 40)}' is not accepted`;
    }
  }
  return null;
}
