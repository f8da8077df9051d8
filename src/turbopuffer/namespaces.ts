// turbopuffer's write and namespace endpoints (docs/turbopuffer.md, "Writes and namespaces").
// Reads (metadata, schema) go through serveRead like Silt's own, so a query node answers them
// from a view when the owner is down (cluster/routing.ts readOf).
import type { FastifyInstance } from 'fastify';
import type { NamespaceCatalog } from '../indexer/catalog.ts';
import { serveRead } from '../namespace/routes.ts';
import type { QueryLimits } from '../query/request.ts';
import { checkNamespaceName } from '../schema/parse.ts';
import { turbopufferSchemaJson } from '../schema/turbopuffer.ts';
import { emptyWanted, extendSchema, parseDeclaredSchema } from './schema.ts';
import { changeSchema, turbopufferWrite } from './write.ts';

type NsParams = { Params: { ns: string } };

export interface TurbopufferWriteDeps {
  catalog: NamespaceCatalog;
  queryLimits: QueryLimits;
}

export function registerTurbopufferWriteRoutes(app: FastifyInstance, deps: TurbopufferWriteDeps): void {
  const { catalog } = deps;
  const owned = async (name: string) => {
    checkNamespaceName(name);
    return catalog.get(name);
  };

  app.post<NsParams>('/v2/namespaces/:ns', async (req) =>
    turbopufferWrite(catalog, req.params.ns, req.body, Number(req.headers['content-length'] ?? 0) || 0));

  app.delete<NsParams>('/v2/namespaces/:ns', async (req) => {
    checkNamespaceName(req.params.ns);
    await catalog.delete(req.params.ns);
    return { status: 'OK' };
  });

  app.get<NsParams>('/v2/namespaces/:ns/metadata', async (req) =>
    serveRead(await owned(req.params.ns), { kind: 'metadata' }, deps.queryLimits, performance.now()));

  app.get<NsParams>('/v1/namespaces/:ns/schema', async (req) =>
    serveRead(await owned(req.params.ns), { kind: 'schema' }, deps.queryLimits, performance.now()));

  // The body is the schema itself (what the client's updateSchema sends): attributes to add,
  // and `filterable` to change; anything else that differs is a 409 (schema.ts extendSchema).
  app.post<NsParams>('/v1/namespaces/:ns/schema', async (req) => {
    const ns = await owned(req.params.ns);
    const wanted = parseDeclaredSchema(req.body ?? {}, 'schema', emptyWanted());
    const schema = await changeSchema(catalog, ns, (current) => extendSchema(ns.name, current, wanted));
    return turbopufferSchemaJson(schema);
  });

  // Opening the namespace reads its manifest, its segments and its WAL tail into this node's
  // caches; an open namespace costs nothing more.
  app.get<NsParams>('/v1/namespaces/:ns/hint_cache_warm', async (req, reply) => {
    await owned(req.params.ns);
    return reply.status(202).send({ status: 'ACCEPTED' });
  });
}
