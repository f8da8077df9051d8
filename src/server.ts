// The HTTP server: fastify with Silt's error mapping, body limits, health, and the routes of
// the roles this node plays.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyError } from 'fastify';
import { Errors, SiltError } from './errors.ts';
import type { ObjectStore } from './storage/object-store.ts';
import { isStorageError } from './storage/errors.ts';
import type { NamespaceCatalog } from './indexer/catalog.ts';
import { registerWriteRoutes } from './indexer/routes.ts';
import { registerReadRoutes } from './query/routes.ts';
import { registerCompactionRoutes } from './compaction/routes.ts';
import type { QueryLimits } from './query/request.ts';

export interface ServerDeps {
  catalog: NamespaceCatalog;
  store: ObjectStore;
  log: FastifyBaseLogger;
  bodyLimit: number;
  queryLimits: QueryLimits;
  nodeId: string;
  compaction: { max_segments: number; max_total_docs: number };
}

export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.log,
    bodyLimit: deps.bodyLimit,
    disableRequestLogging: false,
    return503OnClosing: true,
  });
  let closing = false;
  app.addHook('onClose', async () => {
    closing = true;
  });

  // Any content type is read as JSON, so `curl -d` without a header works too.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
    if (text.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      done(Errors.invalidJson((e as Error).message), undefined);
    }
  });

  app.addHook('onSend', async (_req, reply) => {
    reply.header('x-silt-node', deps.nodeId);
  });

  app.setErrorHandler((error: FastifyError | SiltError | Error, request, reply) => {
    const silt = toSiltError(error);
    if (silt.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    void reply.status(silt.statusCode).send({ error: { code: silt.code, message: silt.message } });
  });
  app.setNotFoundHandler((request, reply) => {
    const e = Errors.routeNotFound(request.method, request.url);
    void reply.status(404).send({ error: { code: e.code, message: e.message } });
  });

  app.get('/health', async () => ({ status: closing ? 'stopping' : 'ok', node: deps.nodeId }));
  // Ready when object storage answers: a node that cannot reach it can acknowledge nothing.
  app.get('/ready', async (_req, reply) => {
    try {
      await deps.store.list('.catalog/', { maxKeys: 1 });
      return { status: 'ready', node: deps.nodeId };
    } catch (e) {
      const err = Errors.storageUnavailable('list', (e as Error).message);
      return reply.status(503).send({ error: { code: err.code, message: err.message } });
    }
  });

  registerWriteRoutes(app, deps);
  registerReadRoutes(app, deps);
  registerCompactionRoutes(app, deps);
  return app;
}

function toSiltError(error: unknown): SiltError {
  if (error instanceof SiltError) return error;
  const e = error as FastifyError;
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return Errors.bodyTooLarge(Number(/\d+/.exec(e.message)?.[0] ?? 0));
  if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e instanceof SyntaxError) return Errors.invalidJson(e.message);
  if (isStorageError(error)) return Errors.storageUnavailable(error.operation ?? 'request', error.message);
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new SiltError('SILT_ERR_REQUEST_INVALID', e.statusCode, e.message);
  }
  return Errors.internal(e.message ?? String(error));
}
