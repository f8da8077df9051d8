// API keys over HTTP: who gets 401, who gets 403, what stays open, and that keys never reach the log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { testApp, type TestApp } from '../support/app.ts';
import { NO_AUTH, ROUTE_ACCESS, type AuthOptions } from '../../src/auth.ts';
import { createLogger } from '../../src/logging.ts';

const WRITE_KEY = 'rw-key-0123456789abcdef';
const READ_KEY = 'ro-key-0123456789abcdef';
const TOKEN = 'cluster-token-0123456789abcdef';
const KEYS: AuthOptions = { apiKeys: [WRITE_KEY], readOnlyKeys: [READ_KEY], clusterToken: TOKEN, metricsPublic: true };
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

const SCHEMA = { vector_dim: 2, vector_metric: 'l2', attributes: { title: { type: 'string', filterable: true } } };

async function seeded(auth: AuthOptions = KEYS, log?: FastifyBaseLogger): Promise<TestApp> {
  const t = testApp({ auth, ...(log ? { log } : {}) });
  assert.equal((await t.call('PUT', '/v1/namespaces/docs', SCHEMA, bearer(WRITE_KEY))).status, 201);
  const up = await t.call('POST', '/v1/namespaces/docs/upsert',
    { documents: [{ id: 1, vector: [0, 0], attributes: { title: 'a' } }, { id: 2, vector: [1, 1], attributes: { title: 'b' } }] }, bearer(WRITE_KEY));
  assert.equal(up.status, 200);
  return t;
}

/** Every route, with a request that succeeds for a read-write key (in this order, on a seeded app). */
const READS: [string, string, unknown?][] = [
  ['GET', '/v1/namespaces'],
  ['GET', '/v1/namespaces/docs'],
  ['GET', '/v1/namespaces/docs/documents/1'],
  ['GET', '/v1/namespaces/docs/documents'],
  ['POST', '/v1/namespaces/docs/query', { vector: [0, 0], top_k: 1 }],
  ['GET', '/stats'],
  ['GET', '/openapi.json'],
  ['GET', '/v1/namespaces/docs/versions'],
  ['GET', '/v2/namespaces/docs/metadata'],
  ['GET', '/v1/namespaces/docs/schema'],
  ['GET', '/v1/namespaces/docs/hint_cache_warm'],
];
const WRITES: [string, string, unknown?][] = [
  ['POST', '/v1/namespaces/docs/upsert', { documents: [{ id: 3, vector: [2, 2], attributes: { title: 'c' } }] }],
  ['POST', '/v1/namespaces/docs/delete', { ids: [3] }],
  ['POST', '/v1/namespaces/docs/delete', { filter: { field: 'title', op: 'eq', value: 'zzz' } }],
  ['POST', '/v1/namespaces/docs/flush'],
  ['POST', '/v1/namespaces/docs/compact'],
  ['POST', '/v1/namespaces/docs/restore', { version: 1 }],
  ['POST', '/v1/namespaces/docs/copy', { to: 'docs-copy' }],
  ['PUT', '/v1/namespaces/other', SCHEMA],
  ['DELETE', '/v1/namespaces/other'],
  ['POST', '/v2/namespaces/docs', { upsert_rows: [{ id: 4, vector: [3, 3], title: 'd' }] }],
  ['POST', '/v1/namespaces/docs/schema', { title: { type: 'string', filterable: true } }],
  ['POST', '/v2/namespaces/other', { upsert_rows: [{ id: 1, vector: [1, 1] }] }],
  ['DELETE', '/v2/namespaces/other'],
];

/** The turbopuffer-compatible reads (docs/turbopuffer.md): its error shape, so tested apart below. */
const TPUF_READS: [string, string, unknown?][] = [
  ['POST', '/v2/namespaces/docs/query', { rank_by: ['id', 'asc'] }],
  ['POST', '/v1/namespaces/docs/_debug/recall', { num: 1, top_k: 1 }],
];
/** The error of a response, in Silt's envelope or (on turbopuffer's routes) turbopuffer's body. */
function errorOf(body: { error: { code: string; message: string } | string }): { code: string; message: string } {
  if (typeof body.error !== 'string') return body.error;
  return { code: /\((SILT_ERR_[A-Z_0-9]+)\)$/.exec(body.error)?.[1] ?? '', message: body.error };
}
const ok = (status: number) => status >= 200 && status < 300;

test('every route is listed in ROUTE_ACCESS, and these tests cover every read and write one', () => {
  const covered = new Set([...READS, ...WRITES, ...TPUF_READS].map(([m, url]) => `${m} ${url.replace('/docs/documents/1', '/:ns/documents/:id').replace(/\/(docs|other)(\/|$)/, '/:ns$2')}`));
  for (const [route, access] of Object.entries(ROUTE_ACCESS)) {
    if (access === 'read' || access === 'write') assert.ok(covered.has(route), `${route} is not exercised here`);
  }
  for (const [m, url] of WRITES) assert.equal(ROUTE_ACCESS[`${m} ${url.replace(/\/(docs|other)(\/|$)/, '/:ns$2')}`], 'write', `${m} ${url}`);
});

test('a route nobody classified cannot be registered', () => {
  const { app } = testApp();
  assert.throws(() => app.get('/v1/secret', async () => ({})), /GET \/v1\/secret is not in ROUTE_ACCESS/);
});

test('without a key, or with a wrong one, every non-open route answers 401 in Silt\'s envelope', async () => {
  const t = await seeded();
  for (const [method, url, body] of [...READS, ...WRITES, ['GET', '/v1/namespaces/docs/nope'] as [string, string]]) {
    const missing = await t.call(method, url, body);
    assert.equal(missing.status, 401, `${method} ${url}`);
    assert.equal(errorOf(missing.body).code, 'SILT_ERR_AUTH_MISSING');
    assert.match(errorOf(missing.body).message, /Authorization: Bearer <key>.*auth\.api_keys \/ SILT_AUTH_API_KEYS/);
    assert.equal(missing.headers['www-authenticate'], 'Bearer realm="silt"');
    assert.equal(missing.headers['x-silt-node'], 'test');

    for (const header of [`Bearer ${WRITE_KEY}x`, `Bearer ${WRITE_KEY.slice(0, -1)}`, 'Bearer short', `Basic ${WRITE_KEY}`, WRITE_KEY, 'Bearer ']) {
      const wrong = await t.call(method, url, body, { authorization: header });
      assert.equal(wrong.status, 401, `${method} ${url} with ${header}`);
      assert.equal(errorOf(wrong.body).code, 'SILT_ERR_AUTH_INVALID');
      assert.match(String(wrong.headers['www-authenticate']), /^Bearer realm="silt", error="invalid_(token|request)"$/);
      assert.ok(!JSON.stringify(wrong.body).includes(WRITE_KEY.slice(0, 10)), 'the message repeats the key');
    }
  }
  // Nothing was applied by the refused writes.
  assert.equal((await t.call('GET', '/v1/namespaces/docs/documents/3', undefined, bearer(READ_KEY))).status, 404);
  assert.equal((await t.call('GET', '/v1/namespaces/other', undefined, bearer(READ_KEY))).status, 404);
});

test('a read-only key reads everything and gets 403 on every write, with nothing applied', async () => {
  const t = await seeded();
  for (const [method, url, body] of READS) {
    const res = await t.call(method, url, body, bearer(READ_KEY));
    assert.ok(ok(res.status), `${method} ${url}: ${JSON.stringify(res.body)}`);
  }
  for (const [method, url, body] of WRITES) {
    const res = await t.call(method, url, body, bearer(READ_KEY));
    assert.equal(res.status, 403, `${method} ${url}`);
    const error = errorOf(res.body);
    assert.equal(error.code, 'SILT_ERR_AUTH_FORBIDDEN');
    assert.ok(error.message.includes(`${method} ${url}`) && error.message.includes('auth.api_keys'), error.message);
    assert.equal(res.headers['x-silt-node'], 'test');
  }
  assert.equal((await t.call('GET', '/v1/namespaces/docs/documents/3', undefined, bearer(READ_KEY))).status, 404, 'the upsert was applied');
  assert.equal((await t.call('GET', '/v1/namespaces/docs/documents/4', undefined, bearer(READ_KEY))).status, 404, 'the turbopuffer write was applied');
  assert.equal((await t.call('GET', '/v1/namespaces/other', undefined, bearer(READ_KEY))).status, 404, 'the namespace was created');
  assert.equal((await t.call('GET', '/v1/namespaces/docs/documents/1', undefined, bearer(READ_KEY))).status, 200);
});

test('turbopuffer reads: 401 in turbopuffer\'s error shape without a key, served for a read-only key', async () => {
  const t = await seeded();
  for (const [method, url, body] of TPUF_READS) {
    const missing = await t.call(method, url, body);
    assert.equal(missing.status, 401, `${method} ${url}`);
    assert.equal(missing.body.status, 'error');
    assert.match(missing.body.error, /SILT_ERR_AUTH_MISSING/);
    const res = await t.call(method, url, body, bearer(READ_KEY));
    assert.equal(res.status, 200, `${method} ${url}: ${JSON.stringify(res.body)}`);
  }
});

test('a read-write key does everything; the scheme is case-insensitive; either of two keys works (rotation)', async () => {
  const t = await seeded({ ...KEYS, apiKeys: ['old-key-0123456789abcdef', WRITE_KEY] });
  for (const [method, url, body] of [...READS, ...WRITES]) {
    const res = await t.call(method, url, body, bearer(WRITE_KEY));
    assert.ok(ok(res.status), `${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  assert.equal((await t.call('GET', '/v1/namespaces', undefined, { authorization: `bearer ${WRITE_KEY}` })).status, 200);
  assert.equal((await t.call('GET', '/v1/namespaces', undefined, bearer('old-key-0123456789abcdef'))).status, 200);
});

test('/health and /ready stay open; /metrics is open unless metrics_public is false', async () => {
  const open = await seeded();
  for (const url of ['/health', '/ready', '/metrics']) assert.equal((await open.call('GET', url)).status, 200, url);
  const closed = await seeded({ ...KEYS, metricsPublic: false });
  for (const url of ['/health', '/ready']) assert.equal((await closed.call('GET', url)).status, 200, url);
  assert.equal((await closed.call('GET', '/metrics')).status, 401);
  const metrics = await closed.call('GET', '/metrics', undefined, bearer(READ_KEY));
  assert.equal(metrics.status, 200);
  assert.match(String(metrics.body), /silt_http_responses_total\{status="401"\}/);
});

test('a request marked as relayed needs the cluster token, whatever key it carries', async () => {
  const t = await seeded();
  const forged = { ...bearer(WRITE_KEY), 'x-silt-forwarded-by': 'indexer-2' };
  for (const headers of [forged, { ...forged, 'x-silt-cluster-token': `${TOKEN}x` }, { ...forged, 'x-silt-cluster-token': '' }]) {
    const res = await t.call('POST', '/v1/namespaces/docs/upsert', { documents: [{ id: 9, vector: [0, 1], attributes: { title: 'x' } }] }, headers);
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'SILT_ERR_AUTH_CLUSTER_TOKEN');
    assert.match(res.body.error.message, /relayed by node 'indexer-2'.*auth\.cluster_token/);
  }
  assert.equal((await t.call('GET', '/v1/namespaces/docs/documents/9', undefined, bearer(READ_KEY))).status, 404);
  // A real relay carries the token and the client's own key, whose access still applies.
  const relayed = { 'x-silt-forwarded-by': 'indexer-2', 'x-silt-cluster-token': TOKEN };
  assert.equal((await t.call('GET', '/v1/namespaces/docs', undefined, relayed)).status, 401);
  assert.equal((await t.call('DELETE', '/v1/namespaces/docs', undefined, { ...relayed, ...bearer(READ_KEY) })).status, 403);
  assert.equal((await t.call('GET', '/v1/namespaces/docs', undefined, { ...relayed, ...bearer(READ_KEY) })).status, 200);
});

test('without keys nothing changes: every route is served anonymously', async () => {
  const t = testApp({ auth: NO_AUTH });
  assert.equal((await t.call('PUT', '/v1/namespaces/docs', SCHEMA)).status, 201);
  assert.equal((await t.call('GET', '/stats')).status, 200);
});

test('keys and the cluster token never reach the log, even at trace level', async () => {
  let output = '';
  const sink = new Writable({ write(chunk, _enc, done) { output += String(chunk); done(); } });
  const log = createLogger({ level: 'trace', format: 'json' }, 'test', sink);
  const t = await seeded(KEYS, log);
  await t.call('GET', '/v1/namespaces', undefined, bearer(READ_KEY));
  await t.call('DELETE', '/v1/namespaces/docs', undefined, bearer(READ_KEY));
  await t.call('GET', '/v1/namespaces', undefined, bearer(`${WRITE_KEY}-wrong`));
  await t.call('GET', '/v1/namespaces', undefined, { ...bearer(WRITE_KEY), 'x-silt-forwarded-by': 'n', 'x-silt-cluster-token': `${TOKEN}-wrong` });
  await t.call('GET', '/v1/namespaces', undefined, { ...bearer(WRITE_KEY), 'x-silt-forwarded-by': 'n', 'x-silt-cluster-token': TOKEN });
  // Whatever logs a request's headers or a configuration section gets them redacted.
  log.info({ req: { headers: { authorization: `Bearer ${WRITE_KEY}`, 'x-silt-cluster-token': TOKEN } } }, 'headers');
  log.info({ config: { api_keys: [WRITE_KEY], read_only_keys: [READ_KEY], cluster_token: TOKEN } }, 'auth section');
  assert.match(output, /"msg":"request completed"/);
  assert.match(output, /relayed request without a valid cluster token refused/);
  for (const secret of [WRITE_KEY, READ_KEY, TOKEN]) assert.ok(!output.includes(secret), `${secret} was logged:\n${output}`);
});
