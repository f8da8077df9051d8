// The read routes of the turbopuffer-compatible API (query, multi-query, recall) and the reads
// cluster routing serves for them when the owner is down: the same NamespaceRead either way.
import type { FastifyInstance } from 'fastify';
import { checkNamespaceName } from '../schema/parse.ts';
import { serveRead, type NamespaceRead, type ReadRouteDeps } from '../namespace/routes.ts';
import { serveTurbopufferQuery, wantsEventual } from './query.ts';
import { serveRecall } from './recall.ts';

const QUERY_PATH = /^\/v2\/namespaces\/[^/]+\/query$/;
const RECALL_PATH = /^\/v1\/namespaces\/[^/]+\/_debug\/recall$/;

function queryRead(body: unknown): NamespaceRead {
  return { kind: 'custom', eventual: wantsEventual(body), serve: (ns, started, observer) => serveTurbopufferQuery(ns, body, started, observer) };
}

function recallRead(body: unknown): NamespaceRead {
  return { kind: 'custom', eventual: false, serve: (ns, _started, observer) => serveRecall(ns, body, observer) };
}

/** The turbopuffer read a request asks for (RoutingOptions.customReads), or null. */
export function turbopufferRead(method: string, path: string, body: () => unknown): NamespaceRead | null {
  if (method !== 'POST') return null;
  if (QUERY_PATH.test(path)) return queryRead(body());
  if (RECALL_PATH.test(path)) return recallRead(body());
  return null;
}

export function registerTurbopufferReadRoutes(app: FastifyInstance, deps: ReadRouteDeps): void {
  const serve = async (name: string, read: (body: unknown) => NamespaceRead, body: unknown) => {
    const started = performance.now();
    checkNamespaceName(name);
    const ns = await deps.catalog.get(name);
    return serveRead(ns, read(body), deps.queryLimits, started, deps.metrics ? { metrics: deps.metrics } : undefined);
  };
  app.post<{ Params: { ns: string } }>('/v2/namespaces/:ns/query', (req) => serve(req.params.ns, queryRead, req.body));
  app.post<{ Params: { ns: string } }>('/v1/namespaces/:ns/_debug/recall', (req) => serve(req.params.ns, recallRead, req.body));
}
