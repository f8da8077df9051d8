// The read API: list and describe namespaces, fetch a document, query.
import type { FastifyInstance } from 'fastify';
import { Errors } from '../errors.ts';
import { checkNamespaceName } from '../schema/parse.ts';
import { formatId, idToJson, parseDocId } from '../schema/document.ts';
import type { ServerDeps } from '../server.ts';
import type { Document } from '../schema/types.ts';
import { parseQuery } from './request.ts';

type NsParams = { Params: { ns: string } };

/** The body of GET /v1/namespaces/:ns/documents/:id. */
export function documentJson(doc: Document) {
  return { id: idToJson(doc.id), vector: doc.vector ? Array.from(doc.vector) : null, attributes: doc.attributes };
}

/** took_ms as every query response reports it: milliseconds since `started`, to the microsecond. */
export function tookMs(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}

export function registerReadRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { catalog } = deps;

  app.get('/v1/namespaces', async () => ({ namespaces: await catalog.list() }));

  app.get<NsParams>('/v1/namespaces/:ns', async (req) => {
    checkNamespaceName(req.params.ns);
    const ns = await catalog.get(req.params.ns);
    return { namespace: ns.name, schema: ns.schema, ...ns.stats() };
  });

  app.get<{ Params: { ns: string; id: string } }>('/v1/namespaces/:ns/documents/:id', async (req) => {
    checkNamespaceName(req.params.ns);
    const ns = await catalog.get(req.params.ns);
    const id = parseDocId(req.params.id, 'id');
    const doc = ns.get(id);
    if (!doc) throw Errors.documentNotFound(ns.name, formatId(id));
    return documentJson(doc);
  });

  app.post<NsParams>('/v1/namespaces/:ns/query', async (req) => {
    const started = performance.now();
    checkNamespaceName(req.params.ns);
    const ns = await catalog.get(req.params.ns);
    const q = parseQuery(req.body, ns.schema, ns.name, deps.queryLimits);
    const results = ns.query(q);
    return { results, took_ms: tookMs(started) };
  });
}
