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

type NsParams = { Params: { ns: string } };

/** One read of a namespace, as the request asked for it. */
export type NamespaceRead =
  | { kind: 'namespace' }
  /** The document id as it appears in the path, URL-decoded. */
  | { kind: 'document'; id: string }
  | { kind: 'query'; body: unknown };

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
export function serveRead(ns: ReadableNamespace, read: NamespaceRead, limits: QueryLimits, started: number, observer?: QueryObserver): object {
  if (read.kind === 'namespace') return { namespace: ns.name, schema: ns.schema, ...ns.stats() };
  if (read.kind === 'document') {
    const id = parseDocId(read.id, 'id');
    const doc = ns.get(id);
    if (!doc) throw Errors.documentNotFound(ns.name, formatId(id));
    return documentJson(doc);
  }
  const q = parseQuery(read.body, ns.schema, ns.name, limits);
  const results = ns.query(q);
  const took = tookMs(started);
  observer?.metrics.queryDuration.observe({ kind: queryKind(q, observer.servedFromStorage ?? false) }, took / 1000);
  return { results, took_ms: took };
}

export interface ReadRouteDeps {
  /** The namespaces this node owns (the indexer's catalog). */
  catalog: { list(): Promise<string[]>; get(name: string): Promise<ReadableNamespace> };
  queryLimits: QueryLimits;
  metrics?: NodeMetrics;
}

export function registerReadRoutes(app: FastifyInstance, deps: ReadRouteDeps): void {
  const { catalog } = deps;
  // Requests about namespaces this node does not own were answered by cluster routing already.
  const owned = (name: string): Promise<ReadableNamespace> => {
    checkNamespaceName(name);
    return catalog.get(name);
  };

  app.get('/v1/namespaces', async () => ({ namespaces: await catalog.list() }));

  app.get<NsParams>('/v1/namespaces/:ns', async (req) =>
    serveRead(await owned(req.params.ns), { kind: 'namespace' }, deps.queryLimits, performance.now()));

  app.get<{ Params: { ns: string; id: string } }>('/v1/namespaces/:ns/documents/:id', async (req) =>
    serveRead(await owned(req.params.ns), { kind: 'document', id: req.params.id }, deps.queryLimits, performance.now()));

  app.post<NsParams>('/v1/namespaces/:ns/query', async (req) => {
    const started = performance.now();
    const observer = deps.metrics ? { metrics: deps.metrics } : undefined;
    return serveRead(await owned(req.params.ns), { kind: 'query', body: req.body }, deps.queryLimits, started, observer);
  });
}
