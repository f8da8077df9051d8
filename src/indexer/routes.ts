// The write API: namespace create/delete, upsert, delete. Requests are checked whole before any
// of it reaches the WAL, so a bad document rejects the batch and nothing is half-applied.
import type { FastifyInstance } from 'fastify';
import { Errors } from '../errors.ts';
import { checkNamespaceName, parseNamespaceSchema } from '../schema/parse.ts';
import { parseDocId, parseDocument } from '../schema/document.ts';
import { compileFilter, FilterError } from '../query/filter/index.ts';
import type { NamespaceCatalog } from './catalog.ts';
import { flushTail } from './flush.ts';
import { storageFailure } from '../namespace/failures.ts';
import { BackpressureError } from './backpressure.ts';
import { PartialUpsertError, upsertNdjson } from './ndjson.ts';
import { Readable } from 'node:stream';

/** The upsert route: the one route that takes an application/x-ndjson body (a stream). */
export const UPSERT_ROUTE = '/v1/namespaces/:ns/upsert';

type NsParams = { Params: { ns: string } };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function registerWriteRoutes(app: FastifyInstance, deps: { catalog: NamespaceCatalog }): void {
  const { catalog } = deps;
  // A write refused for backpressure says when to come back.
  app.addHook('onError', async (_req, reply, error) => {
    if (error instanceof BackpressureError) reply.header('retry-after', String(error.retryAfterSecs));
  });

  app.put<NsParams>('/v1/namespaces/:ns', async (req, reply) => {
    checkNamespaceName(req.params.ns);
    const schema = parseNamespaceSchema(req.body);
    const created = await catalog.create(req.params.ns, schema);
    return reply.status(created ? 201 : 200).send({ namespace: req.params.ns, created, schema });
  });

  app.delete<NsParams>('/v1/namespaces/:ns', async (req) => {
    checkNamespaceName(req.params.ns);
    await catalog.delete(req.params.ns);
    return { namespace: req.params.ns, deleted: true };
  });

  app.post<NsParams>(UPSERT_ROUTE, async (req, reply) => {
    checkNamespaceName(req.params.ns);
    const ns = await catalog.get(req.params.ns);
    const body = req.body;
    if (body instanceof Readable) {
      // NDJSON, streamed (ndjson.ts). One line may take what a whole JSON body may.
      try {
        const done = await upsertNdjson(ns, body, app.initialConfig.bodyLimit ?? 1 << 20, (n) => void reply.header('x-silt-upserted', String(n)),
          () => catalog.get(req.params.ns));
        return reply.header('x-silt-upserted', String(done.upserted))
          .send({ status: 'ok', upserted: done.upserted, wal_seq: done.walSeq, chunks: done.chunks });
      } catch (e) {
        if (!(e instanceof PartialUpsertError)) throw e;
        const retryAfter = e.retryAfterSecs;
        if (retryAfter !== null) reply.header('retry-after', String(retryAfter));
        return reply.header('x-silt-upserted', String(e.upserted)).status(e.error.statusCode)
          .send({ error: { code: e.error.code, message: e.error.message }, upserted: e.upserted });
      }
    }
    if (!isRecord(body) || !Array.isArray(body.documents)) {
      throw Errors.invalidRequest('body', 'must be {"documents": [{"id", "vector", "attributes"}, ...]}');
    }
    for (const key of Object.keys(body)) {
      if (key !== 'documents') throw Errors.invalidRequest(key, 'unknown field; the body is {"documents": [...]}');
    }
    if (body.documents.length === 0) throw Errors.invalidRequest('documents', 'must contain at least one document');
    const docs = body.documents.map((d, i) => parseDocument(d, ns.schema, ns.name, `documents[${i}]`));
    const { seq, result } = await ns.write({ kind: 'upsert', docs });
    return { status: 'ok', upserted: result.count, wal_seq: seq };
  });

  // Fold the tail into a segment now (it also happens in the background).
  app.post<NsParams>('/v1/namespaces/:ns/flush', async (req) => {
    checkNamespaceName(req.params.ns);
    const ns = await catalog.get(req.params.ns);
    const flushed = await flushTail(ns).catch((e: unknown) => { throw storageFailure(e, ns.name); });
    return { namespace: ns.name, flushed, ...ns.stats() };
  });

  app.post<NsParams>('/v1/namespaces/:ns/delete', async (req) => {
    checkNamespaceName(req.params.ns);
    const ns = await catalog.get(req.params.ns);
    const body = req.body;
    if (!isRecord(body) || (body.ids === undefined) === (body.filter === undefined) || Object.keys(body).length !== 1) {
      throw Errors.invalidRequest('body', 'must be exactly one of {"ids": [...]} or {"filter": {...}}');
    }
    if (body.ids !== undefined) {
      if (!Array.isArray(body.ids) || body.ids.length === 0) throw Errors.invalidRequest('ids', 'must be a non-empty array of ids');
      const ids = body.ids.map((id, i) => parseDocId(id, `ids[${i}]`));
      const { seq, result } = await ns.write({ kind: 'delete', ids });
      return { status: 'ok', deleted: result.count, wal_seq: seq };
    }
    let filter;
    try {
      filter = compileFilter(body.filter, ns.schema);
    } catch (e) {
      if (e instanceof FilterError) throw Errors.invalidFilter(e.message);
      throw e;
    }
    const { seq, result } = await ns.write({ kind: 'delete_filter', filter });
    return { status: 'ok', deleted: result.count, wal_seq: seq };
  });
}
