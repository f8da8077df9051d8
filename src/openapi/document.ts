// GET /openapi.json: the OpenAPI 3.1 document of Silt's native API, assembled once at startup
// from the ApiOperations written beside each group of routes (indexer/openapi.ts,
// namespace/openapi.ts, compaction/openapi.ts, NODE_OPERATIONS here). Hand-written rather than
// generated from fastify route schemas: Silt validates requests itself, with messages that name
// the namespace and field (docs/errors.md), so there are no route schemas to generate it from.
// What keeps it true: error codes and statuses come from errors.ts and security from
// ROUTE_ACCESS, and test/api/openapi.test.ts fails when a registered route is missing here, or an
// example request does not succeed against a running server with an answer matching its schema.
import { readFileSync } from 'node:fs';
import { Errors } from '../errors.ts';
import { ROUTE_ACCESS } from '../auth.ts';
import { SCHEMAS } from './schemas.ts';
import { ref, type ApiOperation, type ApiParameter, type JsonSchema } from './types.ts';

export { type ApiOperation } from './types.ts';

/**
 * Routes the document leaves out: the turbopuffer-compatible API (docs/turbopuffer.md), which
 * turbopuffer's own documentation describes. Everything else that is registered must be in it.
 */
export const TURBOPUFFER_COMPATIBILITY = {
  /** Every route under these prefixes. */
  prefixes: ['/v2/'],
  /** Turbopuffer-only routes outside them, as 'METHOD /fastify/path'. */
  routes: [
    'POST /v1/namespaces/:ns/_debug/recall', 'GET /v1/namespaces/:ns/schema', 'POST /v1/namespaces/:ns/schema',
    'GET /v1/namespaces/:ns/hint_cache_warm',
  ] as string[],
};

/** Whether a registered route ('GET', '/v1/…') is turbopuffer's, not Silt's native API. */
export function isTurbopufferRoute(method: string, route: string): boolean {
  return TURBOPUFFER_COMPATIBILITY.prefixes.some((p) => route.startsWith(p)) || TURBOPUFFER_COMPATIBILITY.routes.includes(`${method} ${route}`);
}

/**
 * Statuses any request can get, whatever the route: a bad URL or HTTP request (400), a timeout
 * (408), an over-long path segment (414), over-large headers (431), a bug (500), storage or
 * shutdown (503).
 */
const ANY_REQUEST = [400, 408, 414, 431, 500, 503];

/** The node's own routes, in server.ts. */
export const NODE_OPERATIONS: ApiOperation[] = [
  { method: 'GET', route: '/health', operationId: 'health', tag: 'node', summary: 'Liveness: the process serves requests',
    responses: { 200: { description: 'alive ("stopping" while it shuts down)', schema: ref('Health') } }, errors: [] },
  { method: 'GET', route: '/ready', operationId: 'ready', tag: 'node',
    summary: 'Readiness: object storage answers a LIST and takes writes (503 SILT_ERR_STORAGE_UNAVAILABLE otherwise)',
    responses: { 200: { description: 'ready', schema: ref('Ready') } }, errors: [] },
  { method: 'GET', route: '/metrics', operationId: 'metrics', tag: 'node', summary: 'Prometheus metrics (prom-client)',
    description: 'Needs no key unless auth.metrics_public = false.',
    responses: { 200: { description: 'text exposition format', schema: ref('Metrics'), contentType: 'text/plain' } }, errors: [] },
  { method: 'GET', route: '/stats', operationId: 'stats', tag: 'node', summary: 'The node\'s counters as JSON',
    responses: { 200: { description: 'node statistics', schema: ref('NodeStats') } }, errors: [] },
  { method: 'GET', route: '/openapi.json', operationId: 'openapi', tag: 'node', summary: 'This document',
    responses: { 200: { description: 'OpenAPI 3.1', schema: ref('OpenApi') } }, errors: [] },
  // The console's static files (src/console/routes.ts): served without a key, they hold no data.
  { method: 'GET', route: '/console', operationId: 'console', tag: 'console', summary: 'The web console: redirects to /console/',
    responses: { 301: { description: 'to /console/, where the page\'s relative URLs resolve' } }, errors: [] },
  { method: 'GET', route: '/console/*', operationId: 'consoleFile', tag: 'console',
    summary: 'The console\'s page, scripts and styles (docs/console.md)',
    params: { file: { description: 'a file of the console, e.g. index.html or main.js', schema: { type: 'string' }, example: 'index.html' } },
    responses: { 200: { description: 'HTML, JavaScript or CSS, revalidated on every load (no-cache, ETag)', schema: { type: 'string' }, contentType: 'text/html' } }, errors: [404] },
];

/** Errors by status, from errors.ts: every SILT_ERR_* code is in the document. */
function errorsByStatus(): Map<number, string[]> {
  const byStatus = new Map<number, string[]>();
  for (const e of Object.values(Errors)) byStatus.set(e.statusCode, [...(byStatus.get(e.statusCode) ?? []), e.code]);
  return new Map([...byStatus].sort(([a], [b]) => a - b));
}

/** fastify's /v1/namespaces/:ns → OpenAPI's /v1/namespaces/{ns}; a trailing wildcard is {file}. */
export const openApiPath = (route: string): string => route.replace(/:(\w+)/g, '{$1}').replace(/\/\*$/, '/{file}');

function parameters(where: 'path' | 'query', params: Record<string, ApiParameter> | undefined) {
  return Object.entries(params ?? {}).map(([name, p]) => ({
    name, in: where, required: where === 'path', description: p.description, schema: p.schema, ...(p.example === undefined ? {} : { example: p.example }),
  }));
}

function operation(op: ApiOperation, statuses: Map<number, string[]>) {
  const access = ROUTE_ACCESS[`${op.method} ${op.route}`];
  if (access === undefined) throw new Error(`${op.method} ${op.route} is documented but not in ROUTE_ACCESS (src/auth.ts)`);
  const security = access === 'open' ? [] : access === 'metrics' ? [{}, { apiKey: [] }] : [{ apiKey: [] }];
  const errors = new Set([...ANY_REQUEST, ...op.errors, ...(access === 'open' || access === 'metrics' ? [] : [401]), ...(access === 'write' ? [403] : [])]);
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(op.responses)) {
    responses[status] = {
      description: r.description,
      headers: { 'x-silt-node': { $ref: '#/components/headers/NodeId' }, 'x-request-id': { $ref: '#/components/headers/RequestId' } },
      ...(r.schema ? { content: { [r.contentType ?? 'application/json']: { schema: r.schema } } } : {}),
    };
  }
  for (const status of [...errors].sort((a, b) => a - b)) {
    if (!statuses.has(status)) throw new Error(`${op.method} ${op.route}: no SILT_ERR_* code has status ${status}`);
    responses[String(status)] = { $ref: `#/components/responses/Error${status}` };
  }
  const body = op.body && {
    required: op.body.required,
    content: Object.fromEntries(Object.entries(op.body.content).map(([type, m]) => [type, {
      schema: m.schema,
      ...(m.examples ? { examples: m.examples } : {}),
      ...(m.lineSchema ? { 'x-silt-line-schema': m.lineSchema } : {}),
    }])),
  };
  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    ...(op.params || op.query ? { parameters: [...parameters('path', op.params), ...parameters('query', op.query)] } : {}),
    ...(body ? { requestBody: body } : {}),
    responses,
    security,
  };
}

/** package.json's version: one directory above src/ and above dist/ alike. */
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The document for these operations (all of the node's: server.ts passes them). */
export function openApiDocument(operations: readonly ApiOperation[]): Record<string, unknown> {
  const statuses = errorsByStatus();
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const path = (paths[openApiPath(op.route)] ??= {});
    const method = op.method.toLowerCase();
    if (path[method]) throw new Error(`${op.method} ${op.route} is documented twice`);
    path[method] = operation(op, statuses);
  }
  const errorSchemas: Record<string, JsonSchema> = {};
  const errorResponses: Record<string, unknown> = {};
  for (const [status, codes] of statuses) {
    errorSchemas[`Error${status}`] = {
      type: 'object',
      required: ['error'],
      properties: {
        error: { type: 'object', required: ['code', 'message'], properties: { code: { enum: codes }, message: { type: 'string' } } },
        upserted: { type: 'integer', description: 'NDJSON upsert: documents written before the error' },
      },
    };
    errorResponses[`Error${status}`] = {
      description: `${codes.join(', ')} (docs/errors.md says when, and what to do)`,
      content: { 'application/json': { schema: ref(`Error${status}`) } },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Silt',
      version: VERSION,
      description: 'Vector and full-text search on object storage: Silt\'s native API (docs/api.md). Errors are ' +
        '{"error": {"code": "SILT_ERR_…", "message": "…"}}; each code and its status is in docs/errors.md. With no API keys ' +
        'configured (auth.api_keys, auth.read_only_keys) no request needs one.',
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    tags: [
      { name: 'node', description: 'health, readiness, metrics and statistics of the node' },
      { name: 'namespaces', description: 'create, describe, delete; flush and compact' },
      { name: 'documents', description: 'upsert, delete, get and list documents' },
      { name: 'query', description: 'vector, full-text, hybrid and filtered search' },
    ],
    paths,
    components: {
      schemas: { ...SCHEMAS, ...errorSchemas },
      responses: errorResponses,
      headers: {
        NodeId: { description: 'the node that handled the request (the owner, when relayed)', schema: { type: 'string' } },
        RequestId: { description: 'the client\'s valid x-request-id, else a new UUID; also request_id in the logs', schema: { type: 'string' } },
      },
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'a key from auth.api_keys (read-write) or auth.read_only_keys (GET routes and query)' },
      },
    },
    security: [{ apiKey: [] }],
  };
}
