// API keys in a real cluster on 127.0.0.1 (a local S3 server, two indexers, a query node): writes
// and reads relayed between nodes work with a client's key, a read-only key stays read-only after
// a relay, a client cannot pass itself off as a relaying node, and nodes refuse to start where
// they would serve anyone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ownerIndex } from '../../src/cluster/seahash.ts';
import { freePort, startSilt, type SiltProcess } from '../support/silt-process.ts';
import { startS3Server } from '../support/s3-server.ts';

const INDEXERS = ['indexer-1', 'indexer-2'];
const WRITE_KEY = 'rw-7d1c0f2a9b8e4d6c5a3b';
const READ_KEY = 'ro-4e9a2b7c1d0f8e6a5c3d';
const TOKEN = 'ct-9c8b7a6f5e4d3c2b1a0f';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function call(base: string, method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = (res.headers.get('content-type') ?? '').includes('json');
  return { status: res.status, body: json ? JSON.parse(text) : text, headers: res.headers };
}
const rw = { authorization: `Bearer ${WRITE_KEY}` };
const ro = { authorization: `Bearer ${READ_KEY}` };

test('a cluster with API keys and a cluster token', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'silt-auth-cluster-'));
  const s3 = await startS3Server({ directory: join(dir, 's3') });
  const ports = await Promise.all(INDEXERS.map(() => freePort()));
  const common = {
    SILT_STORAGE_BACKEND: 's3',
    SILT_STORAGE_S3_BUCKET: s3.bucket,
    SILT_STORAGE_S3_ENDPOINT: s3.endpoint,
    SILT_STORAGE_S3_WAL_PREFIX: 'auth',
    SILT_STORAGE_S3_MAX_RETRIES: '2',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    SILT_DISTRIBUTED_ENABLED: 'true',
    SILT_DISTRIBUTED_INDEXER_CLUSTER_NODES: INDEXERS.join(','),
    SILT_DISTRIBUTED_INDEXER_CLUSTER_ADDRESSES: ports.map((p) => `http://127.0.0.1:${p}`).join(','),
    SILT_AUTH_API_KEYS: WRITE_KEY,
    SILT_AUTH_READ_ONLY_KEYS: READ_KEY,
    SILT_AUTH_CLUSTER_TOKEN: TOKEN,
  };
  const nodes: SiltProcess[] = [];
  t.after(async () => {
    await Promise.all(nodes.map((n) => n.kill()));
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  });
  nodes.push(...await Promise.all(INDEXERS.map((id, i) => startSilt({
    ...common, SILT_NODE_ID: id, SILT_NODE_ROLE: 'indexer', SILT_SERVER_PORT: String(ports[i]), SILT_CACHE_DISK_PATH: join(dir, `cache-${id}`),
  }))));
  const query = await startSilt({ ...common, SILT_NODE_ID: 'query-1', SILT_NODE_ROLE: 'query', SILT_CACHE_DISK_PATH: join(dir, 'cache-query') });
  nodes.push(query);

  const ns = 'tenant-a';
  const owner = nodes[ownerIndex(ns, INDEXERS.length)]!;
  const other = nodes[1 - ownerIndex(ns, INDEXERS.length)]!;

  await t.test('writes and reads relayed to the owner work with the client\'s key', async () => {
    const create = await call(other.url, 'PUT', `/v1/namespaces/${ns}`, rw, { vector_dim: 2, vector_metric: 'l2', attributes: { title: { type: 'string' } } });
    assert.equal(create.status, 201, JSON.stringify(create.body));
    assert.equal(create.headers.get('x-silt-node'), INDEXERS[ownerIndex(ns, INDEXERS.length)]);
    for (const via of [other, query]) {
      const up = await call(via.url, 'POST', `/v1/namespaces/${ns}/upsert`, rw, { documents: [{ id: via === query ? 2 : 1, vector: [1, 0], attributes: { title: 'x' } }] });
      assert.equal(up.status, 200, JSON.stringify(up.body));
      assert.ok(up.headers.get('x-silt-via'), 'relayed');
    }
    for (const key of [rw, ro]) {
      const q = await call(query.url, 'POST', `/v1/namespaces/${ns}/query`, key, { vector: [1, 0], top_k: 5 });
      assert.equal(q.status, 200, JSON.stringify(q.body));
      assert.deepEqual(q.body.results.map((r: { id: number }) => r.id).sort(), [1, 2]);
      assert.equal(q.body.served_from, undefined, 'the owner answered');
      assert.equal((await call(other.url, 'GET', `/v1/namespaces/${ns}/documents/2`, key)).status, 200);
    }
  });

  await t.test('a missing key is refused on the first node; a read-only key is refused writes wherever it lands', async () => {
    for (const via of [query, other, owner]) {
      const none = await call(via.url, 'POST', `/v1/namespaces/${ns}/query`, {}, { vector: [1, 0] });
      assert.equal(none.status, 401);
      assert.equal(none.body.error.code, 'SILT_ERR_AUTH_MISSING');
      assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="silt"');
      const write = await call(via.url, 'POST', `/v1/namespaces/${ns}/upsert`, ro, { documents: [{ id: 9, vector: [0, 1], attributes: { title: 'y' } }] });
      assert.equal(write.status, 403);
      assert.equal(write.body.error.code, 'SILT_ERR_AUTH_FORBIDDEN');
    }
    assert.equal((await call(owner.url, 'GET', `/v1/namespaces/${ns}/documents/9`, ro)).status, 404);
  });

  await t.test('a client that marks its request as relayed, without the token, is refused', async () => {
    const doc = { documents: [{ id: 7, vector: [0, 1], attributes: { title: 'forged' } }] };
    for (const token of [undefined, 'ct-wrong-0123456789abc']) {
      const headers = { ...rw, 'x-silt-forwarded-by': 'query-1', ...(token ? { 'x-silt-cluster-token': token } : {}) };
      for (const via of [owner, other]) {
        const res = await call(via.url, 'POST', `/v1/namespaces/${ns}/upsert`, headers, doc);
        assert.equal(res.status, 401, `${via.url}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'SILT_ERR_AUTH_CLUSTER_TOKEN');
      }
    }
    // Without a key, knowing the token is not enough either.
    const tokenOnly = await call(owner.url, 'POST', `/v1/namespaces/${ns}/upsert`, { 'x-silt-forwarded-by': 'query-1', 'x-silt-cluster-token': TOKEN }, doc);
    assert.equal(tokenOnly.status, 401);
    assert.equal((await call(owner.url, 'GET', `/v1/namespaces/${ns}/documents/7`, ro)).status, 404);
    for (const n of nodes) assert.ok(!n.logs.join('\n').includes(WRITE_KEY) && !n.logs.join('\n').includes(TOKEN), 'a secret was logged');
  });

  await t.test('probes stay open', async () => {
    for (const n of nodes) {
      for (const path of ['/health', '/ready', '/metrics']) assert.equal((await call(n.url, 'GET', path, {})).status, 200, path);
    }
  });
});

test('a node refuses to start where it would serve anyone, and says how to set a key', () => {
  const run = (env: Record<string, string>) => spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT, encoding: 'utf8', timeout: 30_000,
    // 192.0.2.1 (TEST-NET-1) is never a local address: were the check missing, binding would fail.
    env: { PATH: process.env.PATH ?? '', SILT_SERVER_PORT: '0', SILT_STORAGE_LOCAL_ROOT_PATH: join(tmpdir(), 'silt-unused'), ...env },
  });
  const exposed = run({ SILT_SERVER_HOST: '192.0.2.1' });
  assert.equal(exposed.status, 2, exposed.stderr);
  assert.match(exposed.stderr, /^silt: configuration error: config key auth\.api_keys: server\.host = "192\.0\.2\.1" accepts connections from other hosts, and no API key is set/);
  assert.match(exposed.stderr, /SILT_AUTH_API_KEYS/);
  const clusterWithoutToken = run({
    SILT_AUTH_API_KEYS: WRITE_KEY, SILT_DISTRIBUTED_ENABLED: 'true', SILT_NODE_ID: 'indexer-1', SILT_DISTRIBUTED_INDEXER_CLUSTER_NODES: 'indexer-1',
    SILT_STORAGE_BACKEND: 's3', SILT_STORAGE_S3_BUCKET: 'b',
  });
  assert.equal(clusterWithoutToken.status, 2, clusterWithoutToken.stderr);
  assert.match(clusterWithoutToken.stderr, /config key auth\.cluster_token: required when API keys are set/);
  assert.ok(!clusterWithoutToken.stderr.includes(WRITE_KEY));
});
