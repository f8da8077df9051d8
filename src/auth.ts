// Who may call what. Clients present an API key as `Authorization: Bearer <key>`: a read-write
// key may do everything, a read-only key everything that changes nothing. A node relaying a
// request to the namespace's owner (src/cluster/routing.ts) marks it x-silt-forwarded-by and
// proves it is a node with x-silt-cluster-token; the client's own Authorization header travels
// with it, so the owner applies the client's access, not the relaying node's.
//
// Registered before every route and before cluster routing, so a request is authorized on the
// node it reaches first, and a relayed one again on the owner.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Errors } from './errors.ts';
import type { SiltConfig } from './config/index.ts';
import { CLUSTER_TOKEN, FORWARDED_BY } from './cluster/forward.ts';

/** open: no key; metrics: no key unless auth.metrics_public = false; read: any key; write: a read-write key. */
export type Access = 'open' | 'metrics' | 'read' | 'write';

/**
 * Every route, by method and fastify path. A route missing here stops the server from starting
 * (see the onRoute hook), so a new endpoint cannot be served unclassified.
 */
export const ROUTE_ACCESS: Readonly<Record<string, Access>> = {
  'GET /health': 'open',
  'GET /ready': 'open',
  'GET /metrics': 'metrics',
  // The console's static files: no data in them; the page sends the key on its API calls (src/console/).
  'GET /console': 'open',
  'GET /console/*': 'open',
  'GET /stats': 'read',
  'GET /openapi.json': 'read',
  'GET /v1/namespaces': 'read',
  'GET /v1/namespaces/:ns': 'read',
  'GET /v1/namespaces/:ns/documents': 'read',
  'GET /v1/namespaces/:ns/documents/:id': 'read',
  'POST /v1/namespaces/:ns/query': 'read',
  'PUT /v1/namespaces/:ns': 'write',
  'DELETE /v1/namespaces/:ns': 'write',
  'POST /v1/namespaces/:ns/upsert': 'write',
  'POST /v1/namespaces/:ns/delete': 'write',
  'POST /v1/namespaces/:ns/flush': 'write',
  'POST /v1/namespaces/:ns/compact': 'write',
  'GET /v1/namespaces/:ns/versions': 'read',
  'POST /v1/namespaces/:ns/restore': 'write',
  'POST /v1/namespaces/:ns/copy': 'write',
  'POST /v2/namespaces/:ns/query': 'read',
  'POST /v1/namespaces/:ns/_debug/recall': 'read',
  // The turbopuffer-compatible API (src/turbopuffer/).
  'POST /v2/namespaces/:ns': 'write',
  'DELETE /v2/namespaces/:ns': 'write',
  'GET /v2/namespaces/:ns/metadata': 'read',
  'GET /v1/namespaces/:ns/schema': 'read',
  'POST /v1/namespaces/:ns/schema': 'write',
  'GET /v1/namespaces/:ns/hint_cache_warm': 'read',
};

export interface AuthOptions {
  apiKeys: readonly string[];
  readOnlyKeys: readonly string[];
  /** '' = none (a cluster without keys). */
  clusterToken: string;
  metricsPublic: boolean;
}

/** No keys: every request is served (the embedded default on 127.0.0.1). */
export const NO_AUTH: AuthOptions = { apiKeys: [], readOnlyKeys: [], clusterToken: '', metricsPublic: true };

export function authOptions(auth: SiltConfig['auth']): AuthOptions {
  return { apiKeys: auth.api_keys, readOnlyKeys: auth.read_only_keys, clusterToken: auth.cluster_token, metricsPublic: auth.metrics_public };
}

// Compared as SHA-256 digests: equal length whatever the key's, so neither the comparison's time
// nor an early length mismatch tells a client how close its guess was.
const digest = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();

/** True when `presented` equals one of `digests`; every digest is compared, whichever matches. */
function matchesAny(presented: Buffer, digests: readonly Buffer[]): boolean {
  let found = false;
  for (const d of digests) found = timingSafeEqual(presented, d) || found;
  return found;
}

const accessKey = (method: string, url: string): string => `${method === 'HEAD' ? 'GET' : method} ${url}`;

const CHALLENGE = 'Bearer realm="silt"';

export function registerAuth(app: FastifyInstance, opts: AuthOptions): void {
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (!(accessKey(method, route.url) in ROUTE_ACCESS)) {
        throw new Error(`route ${method} ${route.url} is not in ROUTE_ACCESS (src/auth.ts): classify it as open, read or write`);
      }
    }
  });

  const writeKeys = opts.apiKeys.map(digest);
  const readKeys = opts.readOnlyKeys.map(digest);
  const clusterToken = opts.clusterToken === '' ? null : digest(opts.clusterToken);
  const keysRequired = writeKeys.length + readKeys.length > 0;

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const url = req.routeOptions.url;
    // An unknown path needs a key like any read, so the 404 tells nobody anonymous what exists.
    const access = url === undefined ? 'read' : (ROUTE_ACCESS[accessKey(req.method, url)] ?? 'read');
    if (access === 'open' || (access === 'metrics' && opts.metricsPublic)) return;

    const from = req.headers[FORWARDED_BY];
    if (from !== undefined && clusterToken !== null) {
      const token = req.headers[CLUSTER_TOKEN];
      if (typeof token !== 'string' || !matchesAny(digest(token), [clusterToken])) {
        req.log.warn({ forwarded_by: String(from).slice(0, 100) }, 'relayed request without a valid cluster token refused');
        reply.header('www-authenticate', `${CHALLENGE}, error="invalid_token"`);
        throw Errors.clusterTokenInvalid(String(from).slice(0, 100));
      }
    }
    if (!keysRequired) return;

    const header = req.headers.authorization;
    if (header === undefined || header === '') {
      reply.header('www-authenticate', CHALLENGE);
      throw Errors.authMissing();
    }
    const m = /^Bearer +(\S+) *$/i.exec(header);
    if (!m) {
      reply.header('www-authenticate', `${CHALLENGE}, error="invalid_request"`);
      throw Errors.authInvalid('the Authorization header is not of the form "Bearer <key>"');
    }
    const presented = digest(m[1]!);
    const canWrite = matchesAny(presented, writeKeys);
    const canRead = matchesAny(presented, readKeys);
    if (!canWrite && !canRead) {
      reply.header('www-authenticate', `${CHALLENGE}, error="invalid_token"`);
      throw Errors.authInvalid('the API key is not one of this node\'s keys');
    }
    if (access === 'write' && !canWrite) {
      reply.header('www-authenticate', `${CHALLENGE}, error="insufficient_scope"`);
      throw Errors.authForbidden(req.method, req.url.split('?', 1)[0]!);
    }
  });
}
