// The history API: list a namespace's restorable versions, restore one, copy one. All are namespace
// routes, so in a cluster they reach the owner (cluster/routing.ts forwards them like writes).
import type { FastifyInstance } from 'fastify';
import { Errors } from '../errors.ts';
import { checkNamespaceName } from '../schema/parse.ts';
import type { NamespaceCatalog } from './catalog.ts';
import { listVersions, restoreNamespace, type RestoreTarget } from './restore.ts';
import { copyNamespace } from './copy.ts';

type NsParams = { Params: { ns: string } };

/** The config default (compaction.history_retention_secs), for servers built without one. */
const DEFAULT_RETENTION_SECS = 604_800;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `{"version": n}` or `{"timestamp": "ISO-8601"}`, exactly one. */
export function parseRestoreTarget(body: unknown): RestoreTarget {
  if (!isRecord(body)) throw Errors.invalidRequest('body', 'expected {"version": n} or {"timestamp": "ISO-8601"}');
  const unknown = Object.keys(body).filter((k) => k !== 'version' && k !== 'timestamp');
  if (unknown.length > 0) throw Errors.invalidRequest(unknown[0]!, 'unknown field; expected "version" or "timestamp"');
  if ((body.version === undefined) === (body.timestamp === undefined)) {
    throw Errors.invalidRequest('body', 'give exactly one of "version" and "timestamp"');
  }
  if (body.version !== undefined) {
    if (!Number.isSafeInteger(body.version) || (body.version as number) < 1) throw Errors.invalidRequest('version', 'expected a positive integer');
    return { version: body.version as number };
  }
  const ts = body.timestamp;
  // Date.parse accepts much more than ISO-8601; a date and a time with a zone is what is asked for.
  if (typeof ts !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(ts) || Number.isNaN(Date.parse(ts))) {
    throw Errors.invalidRequest('timestamp', 'expected an ISO-8601 date and time with a zone, e.g. "2026-01-31T12:00:00Z"');
  }
  return { timestamp: Date.parse(ts) };
}

export function registerHistoryRoutes(app: FastifyInstance, deps: { catalog: NamespaceCatalog; historyRetentionSecs?: number }): void {
  const { catalog } = deps;
  const retentionMs = (deps.historyRetentionSecs ?? DEFAULT_RETENTION_SECS) * 1000;

  app.get<NsParams>('/v1/namespaces/:ns/versions', async (req) => {
    checkNamespaceName(req.params.ns);
    return { namespace: req.params.ns, versions: await listVersions(catalog, req.params.ns, retentionMs) };
  });

  app.post<NsParams>('/v1/namespaces/:ns/restore', async (req) => {
    checkNamespaceName(req.params.ns);
    const target = parseRestoreTarget(req.body);
    const result = await restoreNamespace(catalog, req.params.ns, target, { retentionMs });
    req.log.info({ namespace: result.namespace, version: result.version, restored_from: result.restored_from, dropped_writes: result.dropped_writes }, 'namespace restored');
    return result;
  });

  app.post<NsParams>('/v1/namespaces/:ns/copy', async (req, reply) => {
    checkNamespaceName(req.params.ns);
    const body = req.body;
    if (!isRecord(body) || typeof body.to !== 'string') throw Errors.invalidRequest('to', 'expected {"to": "name", "version"?: n}');
    const unknown = Object.keys(body).filter((k) => k !== 'to' && k !== 'version');
    if (unknown.length > 0) throw Errors.invalidRequest(unknown[0]!, 'unknown field; expected "to" and optionally "version"');
    if (body.version !== undefined && (!Number.isSafeInteger(body.version) || (body.version as number) < 1)) {
      throw Errors.invalidRequest('version', 'expected a positive integer');
    }
    const result = await copyNamespace(catalog, req.params.ns, body.to, body.version === undefined ? {} : { version: body.version as number });
    req.log.info({ namespace: result.namespace, source: result.source, source_version: result.source_version, created: result.created }, 'namespace copied');
    return reply.status(result.created ? 201 : 200).send(result);
  });
}
