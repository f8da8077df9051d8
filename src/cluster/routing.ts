// Request routing of a cluster node (DESIGN.md §6). Every request about a namespace this node
// does not own is handled here, before its body is parsed, so a large upsert is relayed as the
// bytes it arrived as:
// - writes and namespace changes are forwarded to the owning indexer; when it does not answer
//   they fail with 503 naming it (nothing is applied anywhere else);
// - reads (query, document, namespace stats) are forwarded too, and when the owner does not
//   answer in time (or fails) they are served here from object storage through a view that was
//   refreshed for this request, so every acknowledged write is still visible;
// - queries with consistency "eventual" are served from the local view when it is recent enough,
//   without asking the owner.
// Requests for namespaces this node owns fall through to the ordinary routes. Routing only
// chooses who answers (the owner, by forwarding, or a view); a view's read is served by the same
// serveRead as the owner's routes, with served_from and its marks added.
import type { IncomingMessage } from 'node:http';
import { gunzipSync, inflateSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Errors } from '../errors.ts';
import { checkNamespaceName } from '../schema/parse.ts';
import type { QueryLimits } from '../query/request.ts';
import { listRead, queryHint, serveRead, type NamespaceRead } from '../namespace/routes.ts';
import type { QueryHint } from '../segment/ivf-route.ts';
import { FORWARDED_BY, forward, UnreachableError, type ForwardResponse } from './forward.ts';
import type { Topology } from './topology.ts';
import type { NodeMetrics } from '../metrics.ts';
import type { NamespaceView, ViewCatalog } from './view.ts';

export interface RoutingOptions {
  topology: Topology;
  views: ViewCatalog;
  bodyLimit: number;
  queryLimits: QueryLimits;
  forwardTimeoutMs: number;
  writeForwardTimeoutMs: number;
  eventualMaxStalenessMs: number;
  /** Sent with every relayed request (auth.cluster_token); absent or '' without keys. */
  clusterToken?: string;
  /** Query durations of the reads answered here from a view. */
  metrics?: NodeMetrics;
  /**
   * The reads of other APIs over the same namespaces (the turbopuffer-compatible one): the read a
   * request asks for, from its method, path (without the query string) and parsed body, or null.
   */
  customReads?: (method: string, path: string, body: () => unknown) => NamespaceRead | null;
}

/** Counters of what routing did, for /metrics and /stats. */
export class RoutingStats {
  forwarded = 0;
  forwardFailures = 0;
  servedFromStorage = 0;
  servedEventual = 0;
}

interface NamespaceRoute {
  ns: string;
  /** The path after the namespace: "", "/query", "/documents/7", … */
  rest: string;
}

export function namespaceRoute(url: string): NamespaceRoute | null {
  const path = url.split('?', 1)[0]!;
  // /v2 is the turbopuffer-compatible API (src/turbopuffer/): its namespaces are routed alike.
  const m = /^\/v[12]\/namespaces\/([^/]+)(\/.*)?$/.exec(path);
  if (!m) return null;
  let ns: string;
  try {
    ns = decodeURIComponent(m[1]!);
  } catch {
    throw Errors.invalidNamespaceName(m[1]!);
  }
  return { ns, rest: m[2] ?? '' };
}

/** A query's vector and probe, for the first open of its view (namespace/routes.ts queryHint). */
function hintOf(read: NamespaceRead | null): QueryHint | undefined {
  return read?.kind === 'query' ? queryHint(read.body) : undefined;
}

/** The read a request asks for, or null for a write (and any other request); `body` parses it. */
function readOf(method: string, rest: string, body: () => unknown, url: string, custom: RoutingOptions['customReads']): NamespaceRead | null {
  const read = custom?.(method, url.split('?', 1)[0]!, body);
  if (read) return read;
  if (method === 'POST' && rest === '/query') return { kind: 'query', body: body() };
  if (method === 'GET' && rest === '/documents') return listRead(Object.fromEntries(new URL(url, 'http://x').searchParams));
  if (method === 'GET' && rest === '') return { kind: 'namespace' };
  if (method === 'GET' && /^\/documents\/[^/]+$/.test(rest)) return { kind: 'document', id: documentId(rest) };
  return null;
}

function documentId(rest: string): string {
  const raw = rest.slice('/documents/'.length);
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** A view chosen to answer a read, with how the response says where it came from. */
interface ViewChoice {
  view: NamespaceView;
  servedFrom: 'cache' | 'object_storage';
  marks: Record<string, string | number>;
}

export function registerClusterRouting(app: FastifyInstance, opts: RoutingOptions): RoutingStats {
  const { topology, views } = opts;
  const stats = new RoutingStats();

  /**
   * Forwards the request to the owner and relays its answer (then returns null). A read the
   * owner could not serve gets a view refreshed now instead, so every acknowledged write is
   * still visible; a write fails naming the owner.
   */
  async function relay(req: FastifyRequest, reply: FastifyReply, ns: string, body: Buffer, read: NamespaceRead | null): Promise<ViewChoice | null> {
    const owner = topology.ownerOf(ns);
    const timeoutMs = read ? opts.forwardTimeoutMs : opts.writeForwardTimeoutMs;
    let res: ForwardResponse | null = null;
    let ownerError: string;
    try {
      stats.forwarded++;
      res = await forward(owner.url, {
        method: req.method, path: req.url, body, contentType: req.headers['content-type'], contentEncoding: req.headers['content-encoding'], timeoutMs, from: topology.selfId,
        authorization: req.headers.authorization, clusterToken: opts.clusterToken, requestId: req.id,
      });
    } catch (e) {
      if (!(e instanceof UnreachableError)) throw e;
      stats.forwardFailures++;
      req.log.warn({ owner: owner.id, url: e.url, err: e.message }, 'owner did not answer');
      if (!read) {
        throw e.timedOut ? Errors.ownerTimeout(ns, owner.id, timeoutMs) : Errors.ownerUnavailable(ns, owner.id, owner.url, e.message);
      }
      ownerError = e.message;
    }
    if (res && (!read || res.status < 500)) {
      reply.code(res.status);
      const type = res.header('content-type');
      if (type) reply.header('content-type', type);
      const challenge = res.header('www-authenticate');
      if (challenge) reply.header('www-authenticate', challenge);
      // A 429 for backpressure tells the client when to come back; the relay must not drop it.
      const retryAfter = res.header('retry-after');
      if (retryAfter) reply.header('retry-after', retryAfter);
      reply.header('x-silt-node', res.header('x-silt-node') ?? owner.id);
      reply.header('x-silt-via', topology.selfId);
      reply.send(res.body);
      return null;
    }
    if (res) ownerError = `it answered ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`;
    // The owner is down: serve the read from object storage, fresh as of now.
    const view = await views.fresh(ns, hintOf(read));
    stats.servedFromStorage++;
    return { view, servedFrom: 'object_storage', marks: { served_from: 'object_storage', owner: owner.id, owner_error: ownerError! } };
  }

  app.addHook('onRequest', async (req, reply) => {
    const route = namespaceRoute(req.url);
    if (!route) return;
    checkNamespaceName(route.ns);
    if (topology.owns(route.ns)) return;
    const from = req.headers[FORWARDED_BY];
    if (typeof from === 'string') throw Errors.misrouted(route.ns, from, topology.selfId, topology.ownerOf(route.ns).id);

    if (req.method === 'GET' && route.rest === '/hint_cache_warm' && req.url.startsWith('/v1/')) {
      // turbopuffer's cache hint warms this node: its view opened (segments read through the
      // disk tier) and kept; an open view costs nothing more.
      await views.warm(route.ns);
      return reply.code(202).send({ status: 'ACCEPTED' });
    }
    const body = await readBody(req.raw, opts.bodyLimit);
    // Parsed (and inflated) only for a read: a relayed write goes on as the bytes it arrived as.
    const parsed = () => parseJson(inflated(body, req.headers['content-encoding'], opts.bodyLimit));
    const read = readOf(req.method, route.rest, parsed, req.url, opts.customReads);
    const started = performance.now();
    let choice: ViewChoice | null;
    const eventual = read?.kind === 'custom' ? read.eventual : read?.kind === 'query' && isRecord(read.body) && read.body.consistency === 'eventual';
    if (eventual) {
      // Answered here without asking the owner, from a view at most eventualMaxStalenessMs old.
      const { view, ageMs } = await views.recent(route.ns, opts.eventualMaxStalenessMs, hintOf(read));
      stats.servedEventual++;
      choice = { view, servedFrom: 'cache', marks: { served_from: 'cache', staleness_ms: ageMs } };
    } else {
      choice = await relay(req, reply, route.ns, body, read);
      if (!choice) return reply;
    }
    // The body first: a read the view refuses (a bad query, no such document) is an error, unmarked.
    const observer = opts.metrics ? { metrics: opts.metrics, servedFromStorage: choice.servedFrom === 'object_storage' } : undefined;
    const served = await serveRead(choice.view, read!, opts.queryLimits, started, observer);
    const answer = read!.kind === 'custom' && read!.unmarked ? served : { ...served, ...choice.marks };
    reply.header('x-silt-served-from', choice.servedFrom);
    return reply.code(200).send(answer);
  });
  return stats;
}

async function readBody(raw: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(raw.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw Errors.bodyTooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of raw as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw Errors.bodyTooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The body as the routes would parse it: gzip and deflate bodies inflated, up to `limit` bytes. */
function inflated(body: Buffer, encoding: string | undefined, limit: number): Buffer {
  const name = encoding?.trim().toLowerCase();
  if (body.length === 0 || !name || name === 'identity') return body;
  try {
    if (name === 'gzip') return gunzipSync(body, { maxOutputLength: limit });
    if (name === 'deflate') return inflateSync(body, { maxOutputLength: limit });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw Errors.bodyTooLarge(limit);
    throw Errors.bodyEncoding(name);
  }
  throw Errors.contentType(`content-encoding '${name.slice(0, 40)}' is not supported; send gzip, deflate or identity`);
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw Errors.invalidJson((e as Error).message);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
