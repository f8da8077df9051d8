// The distributed deployment of examples/distributed, for real, on 127.0.0.1: a local S3 server,
// three indexers, two query nodes and Debian's nginx running the example's nginx.conf with its
// host names swapped for loopback ports. It runs the guide's curl session through nginx, spreads
// namespaces over every indexer and checks every query against brute force; kills an indexer
// with SIGKILL and checks that its namespaces stay queryable (every acknowledged write included)
// while its writes get 503; restarts it; and counts the object-store requests of a query node's
// first query with a cold and with a warm disk cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ownerIndex } from '../../src/cluster/seahash.ts';
import { freePort, http, startSilt, type SiltProcess } from '../support/silt-process.ts';
import { startS3Server } from '../support/s3-server.ts';
import { rng } from '../support/rng.ts';

const NGINX = '/usr/sbin/nginx';
const INDEXERS = ['indexer-1', 'indexer-2', 'indexer-3'];
const DIM = 8;
const WORDS = ['river', 'stone', 'silt', 'delta', 'harbor', 'meadow', 'granite', 'willow', 'lantern', 'orbit'];

interface Doc { id: number; vector: number[]; attributes: { title: string; n: number } }

function cosineDistance(a: number[], b: number[]): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return 1 - dot / Math.sqrt(na * nb);
}

function bruteForce(docs: Map<number, Doc>, q: number[], k: number): number[] {
  return [...docs.values()]
    .map((d) => ({ id: d.id, dist: cosineDistance(d.vector, q) }))
    .sort((a, b) => a.dist - b.dist || a.id - b.id)
    .slice(0, k)
    .map((d) => d.id);
}

/** The example's nginx.conf with the compose host names replaced by loopback ports. */
async function loopbackNginxConf(dir: string, port: number, indexerPorts: number[], queryPorts: number[]): Promise<string> {
  let conf = await readFile(new URL('../../examples/distributed/nginx.conf', import.meta.url), 'utf8');
  for (let i = 0; i < INDEXERS.length; i++) {
    conf = conf.replace(`server ${INDEXERS[i]}:3000;`, `server 127.0.0.1:${indexerPorts[i]};`);
  }
  conf = conf.replace('server query-1:3000;', queryPorts.map((p) => `server 127.0.0.1:${p};`).join('\n        '));
  conf = conf.replace(/listen 80;/, `listen 127.0.0.1:${port};`);
  conf = conf.replace(/worker_processes [^;]+;/, 'worker_processes 1;');
  conf = conf.replace(/access_log [^;]+;/, 'access_log off;');
  assert.ok(!/server (indexer|query)-\d:/.test(conf), 'every upstream server was mapped to a loopback port');
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `    ${t}_temp_path ${join(dir, t)};`).join('\n');
  conf = conf.replace(/http \{/, `http {\n${temps}`);
  return `pid ${join(dir, 'nginx.pid')};\nerror_log ${join(dir, 'error.log')} warn;\n${conf}`;
}

async function startNginx(dir: string, conf: string, port: number): Promise<ChildProcess> {
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o777); // workers may run as an unprivileged user
  const path = join(dir, 'nginx.conf');
  await writeFile(path, conf);
  const check = spawnSync(NGINX, ['-t', '-p', dir, '-c', path], { encoding: 'utf8' });
  assert.equal(check.status, 0, `nginx -t failed:\n${check.stderr}`);
  const child = spawn(NGINX, ['-p', dir, '-c', path, '-g', 'daemon off;'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/health`);
      return child;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('nginx did not start');
}

async function requestTotal(node: SiltProcess): Promise<number> {
  const stats = (await http(node.url, 'GET', '/stats')).body;
  return Object.values(stats.object_store_requests as Record<string, number>).reduce((a, b) => a + b, 0);
}

test('a cluster behind nginx: routing, owner failure, recovery, warm cache', { timeout: 240_000 }, async (t) => {
  const nginxVersion = spawnSync(NGINX, ['-v'], { encoding: 'utf8' });
  assert.equal(nginxVersion.status, 0, `Debian's nginx is needed at ${NGINX}: apt-get install nginx`);

  const dir = await mkdtemp(join(tmpdir(), 'silt-cluster-'));
  const s3 = await startS3Server({ directory: join(dir, 's3') });
  const indexerPorts = await Promise.all(INDEXERS.map(() => freePort()));
  const queryPorts = [await freePort(), await freePort()];
  const nginxPort = await freePort();
  const common = {
    SILT_STORAGE_BACKEND: 's3',
    SILT_STORAGE_S3_BUCKET: s3.bucket,
    SILT_STORAGE_S3_ENDPOINT: s3.endpoint,
    SILT_STORAGE_S3_WAL_PREFIX: 'cluster',
    SILT_STORAGE_S3_MAX_RETRIES: '2',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    SILT_DISTRIBUTED_ENABLED: 'true',
    SILT_DISTRIBUTED_INDEXER_CLUSTER_NODES: INDEXERS.join(','),
    SILT_DISTRIBUTED_INDEXER_CLUSTER_ADDRESSES: indexerPorts.map((p) => `http://127.0.0.1:${p}`).join(','),
    SILT_DISTRIBUTED_FORWARD_TIMEOUT_MS: '1500',
  };
  const startIndexer = (i: number) => startSilt({
    ...common, SILT_NODE_ID: INDEXERS[i]!, SILT_NODE_ROLE: 'indexer', SILT_SERVER_PORT: String(indexerPorts[i]),
    SILT_CACHE_DISK_PATH: join(dir, `cache-${INDEXERS[i]}`),
    // Segments only where the test flushes, so reads cover segments and WAL tails alike.
    SILT_INDEXING_FLUSH_DOCS: '1000000', SILT_INDEXING_FLUSH_INTERVAL_SECS: '3600',
  });
  const startQuery = (i: number, cacheDir: string) => startSilt({
    ...common, SILT_NODE_ID: `query-${i + 1}`, SILT_NODE_ROLE: 'query', SILT_SERVER_PORT: String(queryPorts[i]),
    SILT_CACHE_DISK_PATH: cacheDir,
  });

  const nodes: SiltProcess[] = [];
  let nginx: ChildProcess | null = null;
  try {
    const indexers = await Promise.all(INDEXERS.map((_, i) => startIndexer(i)));
    nodes.push(...indexers);
    const queries = await Promise.all([0, 1].map((i) => startQuery(i, join(dir, `cache-query-${i + 1}`))));
    nodes.push(...queries);
    nginx = await startNginx(join(dir, 'nginx'), await loopbackNginxConf(join(dir, 'nginx'), nginxPort, indexerPorts, queryPorts), nginxPort);
    const lb = `http://127.0.0.1:${nginxPort}`;

    await t.test("the guide's curl session through nginx", async () => {
      for (const node of nodes) assert.equal((await http(node.url, 'GET', '/health')).body.status, 'ok');
      for (const node of nodes) assert.equal((await http(node.url, 'GET', '/ready')).status, 200);
      const create = await http(lb, 'PUT', '/v1/namespaces/my-docs', {
        vector_dim: 768, vector_metric: 'cosine', attributes: { title: { type: 'string', full_text: true } },
      });
      assert.equal(create.status, 201);
      const owner = INDEXERS[ownerIndex('my-docs', INDEXERS.length)];
      assert.equal(create.headers.get('x-silt-node'), owner, 'the owner created it, whichever indexer nginx picked');
      const wrongDim = await http(lb, 'POST', '/v1/namespaces/my-docs/upsert', {
        documents: [{ id: 1, vector: [0.1, 0.2, 0.3], attributes: { title: 'Hello World' } }],
      });
      assert.equal(wrongDim.status, 400);
      assert.match(wrongDim.body.error.message, /vector has 3 dimensions; namespace 'my-docs' expects 768/);

      await http(lb, 'PUT', '/v1/namespaces/my-docs-3d', {
        vector_dim: 3, vector_metric: 'cosine', attributes: { title: { type: 'string', full_text: true } },
      });
      const up = await http(lb, 'POST', '/v1/namespaces/my-docs-3d/upsert', {
        documents: [
          { id: 1, vector: [0.1, 0.2, 0.3], attributes: { title: 'Hello World' } },
          { id: 2, vector: [0.3, 0.2, 0.1], attributes: { title: 'Goodbye moon' } },
        ],
      });
      assert.equal(up.status, 200);
      const owner3d = INDEXERS[ownerIndex('my-docs-3d', INDEXERS.length)];
      assert.equal(up.headers.get('x-silt-node'), owner3d);
      const q = await http(lb, 'POST', '/v1/namespaces/my-docs-3d/query', { vector: [0.1, 0.2, 0.3], top_k: 10 });
      assert.equal(q.status, 200);
      assert.deepEqual(q.body.results.map((r: { id: number }) => r.id), [1, 2]);
      assert.equal(q.headers.get('x-silt-node'), owner3d, 'the query node forwarded the query to the owner');
      assert.equal(q.body.served_from, undefined);
      assert.match(q.headers.get('x-silt-via') ?? '', /^query-[12]$/);
      // A write sent straight to a query node is relayed to the owner too.
      const viaQuery = await http(queries[0]!.url, 'POST', '/v1/namespaces/my-docs-3d/upsert', {
        documents: [{ id: 3, vector: [0.2, 0.2, 0.2], attributes: { title: 'Hello again' } }],
      });
      assert.equal(viaQuery.status, 200);
      assert.equal(viaQuery.headers.get('x-silt-node'), owner3d);
      assert.equal(viaQuery.headers.get('x-silt-via'), 'query-1');
      // A relayed request that reaches a node which does not own the namespace is refused, not
      // bounced around: the nodes' lists must differ.
      const notOwner = indexers.find((_, i) => INDEXERS[i] !== owner3d)!;
      const res = await fetch(`${notOwner.url}/v1/namespaces/my-docs-3d/query`, {
        method: 'POST', headers: { 'x-silt-forwarded-by': 'query-9' }, body: JSON.stringify({ vector: [1, 0, 0] }),
      });
      assert.equal(res.status, 421);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'SILT_ERR_ROUTING_MISMATCH');
      const listed = await http(lb, 'GET', '/v1/namespaces');
      assert.ok(listed.body.namespaces.some((n: { id: string }) => n.id === 'my-docs-3d'));
    });

    // Many namespaces, spread over every indexer; every acknowledged document is remembered.
    const random = rng(4242);
    const vec = () => Array.from({ length: DIM }, () => random() * 2 - 1);
    const names = Array.from({ length: 18 }, (_, i) => `tenant-${String(i).padStart(2, '0')}`);
    const acked = new Map<string, Map<number, Doc>>(names.map((n) => [n, new Map()]));
    const upsert = async (ns: string, docs: Doc[]) => {
      const res = await http(lb, 'POST', `/v1/namespaces/${ns}/upsert`, { documents: docs });
      if (res.status === 200) for (const d of docs) acked.get(ns)!.set(d.id, d);
      return res;
    };
    const batch = (start: number, n: number): Doc[] => Array.from({ length: n }, (_, j) => ({
      id: start + j,
      vector: vec(),
      attributes: { title: `${WORDS[(start + j) % WORDS.length]} ${WORDS[(start + 3 * j) % WORDS.length]}`, n: start + j },
    }));
    const checkQueries = async (base: string, ns: string) => {
      const docs = acked.get(ns)!;
      for (let k = 0; k < 3; k++) {
        const q = vec();
        const res = await http(base, 'POST', `/v1/namespaces/${ns}/query`, { vector: q, top_k: 5, include_attributes: false });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepEqual(res.body.results.map((r: { id: number }) => r.id), bruteForce(docs, q, 5), `${ns} via ${base}`);
      }
      const all = await http(base, 'POST', `/v1/namespaces/${ns}/query`, { vector: vec(), top_k: 1000, include_attributes: false });
      assert.deepEqual(all.body.results.map((r: { id: number }) => r.id).sort((a: number, b: number) => a - b),
        [...docs.keys()].sort((a, b) => a - b), `${ns}: every acknowledged document is found`);
      const text = await http(base, 'POST', `/v1/namespaces/${ns}/query`, { full_text: { field: 'title', query: 'granite' }, top_k: 1000 });
      const expected = [...docs.values()].filter((d) => d.attributes.title.split(' ').includes('granite')).map((d) => d.id).sort((a, b) => a - b);
      assert.deepEqual(text.body.results.map((r: { id: number }) => r.id).sort((a: number, b: number) => a - b), expected, `${ns} full text`);
      return all;
    };

    await t.test('namespaces spread over all indexers; every query checked', async () => {
      const owners = new Set(names.map((n) => ownerIndex(n, INDEXERS.length)));
      assert.equal(owners.size, 3, 'the test namespaces cover every indexer');
      for (const ns of names) {
        const created = await http(lb, 'PUT', `/v1/namespaces/${ns}`, {
          vector_dim: DIM, vector_metric: 'cosine',
          attributes: { title: { type: 'string', full_text: true }, n: { type: 'integer' } },
        });
        assert.equal(created.status, 201);
      }
      await Promise.all(names.map(async (ns) => {
        assert.equal((await upsert(ns, batch(0, 40))).status, 200);
        // Half the namespaces get a segment, then a tail on top of it.
        if (names.indexOf(ns) % 2 === 0) {
          const flushed = await http(lb, 'POST', `/v1/namespaces/${ns}/flush`);
          assert.equal(flushed.status, 200);
          assert.equal(flushed.body.segments.length, 1);
        }
        assert.equal((await upsert(ns, batch(30, 30))).status, 200); // 10 re-upserts, 20 new
      }));
      for (const ns of names) {
        const all = await checkQueries(lb, ns);
        assert.equal(all.headers.get('x-silt-node'), INDEXERS[ownerIndex(ns, INDEXERS.length)]);
      }
    });

    const victim = 1;
    const victimNames = names.filter((n) => ownerIndex(n, INDEXERS.length) === victim);
    const otherNames = names.filter((n) => ownerIndex(n, INDEXERS.length) !== victim);

    await t.test('an indexer killed with SIGKILL: its namespaces stay queryable, its writes get 503', async () => {
      // Acknowledged just before the crash, never flushed.
      for (const ns of victimNames) assert.equal((await upsert(ns, batch(100, 5))).status, 200);
      await indexers[victim]!.kill();

      for (const ns of victimNames) {
        const all = await checkQueries(lb, ns);
        assert.equal(all.body.served_from, 'object_storage');
        assert.equal(all.body.owner, INDEXERS[victim]);
        assert.match(all.headers.get('x-silt-node') ?? '', /^query-[12]$/);
        for (const q of queries) await checkQueries(q.url, ns);
        const doc = await http(queries[0]!.url, 'GET', `/v1/namespaces/${ns}/documents/102`);
        assert.equal(doc.status, 200);
        assert.deepEqual(doc.body.attributes, acked.get(ns)!.get(102)!.attributes);

        for (let attempt = 0; attempt < 3; attempt++) {
          const write = await upsert(ns, batch(200, 1));
          assert.equal(write.status, 503, JSON.stringify(write.body));
          assert.equal(write.body.error.code, 'SILT_ERR_OWNER_UNAVAILABLE');
          assert.match(write.body.error.message, new RegExp(`indexer ${INDEXERS[victim]} `));
        }
      }
      for (const ns of otherNames.slice(0, 4)) {
        assert.equal((await upsert(ns, batch(300, 3))).status, 200);
        await checkQueries(lb, ns);
      }
    });

    await t.test('the restarted indexer catches up and takes writes again', async () => {
      indexers[victim] = await startIndexer(victim);
      nodes.push(indexers[victim]!);
      for (const ns of victimNames) {
        const write = await upsert(ns, batch(400, 4));
        assert.equal(write.status, 200, JSON.stringify(write.body));
        assert.equal(write.headers.get('x-silt-node'), INDEXERS[victim]);
        const all = await checkQueries(lb, ns);
        assert.equal(all.body.served_from, undefined, 'answered by the owner again');
        assert.equal(all.headers.get('x-silt-node'), INDEXERS[victim]);
      }
    });

    await t.test('a query node with a warm disk cache needs fewer object-store requests for its first query', async () => {
      const ns = names.find((n) => names.indexOf(n) % 2 === 0)!; // has a segment
      const q = { vector: vec(), top_k: 5, consistency: 'eventual' };
      const firstQuery = async (cacheDir: string) => {
        assert.equal(await queries[1]!.stop(), 0);
        queries[1] = await startQuery(1, cacheDir);
        nodes.push(queries[1]!);
        const before = await requestTotal(queries[1]!);
        const res = await http(queries[1]!.url, 'POST', `/v1/namespaces/${ns}/query`, q);
        assert.equal(res.status, 200);
        assert.equal(res.body.served_from, 'cache');
        const stats = (await http(queries[1]!.url, 'GET', '/stats')).body;
        return { requests: (await requestTotal(queries[1]!)) - before, ids: res.body.results.map((r: { id: number }) => r.id), disk: stats.cache.disk };
      };
      const coldDir = join(dir, 'cache-query-2-fresh');
      const cold = await firstQuery(coldDir);
      const warm = await firstQuery(coldDir);
      assert.deepEqual(warm.ids, cold.ids);
      assert.deepEqual(cold.ids, bruteForce(acked.get(ns)!, q.vector, 5));
      assert.ok(cold.disk.misses > 0 && cold.disk.hits === 0, JSON.stringify(cold.disk));
      assert.ok(warm.disk.hits > 0 && warm.disk.misses === 0, JSON.stringify(warm.disk));
      assert.ok(warm.requests < cold.requests, `warm ${warm.requests} < cold ${cold.requests} object-store requests`);
      const metrics = await (await fetch(`${queries[1]!.url}/metrics`)).text();
      assert.match(metrics, /silt_cache_hits_total\{tier="disk"\} [1-9]/);
    });

    await t.test('graceful shutdown: every node exits 0 on SIGTERM', async () => {
      for (const node of [...queries, ...indexers]) assert.equal(await node.stop(), 0);
    });
  } finally {
    if (nginx && nginx.exitCode === null) {
      // SIGTERM: the master stops its workers before exiting (SIGKILL would orphan them).
      const exited = new Promise((resolve) => nginx!.once('exit', resolve));
      nginx.kill('SIGTERM');
      await exited;
    }
    for (const node of nodes) node.child.kill('SIGKILL');
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
