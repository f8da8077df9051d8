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
// Requests for namespaces this node owns fall through to the ordinary routes.
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Errors } from '../errors.ts';
import { checkNamespaceName } from '../schema/parse.ts';
import { formatId, parseDocId } from '../schema/document.ts';
import { parseQuery, type QueryLimits } from '../query/request.ts';
import { documentJson, tookMs } from '../query/routes.ts';
import { FORWARDED_BY, forward, UnreachableError, type ForwardResponse } from './forward.ts';
import type { Topology } from './topology.ts';
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
}

/** Counters of what routing did, for /metrics and /stats. */
export class RoutingStats {
  forwarded = 0;
  forwardFailures = 0;
  servedFromStorage = 0;
  servedEventual = 0;
}

type ReadKind = 'query' | 'document' | 'namespace';

interface NamespaceRoute {
  ns: string;
  /** The path after the namespace: "", "/query", "/documents/7", … */
  rest: string;
}

export function namespaceRoute(url: string): NamespaceRoute | null {
  const path = url.split('?', 1)[0]!;
  const m = /^\/v1\/namespaces\/([^/]+)(\/.*)?$/.exec(path);
  if (!m) return null;
  let ns: string;
  try {
    ns = decodeURIComponent(m[1]!);
  } catch {
    throw Errors.invalidNamespaceName(m[1]!);
  }
  return { ns, rest: m[2] ?? '' };
}

function readKind(method: string, rest: string): ReadKind | null {
  if (method === 'POST' && rest === '/query') return 'query';
  if (method === 'GET' && rest === '') return 'namespace';
  if (method === 'GET' && /^\/documents\/[^/]+$/.test(rest)) return 'document';
  return null;
}

export function registerClusterRouting(app: FastifyInstance, opts: RoutingOptions): RoutingStats {
  const { topology, views } = opts;
  const stats = new RoutingStats();

  app.addHook('onRequest', async (req, reply) => {
    const route = namespaceRoute(req.url);
    if (!route) return;
    checkNamespaceName(route.ns);
    if (topology.owns(route.ns)) return;
    const owner = topology.ownerOf(route.ns);
    const from = req.headers[FORWARDED_BY];
    if (typeof from === 'string') throw Errors.misrouted(route.ns, from, topology.selfId, owner.id);

    const body = await readBody(req.raw, opts.bodyLimit);
    const kind = readKind(req.method, route.rest);
    const started = performance.now();
    let query: unknown = undefined;
    if (kind === 'query') {
      query = parseJson(body);
      if (isRecord(query) && query.consistency === 'eventual') {
        const { view, ageMs } = await views.recent(route.ns, opts.eventualMaxStalenessMs);
        stats.servedEventual++;
        const q = parseQuery(query, view.schema, route.ns, opts.queryLimits);
        return send(reply, 'cache', { results: view.query(q), took_ms: tookMs(started), served_from: 'cache', staleness_ms: ageMs });
      }
    }

    const timeoutMs = kind ? opts.forwardTimeoutMs : opts.writeForwardTimeoutMs;
    let res: ForwardResponse | null = null;
    let ownerError: string;
    try {
      stats.forwarded++;
      res = await forward(owner.url, {
        method: req.method, path: req.url, body, contentType: req.headers['content-type'], timeoutMs, from: topology.selfId,
        authorization: req.headers.authorization, clusterToken: opts.clusterToken,
      });
    } catch (e) {
      if (!(e instanceof UnreachableError)) throw e;
      stats.forwardFailures++;
      req.log.warn({ owner: owner.id, url: e.url, err: e.message }, 'owner did not answer');
      if (!kind) {
        throw e.timedOut ? Errors.ownerTimeout(route.ns, owner.id, timeoutMs) : Errors.ownerUnavailable(route.ns, owner.id, owner.url, e.message);
      }
      ownerError = e.message;
    }
    if (res && (!kind || res.status < 500)) {
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
      return reply.send(res.body);
    }
    if (res) ownerError = `it answered ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`;

    // The owner is down: serve the read from object storage, fresh as of now.
    const view = await views.fresh(route.ns);
    stats.servedFromStorage++;
    const marks = { served_from: 'object_storage', owner: owner.id, owner_error: ownerError! };
    return send(reply, 'object_storage', { ...serveRead(view, kind!, route, query, opts.queryLimits, started), ...marks });
  });
  return stats;
}

function serveRead(view: NamespaceView, kind: ReadKind, route: NamespaceRoute, query: unknown, limits: QueryLimits, started: number): object {
  if (kind === 'query') {
    const q = parseQuery(query, view.schema, route.ns, limits);
    return { results: view.query(q), took_ms: tookMs(started) };
  }
  if (kind === 'namespace') return { namespace: route.ns, schema: view.schema, ...view.stats() };
  const raw = route.rest.slice('/documents/'.length);
  let text: string;
  try {
    text = decodeURIComponent(raw);
  } catch {
    text = raw;
  }
  const id = parseDocId(text, 'id');
  const doc = view.get(id);
  if (!doc) throw Errors.documentNotFound(route.ns, formatId(id));
  return documentJson(doc);
}

function send(reply: FastifyReply, servedFrom: string, body: object): FastifyReply {
  reply.header('x-silt-served-from', servedFrom);
  return reply.code(200).send(body);
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
