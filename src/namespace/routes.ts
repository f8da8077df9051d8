// The read API: list and describe namespaces, fetch a document, query. Each read is served by
// serveRead from a ReadableNamespace: the owner's Namespace here, or, when cluster routing chose
// one, a view of a namespace another node owns. The endpoints exist once, whoever serves them.
import type { FastifyInstance } from 'fastify';
import { Errors } from '../errors.ts';
import { checkNamespaceName } from '../schema/parse.ts';
import { formatId, idToJson, parseDocId } from '../schema/document.ts';
import type { Document } from '../schema/types.ts';
import { parseQuery, type ParsedQuery, type QueryLimits } from '../query/request.ts';
import type { NodeMetrics, QueryKind } from '../metrics.ts';
import type { ReadableNamespace } from './state.ts';
import type { QueryHint } from '../segment/ivf-route.ts';

type NsParams = { Params: { ns: string } };

/** One read of a namespace, as the request asked for it. */
export type NamespaceRead =
  | { kind: 'namespace' }
  /** The document id as it appears in the path, URL-decoded. */
  | { kind: 'document'; id: string }
  | { kind: 'query'; body: unknown }
  /** A page of documents in id order: the query string's `after` and `limit`, as given. */
  | { kind: 'list'; after?: string; limit?: string }
  /**
   * A read of another API over the same namespace (the turbopuffer-compatible one,
   * src/turbopuffer/): `serve` answers it from whichever namespace routing chose; `eventual` when
   * it may be served from a recent local view without asking the owner.
   */
  | {
    kind: 'custom'; eventual: boolean;
    /** The body is a map of its own (a schema): a view's served_from marks travel in the header only. */
    unmarked?: boolean;
    serve(ns: ReadableNamespace, started: number, observer?: QueryObserver): Promise<object>;
  };

/** Documents per page of GET /v1/namespaces/:ns/documents, by default and at most. */
export const LIST_LIMIT = { default: 1000, max: 10_000 };

/** The body of GET /v1/namespaces/:ns/documents/:id. */
export function documentJson(doc: Document) {
  return { id: idToJson(doc.id), vector: doc.vector ? Array.from(doc.vector) : null, attributes: doc.attributes };
}

/** took_ms as every query response reports it: milliseconds since `started`, to the microsecond. */
export function tookMs(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}

/**
 * A query's label in silt_query_duration_seconds, the first that applies: served from storage (the
 * owner was down), filtered (any filter), hybrid (vector and full text), vector, text.
 */
export function queryKind(q: ParsedQuery, servedFromStorage: boolean): QueryKind {
  if (servedFromStorage) return 'served_from_storage';
  if (q.filter) return 'filtered';
  if (q.vector && q.fullText) return 'hybrid';
  return q.vector ? 'vector' : 'text';
}

/** Where a query's duration goes; servedFromStorage when a view answers because the owner did not. */
export interface QueryObserver {
  metrics: NodeMetrics;
  servedFromStorage?: boolean;
}

/** The response body of `read` served from `ns`; `started` is when the request arrived. */
export async function serveRead(ns: ReadableNamespace, read: NamespaceRead, limits: QueryLimits, started: number, observer?: QueryObserver): Promise<object> {
  if (read.kind === 'namespace') return { namespace: ns.name, schema: ns.schema, ...ns.stats() };
  if (read.kind === 'document') {
    const id = parseDocId(read.id, 'id');
    const doc = await ns.get(id);
    if (!doc) throw Errors.documentNotFound(ns.name, formatId(id));
    return documentJson(doc);
  }
  if (read.kind === 'list') return listPage(ns, read);
  if (read.kind === 'custom') return read.serve(ns, started, observer);
  const q = parseQuery(read.body, ns.schema, ns.name, limits);
  const results = await ns.query(q);
  const took = tookMs(started);
  observer?.metrics.queryDuration.observe({ kind: queryKind(q, observer.servedFromStorage ?? false) }, took / 1000);
  return { results, took_ms: took };
}

/**
 * The vector, ef, nprobe and whether it filters, of a query body, read before the body is parsed against the schema
 * (which needs the namespace open): what a cold open reads early for. Anything unexpected gives
 * no hint; parseQuery reports it afterwards.
 */
export function queryHint(body: unknown): QueryHint | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { vector, ef, nprobe, filter, filters } = body as { vector?: unknown; ef?: unknown; nprobe?: unknown; filter?: unknown; filters?: unknown };
  if (!Array.isArray(vector) || vector.length === 0 || !vector.every((x) => typeof x === 'number' && Number.isFinite(x))) return undefined;
  const int = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined);
  const e = int(ef);
  const n = int(nprobe);
  return {
    vector: Float32Array.from(vector as number[]), ...(e === undefined ? {} : { ef: e }), ...(n === undefined ? {} : { nprobe: n }),
    ...((filter ?? filters ?? null) === null ? {} : { filtered: true }),
  };
}

/** Namespaces per page of GET /v1/namespaces, by default and at most. */
export const NAMESPACE_PAGE = { default: 100, max: 1000 };

/** GET /v1/namespaces: `{namespaces: [{id}], next_cursor}`, the shape of both APIs. */
export async function namespacePage(catalog: ReadRouteDeps['catalog'], query: { prefix?: unknown; page_size?: unknown; cursor?: unknown }) {
  const one = (v: unknown) => (Array.isArray(v) ? v[0] : v) as string | undefined;
  const prefix = one(query.prefix) ?? '';
  const cursor = one(query.cursor) ?? null;
  const rawSize = one(query.page_size);
  const pageSize = rawSize === undefined ? NAMESPACE_PAGE.default : Number(rawSize);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > NAMESPACE_PAGE.max) {
    throw Errors.invalidRequest('page_size', `must be an integer from 1 to ${NAMESPACE_PAGE.max}`);
  }
  // Both become object-key prefixes of the catalog listing: names' characters only.
  for (const [field, value] of [['prefix', prefix], ['cursor', cursor ?? '']] as const) {
    if (!/^[A-Za-z0-9_.-]{0,128}$/.test(value)) throw Errors.invalidRequest(field, 'namespace names use [A-Za-z0-9_.-], at most 128 characters');
  }
  const page = await catalog.listPage(prefix, pageSize, cursor === '' ? null : cursor);
  return { namespaces: page.names.map((id) => ({ id })), next_cursor: page.next };
}

async function listPage(ns: ReadableNamespace, read: { after?: string; limit?: string }) {
  const limit = read.limit === undefined ? LIST_LIMIT.default : Number(read.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > LIST_LIMIT.max) {
    throw Errors.invalidRequest('limit', `must be an integer from 1 to ${LIST_LIMIT.max}`);
  }
  const after = read.after === undefined ? null : parseDocId(read.after, 'after');
  const docs = await ns.list(after, limit);
  const last = docs.length === limit ? docs[docs.length - 1]! : null;
  return { documents: docs.map(documentJson), next_after: last ? idToJson(last.id) : null };
}

/** The list read of a query string (fastify's parsed one, or URLSearchParams on a relay); a repeated key counts once. */
export function listRead(query: Record<string, unknown>): NamespaceRead {
  const one = (v: unknown) => (Array.isArray(v) ? v[0] : v) as string | undefined;
  const after = one(query.after);
  const limit = one(query.limit);
  return { kind: 'list', ...(after === undefined ? {} : { after }), ...(limit === undefined ? {} : { limit }) };
}

export interface ReadRouteDeps {
  /** The namespaces this node owns (the indexer's catalog). */
  catalog: {
    listPage(prefix: string, pageSize: number, cursor: string | null): Promise<{ names: string[]; next: string | null }>;
    /** `hint`: the query about to run, for a namespace this opens (segment/ivf-route.ts). */
    get(name: string, hint?: QueryHint): Promise<ReadableNamespace>;
  };
  queryLimits: QueryLimits;
  metrics?: NodeMetrics;
}

export function registerReadRoutes(app: FastifyInstance, deps: ReadRouteDeps): void {
  const { catalog } = deps;
  // Requests about namespaces this node does not own were answered by cluster routing already.
  const owned = (name: string, hint?: QueryHint): Promise<ReadableNamespace> => {
    checkNamespaceName(name);
    return catalog.get(name, hint);
  };

  app.get<{ Querystring: Record<string, unknown> }>('/v1/namespaces', async (req) => namespacePage(catalog, req.query));

  app.get<NsParams>('/v1/namespaces/:ns', async (req) =>
    serveRead(await owned(req.params.ns), { kind: 'namespace' }, deps.queryLimits, performance.now()));

  app.get<NsParams & { Querystring: { after?: string; limit?: string } }>('/v1/namespaces/:ns/documents', async (req) =>
    serveRead(await owned(req.params.ns), listRead(req.query), deps.queryLimits, performance.now()));

  app.get<{ Params: { ns: string; id: string } }>('/v1/namespaces/:ns/documents/:id', async (req) =>
    serveRead(await owned(req.params.ns), { kind: 'document', id: req.params.id }, deps.queryLimits, performance.now()));

  app.post<NsParams>('/v1/namespaces/:ns/query', async (req) => {
    const started = performance.now();
    const observer = deps.metrics ? { metrics: deps.metrics } : undefined;
    return serveRead(await owned(req.params.ns, queryHint(req.body)), { kind: 'query', body: req.body }, deps.queryLimits, started, observer);
  });
}
