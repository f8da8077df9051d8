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
import { copySourceOf, type CopyField } from './write-body.ts';
import { METADATA_READ, SCHEMA_READ } from './read-routes.ts';
import { refused } from './schema.ts';
import { copyNamespace } from '../indexer/copy.ts';

type NsParams = { Params: { ns: string } };

export interface TurbopufferWriteDeps {
  catalog: NamespaceCatalog;
  queryLimits: QueryLimits;
  /** In a cluster: who owns which namespace (a copy runs on its source's owner). */
  cluster?: { topology: { owns(ns: string): boolean; ownerOf(ns: string): { id: string } } };
}

export function registerTurbopufferWriteRoutes(app: FastifyInstance, deps: TurbopufferWriteDeps): void {
  const { catalog } = deps;
  const owned = async (name: string) => {
    checkNamespaceName(name);
    return catalog.get(name);
  };

  app.post<NsParams>('/v2/namespaces/:ns', async (req, reply) => {
    const copy = copySourceOf(req.body);
    if (copy) return reply.send(await copyInto(deps, req.params.ns, copy.field, copy.source));
    return turbopufferWrite(catalog, req.params.ns, req.body, Number(req.headers['content-length'] ?? 0) || 0);
  });

  app.delete<NsParams>('/v2/namespaces/:ns', async (req) => {
    checkNamespaceName(req.params.ns);
    await catalog.delete(req.params.ns);
    return { status: 'OK' };
  });

  app.get<NsParams>('/v2/namespaces/:ns/metadata', async (req) =>
    serveRead(await owned(req.params.ns), METADATA_READ, deps.queryLimits, performance.now()));

  app.get<NsParams>('/v1/namespaces/:ns/schema', async (req) =>
    serveRead(await owned(req.params.ns), SCHEMA_READ, deps.queryLimits, performance.now()));

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

/**
 * copy_from_namespace / branch_from_namespace: `target` becomes a copy-on-write copy of `source`'s
 * current state, every write acknowledged before the request included (src/indexer/copy.ts).
 * The request reached `target`'s owner; the copy must run where `source` is owned, so in a
 * cluster where another indexer owns the source the client is told how to ask that one.
 */
async function copyInto(deps: TurbopufferWriteDeps, target: string, field: CopyField, source: string) {
  const started = performance.now();
  checkNamespaceName(target);
  checkNamespaceName(source);
  const topology = deps.cluster?.topology;
  if (topology && !topology.owns(source)) {
    throw refused(field, `'${source}' is owned by ${topology.ownerOf(source).id}, not by the owner of '${target}'; ` +
      `copy there with POST /v1/namespaces/${source}/copy {"to": "${target}"}`);
  }
  const result = await copyNamespace(deps.catalog, source, target);
  return {
    status: 'OK',
    message: `${field === 'branch_from_namespace' ? 'branched' : 'copied'} ${result.documents} documents from '${source}'`,
    rows_affected: result.documents,
    billing: { billable_logical_bytes_written: 0 },
    performance: { server_total_ms: Math.round((performance.now() - started) * 1000) / 1000 },
  };
}
