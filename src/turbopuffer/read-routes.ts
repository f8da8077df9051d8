// The reads of the turbopuffer-compatible API (query, multi-query, recall, metadata, schema) and
// the routes of the first three; cluster routing serves the same NamespaceRead from a view when the
// owner is down (RoutingOptions.customReads).
import type { FastifyInstance } from 'fastify';
import { checkNamespaceName } from '../schema/parse.ts';
import { serveRead, type NamespaceRead, type ReadRouteDeps } from '../namespace/routes.ts';
import { serveTurbopufferQuery, wantsEventual } from './query.ts';
import { serveRecall } from './recall.ts';
import { turbopufferSchemaJson } from '../schema/turbopuffer.ts';
import type { ReadableNamespace } from '../namespace/state.ts';

const QUERY_PATH = /^\/v2\/namespaces\/[^/]+\/query$/;
const RECALL_PATH = /^\/v1\/namespaces\/[^/]+\/_debug\/recall$/;
const METADATA_PATH = /^\/v2\/namespaces\/[^/]+\/metadata$/;
const SCHEMA_PATH = /^\/v1\/namespaces\/[^/]+\/schema$/;

/** turbopuffer's namespace metadata, from the owner's state or a view's alike. */
function metadataJson(ns: ReadableNamespace) {
  const meta = ns.metadata();
  return {
    approx_row_count: ns.stats().documents,
    approx_logical_bytes: meta.logical_bytes,
    created_at: meta.created_at,
    updated_at: meta.updated_at,
    index: meta.unindexed_bytes > 0 ? { status: 'updating', unindexed_bytes: meta.unindexed_bytes } : { status: 'up-to-date' },
    schema: turbopufferSchemaJson(ns.schema),
    encryption: { mode: 'default' },
  };
}

/** GET /v2/namespaces/:ns/metadata. */
export const METADATA_READ: NamespaceRead = { kind: 'custom', eventual: false, serve: async (ns) => metadataJson(ns) };
/** GET /v1/namespaces/:ns/schema: the flat schema, a map of attributes with nothing else in it. */
export const SCHEMA_READ: NamespaceRead = { kind: 'custom', eventual: false, unmarked: true, serve: async (ns) => turbopufferSchemaJson(ns.schema) };

function queryRead(body: unknown): NamespaceRead {
  return { kind: 'custom', eventual: wantsEventual(body), serve: (ns, started, observer) => serveTurbopufferQuery(ns, body, started, observer) };
}

function recallRead(body: unknown): NamespaceRead {
  return { kind: 'custom', eventual: false, serve: (ns, _started, observer) => serveRecall(ns, body, observer) };
}

/** The turbopuffer read a request asks for (RoutingOptions.customReads), or null. */
export function turbopufferRead(method: string, path: string, body: () => unknown): NamespaceRead | null {
  if (method === 'GET') return METADATA_PATH.test(path) ? METADATA_READ : SCHEMA_PATH.test(path) ? SCHEMA_READ : null;
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
