// cluster: what routing and views cost, on a real cluster on 127.0.0.1 — the S3 test server as
// its own process, 3 indexers and 1 query node (src/main.ts processes, as
// test/integration/cluster.test.ts starts them). 20k GloVe-100 documents over 2 namespaces owned
// by different indexers, each upserted through the query node in batches of 1,000, flushed into
// one segment, with a 500-document tail in 2 WAL objects on top. Then:
//   1. owners up: the same queries sent directly to the owner, to the query node (forwarded), and
//      to the query node with consistency "eventual" (its own view), taking turns in blocks;
//   2. the owner of one namespace killed with SIGKILL: strong queries the query node serves from
//      object storage (a view refresh per query), beside eventual ones and forwarded ones to the
//      other namespace, with object-store requests per query from GET /stats deltas;
//   3. the first (eventual) query of a restarted query node, with an empty and with a warm disk
//      cache: wall time and object-store requests.
// Every answer is checked against brute force (recall@10) and against the owner's own answer.
//
//   npm run bench -- cluster          (or: npx tsx bench/cluster.ts)

import { rmSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ownerIndex } from '../src/cluster/seahash.ts';
import { startSilt, type SiltProcess } from '../test/support/silt-process.ts';
import { gloveAvailable, GLOVE_DIR, loadGlove, queryVectors, rowArray, type Glove } from './lib/data.ts';
import { fmt, printTable, writeResult } from './lib/report.ts';
import { S3_CREDENTIALS, startS3Process, type S3Process } from './lib/s3.ts';
import { tempDir } from './lib/silt.ts';
import { median, medianOf, summarize, type Latency } from './lib/stats.ts';

const INDEXERS = ['indexer-1', 'indexer-2', 'indexer-3'];
const DOCS_PER_NS = 10_000;
/** Per namespace: the first 9,500 flushed into a segment, the last 500 left in 2 WAL objects. */
const SEGMENT_DOCS = 9_500;
const TAIL_BATCH = 250;
const QUERIES = 300;
const TOP_K = 10;
const PASSES = 3;
const BLOCK = 50;
const RESTARTS = 3;

// ---- processes ----

interface Cluster {
  dir: string;
  s3: S3Process;
  indexers: Array<SiltProcess | null>;
  query: SiltProcess | null;
  env: Record<string, string>;
}

let live: Cluster | null = null;

/** On a signal: kill what this benchmark started (by pid) and remove its directory, then exit. */
function killAll(): void {
  if (!live) return;
  for (const p of [...live.indexers, live.query]) if (p && p.child.exitCode === null) p.child.kill('SIGKILL');
  try {
    process.kill(live.s3.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  rmSync(live.dir, { recursive: true, force: true });
  live = null;
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { killAll(); process.exit(130); });

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function startCluster(dir: string): Promise<Cluster> {
  const s3 = await startS3Process(join(dir, 's3'));
  const c: Cluster = { dir, s3, indexers: INDEXERS.map(() => null), query: null, env: {} };
  live = c;
  const ports = await Promise.all(INDEXERS.map(() => freePort()));
  const env = {
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    SILT_STORAGE_BACKEND: 's3',
    SILT_STORAGE_S3_BUCKET: s3.bucket,
    SILT_STORAGE_S3_ENDPOINT: s3.endpoint,
    SILT_STORAGE_S3_WAL_PREFIX: 'bench',
    AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
    SILT_DISTRIBUTED_ENABLED: 'true',
    SILT_DISTRIBUTED_INDEXER_CLUSTER_NODES: INDEXERS.join(','),
    SILT_DISTRIBUTED_INDEXER_CLUSTER_ADDRESSES: ports.map((p) => `http://127.0.0.1:${p}`).join(','),
    SILT_INDEXING_HNSW_M: '16',
    SILT_INDEXING_HNSW_EF_CONSTRUCTION: '200',
    // Segments only where the benchmark flushes.
    SILT_INDEXING_FLUSH_DOCS: '100000000',
    SILT_INDEXING_FLUSH_INTERVAL_SECS: '86400',
  };
  c.env = env;
  await Promise.all(INDEXERS.map(async (id, i) => {
    c.indexers[i] = await startSilt({
      ...env, SILT_NODE_ID: id, SILT_NODE_ROLE: 'indexer', SILT_SERVER_PORT: String(ports[i]),
      SILT_CACHE_DISK_PATH: join(dir, `cache-${id}`),
    });
  }));
  c.query = await startQueryNode(c, join(dir, 'cache-query'));
  return c;
}

function startQueryNode(c: Cluster, cacheDir: string): Promise<SiltProcess> {
  return startSilt({ ...c.env, SILT_NODE_ID: 'query-1', SILT_NODE_ROLE: 'query', SILT_CACHE_DISK_PATH: cacheDir });
}

async function stopCluster(c: Cluster): Promise<void> {
  for (const p of [...c.indexers, c.query]) if (p && p.child.exitCode === null) await p.kill();
  await c.s3.stop();
  await rm(c.dir, { recursive: true, force: true });
  live = null;
}

// ---- HTTP ----

interface Reply {
  status: number;
  body: any;
  node: string | null;
}

async function request(base: string, method: string, path: string, body?: string): Promise<Reply> {
  const res = await fetch(base + path, {
    method, body, headers: body === undefined ? {} : { 'content-type': 'application/json' },
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, node: res.headers.get('x-silt-node') };
}

async function ok(base: string, method: string, path: string, body?: unknown): Promise<any> {
  const r = await request(base, method, path, body === undefined ? undefined : JSON.stringify(body));
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  return r.body;
}

type Counts = Record<string, number>;

async function storeRequests(node: SiltProcess): Promise<{ ops: Counts; disk: { hits: number; misses: number } }> {
  const s = await ok(node.url, 'GET', '/stats');
  return { ops: s.object_store_requests, disk: { hits: s.cache.disk.hits, misses: s.cache.disk.misses } };
}

function diff(after: Counts, before: Counts): Counts {
  return Object.fromEntries(Object.keys(after).map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)]));
}

const total = (c: Counts) => Object.values(c).reduce((a, b) => a + b, 0);
const byOp = (c: Counts, per = 1) =>
  Object.entries(c).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${fmt(v / per, per === 1 ? 0 : 2)}`).join(', ') || 'none';

// ---- data and correctness ----

interface Ns {
  name: string;
  owner: number;
  /** Base rows [from, from + DOCS_PER_NS), ids = row numbers. */
  from: number;
}

/** Two namespace names owned by different indexers (the owner is seahash(name) % 3). */
function pickNamespaces(): [Ns, Ns] {
  const a = { name: 'glove-a', owner: ownerIndex('glove-a', INDEXERS.length), from: 0 };
  for (let i = 0; ; i++) {
    const name = `glove-b${i === 0 ? '' : i}`;
    const owner = ownerIndex(name, INDEXERS.length);
    if (owner !== a.owner) return [a, { name, owner, from: DOCS_PER_NS }];
  }
}

async function populate(c: Cluster, ns: Ns, glove: Glove): Promise<void> {
  const qn = c.query!.url;
  await ok(qn, 'PUT', `/v1/namespaces/${ns.name}`, { vector_dim: glove.base.dim, vector_metric: 'cosine' });
  const docs = (from: number, to: number) => ({
    documents: Array.from({ length: to - from }, (_, j) => ({ id: ns.from + from + j, vector: rowArray(glove.base, ns.from + from + j) })),
  });
  for (let i = 0; i < SEGMENT_DOCS; i += 1000) await ok(qn, 'POST', `/v1/namespaces/${ns.name}/upsert`, docs(i, Math.min(SEGMENT_DOCS, i + 1000)));
  const flushed = await ok(qn, 'POST', `/v1/namespaces/${ns.name}/flush`);
  if (flushed.segments.length !== 1) throw new Error(`${ns.name}: expected one segment after the flush, got ${flushed.segments.length}`);
  for (let i = SEGMENT_DOCS; i < DOCS_PER_NS; i += TAIL_BATCH) await ok(qn, 'POST', `/v1/namespaces/${ns.name}/upsert`, docs(i, i + TAIL_BATCH));
  const s = await ok(INDEXERS_URL(c, ns), 'GET', `/v1/namespaces/${ns.name}`);
  console.log(`  ${ns.name} (owner ${INDEXERS[ns.owner]}): ${s.documents} documents, segments ${s.segments.map((x: { documents: number }) => x.documents).join(' + ')}, ` +
    `${s.unindexed_documents} in ${s.wal_entries} WAL objects`);
}

const INDEXERS_URL = (c: Cluster, ns: Ns) => c.indexers[ns.owner]!.url;

/** Exact cosine top-k over the namespace's rows, per query. */
function bruteForce(glove: Glove, ns: Ns, queries: number[][]): number[][] {
  const { dim, data } = glove.base;
  const norms = new Float64Array(DOCS_PER_NS);
  for (let r = 0; r < DOCS_PER_NS; r++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += data[(ns.from + r) * dim + j]! ** 2;
    norms[r] = Math.sqrt(s);
  }
  return queries.map((q) => {
    const sims = new Float64Array(DOCS_PER_NS);
    for (let r = 0; r < DOCS_PER_NS; r++) {
      let dot = 0;
      const at = (ns.from + r) * dim;
      for (let j = 0; j < dim; j++) dot += data[at + j]! * q[j]!;
      sims[r] = dot / norms[r]!;
    }
    return [...sims.keys()].sort((x, y) => sims[y]! - sims[x]!).slice(0, TOP_K).map((r) => ns.from + r);
  });
}

function recallOf(found: number[], truth: number[]): number {
  const want = new Set(truth);
  return found.filter((id) => want.has(id)).length / truth.length;
}

// ---- side by side ----

interface Contender {
  label: string;
  /** Where query q goes: the node's base URL and the namespace. */
  target: (q: number) => { url: string; ns: Ns };
  eventual: boolean;
}

interface Outcome {
  ids: number[];
  servedFrom: string;
  node: string | null;
  tookMs: number;
}

interface ContenderResult {
  label: string;
  latency: Latency;
  /** The same fields per pass (the table shows their median). */
  passes: Latency[];
  serverTookMsP50: number;
  recall10: number;
  sameAsOwner: number;
  servedFrom: Counts;
  nodes: Counts;
  requestsPerQuery?: number;
  requestsByOp?: Counts;
}

/**
 * Contenders take turns in blocks of BLOCK queries over PASSES passes (as bench/lib/interleave.ts
 * does, with awaits): noise lands on all of them alike. When `perBlock` is set, each block's
 * object-store requests on that node are attributed to the contender that ran it.
 */
async function sideBySide(
  contenders: Contender[], bodies: string[][], truth: Map<string, number[][]>, ownerIds: Map<string, number[][]> | null,
  perBlock: SiltProcess | null,
): Promise<ContenderResult[]> {
  const run = async (c: Contender, q: number): Promise<Outcome> => {
    const { url, ns } = c.target(q);
    const r = await request(url, 'POST', `/v1/namespaces/${ns.name}/query`, bodies[c.eventual ? 1 : 0]![q]!);
    if (r.status !== 200) throw new Error(`${c.label}, query ${q}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    return { ids: r.body.results.map((h: { id: number }) => h.id), servedFrom: r.body.served_from ?? 'owner', node: r.node, tookMs: r.body.took_ms };
  };
  // Warm-up: every contender's first queries (the eventual view is built here).
  for (const c of contenders) for (let q = 0; q < 100; q++) await run(c, q);

  const blocks = Math.ceil(QUERIES / BLOCK);
  const times = contenders.map(() => [] as Latency[]);
  const last = contenders.map(() => [] as Outcome[]);
  const took = contenders.map(() => [] as number[]);
  const requests = contenders.map(() => ({} as Counts));
  let queriesRun = 0;
  for (let pass = 0; pass < PASSES; pass++) {
    const ms: number[][] = contenders.map(() => []);
    for (let turn = 0; turn < blocks; turn++) {
      for (let j = 0; j < contenders.length; j++) {
        const ci = (turn + pass + j) % contenders.length;
        const b = (turn + ci) % blocks;
        const before = perBlock ? await storeRequests(perBlock) : null;
        for (let q = b * BLOCK; q < Math.min(QUERIES, (b + 1) * BLOCK); q++) {
          const t0 = performance.now();
          const out = await run(contenders[ci]!, q);
          ms[ci]!.push(performance.now() - t0);
          took[ci]!.push(out.tookMs);
          last[ci]![q] = out;
          if (ci === 0) queriesRun++;
        }
        if (perBlock && before) {
          const d = diff((await storeRequests(perBlock)).ops, before.ops);
          for (const [k, v] of Object.entries(d)) requests[ci]![k] = (requests[ci]![k] ?? 0) + v;
        }
      }
    }
    ms.forEach((m, ci) => times[ci]!.push(summarize(m)));
  }
  return contenders.map((c, ci) => {
    const outs = last[ci]!;
    const count = (pick: (o: Outcome) => string | null) =>
      outs.reduce<Counts>((acc, o) => ({ ...acc, [pick(o) ?? '-']: (acc[pick(o) ?? '-'] ?? 0) + 1 }), {});
    const truthOf = (q: number) => truth.get(c.target(q).ns.name)![q]!;
    const ownerOf = (q: number) => ownerIds?.get(c.target(q).ns.name)?.[q];
    const result: ContenderResult = {
      label: c.label,
      latency: medianOf(times[ci]!),
      passes: times[ci]!,
      serverTookMsP50: median(took[ci]!),
      recall10: outs.reduce((a, o, q) => a + recallOf(o.ids, truthOf(q)), 0) / outs.length,
      sameAsOwner: outs.filter((o, q) => JSON.stringify(o.ids) === JSON.stringify(ownerOf(q))).length / outs.length,
      servedFrom: count((o) => o.servedFrom),
      nodes: count((o) => o.node),
    };
    if (perBlock) {
      result.requestsByOp = requests[ci]!;
      result.requestsPerQuery = total(requests[ci]!) / (QUERIES * PASSES);
    }
    return result;
  });
}

/** [strong bodies, eventual bodies], serialized once. */
function queryBodies(queries: number[][]): string[][] {
  return [false, true].map((eventual) => queries.map((vector) =>
    JSON.stringify({ vector, top_k: TOP_K, include_attributes: false, ...(eventual ? { consistency: 'eventual' } : {}) })));
}

// ---- cold and warm disk cache ----

interface FirstQuery {
  cache: 'cold' | 'warm';
  ms: number;
  requests: number;
  byOp: Counts;
  disk: { hits: number; misses: number };
  servedFrom: string;
  recall10: number;
}

async function firstQuery(c: Cluster, cacheDir: string, cache: FirstQuery['cache'], ns: Ns, body: string, truth: number[]): Promise<FirstQuery> {
  if (c.query) await c.query.stop();
  c.query = await startQueryNode(c, cacheDir);
  const before = await storeRequests(c.query);
  const t0 = performance.now();
  const r = await request(c.query.url, 'POST', `/v1/namespaces/${ns.name}/query`, body);
  const ms = performance.now() - t0;
  if (r.status !== 200) throw new Error(`first query (${cache}): ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  const after = await storeRequests(c.query);
  const ops = diff(after.ops, before.ops);
  return {
    cache, ms, requests: total(ops), byOp: ops, disk: after.disk, servedFrom: r.body.served_from ?? 'owner',
    recall10: recallOf(r.body.results.map((h: { id: number }) => h.id), truth),
  };
}

// ---- main ----

async function main(): Promise<void> {
  if (!gloveAvailable()) {
    console.log(`cluster: GloVe data not found at ${GLOVE_DIR}; skipping.`);
    return;
  }
  const glove = loadGlove();
  const queries = queryVectors(glove, QUERIES);
  const bodies = queryBodies(queries);
  const [a, b] = pickNamespaces();
  const truth = new Map([a, b].map((ns) => [ns.name, bruteForce(glove, ns, queries)]));
  const t0 = performance.now();
  const dir = await tempDir('cluster');
  try {
    const c = await startCluster(dir);
    console.log(`started S3 test server, ${INDEXERS.length} indexers, 1 query node in ${fmt((performance.now() - t0) / 1000, 1)} s`);
    const t1 = performance.now();
    await Promise.all([a, b].map((ns) => populate(c, ns, glove)));
    const ingestS = (performance.now() - t1) / 1000;
    console.log(`  ingest through the query node + flush: ${fmt(ingestS, 1)} s`);

    // Reference answers: every query sent once to the owner of each namespace (warms the owners too).
    const ownerIds = new Map<string, number[][]>();
    for (const ns of [a, b]) {
      const ids: number[][] = [];
      for (let q = 0; q < QUERIES; q++) {
        const r = await ok(c.indexers[ns.owner]!.url, 'POST', `/v1/namespaces/${ns.name}/query`, JSON.parse(bodies[0]![q]!));
        ids.push(r.results.map((h: { id: number }) => h.id));
      }
      ownerIds.set(ns.name, ids);
    }

    // 1. Owners up. Query q goes to namespace a or b by parity, so both owners serve.
    const nsOf = (q: number) => (q % 2 === 0 ? a : b);
    const ownerUrl = (ns: Ns) => c.indexers[ns.owner]!.url;
    const qn = () => c.query!.url;
    console.log('owners up: direct vs forwarded vs eventual');
    const up = await sideBySide([
      { label: 'direct to the owner', target: (q) => ({ url: ownerUrl(nsOf(q)), ns: nsOf(q) }), eventual: false },
      { label: 'query node → owner (forwarded)', target: (q) => ({ url: qn(), ns: nsOf(q) }), eventual: false },
      { label: 'query node, eventual (own view)', target: (q) => ({ url: qn(), ns: nsOf(q) }), eventual: true },
    ], bodies, truth, ownerIds, null);
    const perPass = (f: (direct: Latency, fwd: Latency) => number) => median(up[0]!.passes.map((d, p) => f(d, up[1]!.passes[p]!)));
    const overhead = {
      p50Ratio: perPass((d, f) => f.p50 / d.p50),
      p50Ms: perPass((d, f) => f.p50 - d.p50),
      p99Ms: perPass((d, f) => f.p99 - d.p99),
    };

    // 2. The owner of namespace a killed.
    console.log(`SIGKILL ${INDEXERS[a.owner]} (owner of ${a.name})`);
    await c.indexers[a.owner]!.kill();
    c.indexers[a.owner] = null;
    const down = await sideBySide([
      { label: `strong → ${b.name} (owner up: forwarded)`, target: () => ({ url: qn(), ns: b }), eventual: false },
      { label: `strong → ${a.name} (owner down: object storage)`, target: () => ({ url: qn(), ns: a }), eventual: false },
      { label: `eventual → ${a.name} (own view)`, target: () => ({ url: qn(), ns: a }), eventual: true },
    ], bodies, truth, ownerIds, c.query);

    // 3. First query of a restarted query node, disk cache empty vs warm (owner of a still down).
    console.log('first query after a query-node restart: cold vs warm disk cache');
    const restarts: FirstQuery[] = [];
    for (let r = 0; r < RESTARTS; r++) {
      const cacheDir = join(c.dir, `cache-query-restart-${r}`);
      await mkdir(cacheDir, { recursive: true });
      for (const cache of ['cold', 'warm'] as const) {
        restarts.push(await firstQuery(c, cacheDir, cache, a, bodies[1]![r]!, truth.get(a.name)![r]!));
      }
    }
    const first = (['cold', 'warm'] as const).map((cache) => {
      const runs = restarts.filter((x) => x.cache === cache);
      return {
        cache,
        ms: median(runs.map((x) => x.ms)),
        msPerRun: runs.map((x) => x.ms),
        requests: median(runs.map((x) => x.requests)),
        byOp: runs[0]!.byOp,
        disk: runs[0]!.disk,
        servedFrom: [...new Set(runs.map((x) => x.servedFrom))].join(','),
        recall10: median(runs.map((x) => x.recall10)),
      };
    });

    const latencyRows = (rs: ContenderResult[], withRequests: boolean) => rs.map((r) => [
      r.label, fmt(r.latency.p50, 2), fmt(r.latency.p99, 2), fmt(r.serverTookMsP50, 2),
      ...(withRequests ? [fmt(r.requestsPerQuery, 2), byOp(r.requestsByOp ?? {}, QUERIES * PASSES)] : []),
      fmt(r.recall10, 3), `${fmt(100 * r.sameAsOwner, 1)}%`, Object.entries(r.servedFrom).map(([k, v]) => `${k} ${v}`).join(', '),
    ]);
    const head = ['route', 'p50 ms', 'p99 ms', 'took_ms p50', 'recall@10', 'same ids as owner', 'served_from'];
    printTable(`owners up: ${QUERIES} queries (alternating ${a.name} / ${b.name}), top_k ${TOP_K}, median of ${PASSES} passes`, head, latencyRows(up, false));
    console.log(`forwarding overhead (p50, per pass, median): ${fmt(overhead.p50Ratio, 2)}× the direct query, +${fmt(overhead.p50Ms, 2)} ms ` +
      `(p99 +${fmt(overhead.p99Ms, 2)} ms)`);
    printTable(`${INDEXERS[a.owner]} (owner of ${a.name}) killed: ${QUERIES} queries per route through the query node, median of ${PASSES} passes`,
      [...head.slice(0, 4), 'store requests / query', 'by operation', ...head.slice(4)], latencyRows(down, true));
    printTable(`first query (eventual, ${a.name}) of a restarted query node, median of ${RESTARTS} restarts each`,
      ['disk cache', 'ms', 'ms per run', 'store requests', 'by operation', 'disk hits / misses', 'served_from', 'recall@10'],
      first.map((f) => [f.cache, fmt(f.ms, 1), f.msPerRun.map((x) => fmt(x, 0)).join(' / '), f.requests, byOp(f.byOp),
        `${f.disk.hits} / ${f.disk.misses}`, f.servedFrom, fmt(f.recall10, 2)]));

    writeResult('cluster', {
      data: {
        namespaces: [a, b].map((ns) => ({ name: ns.name, owner: INDEXERS[ns.owner], rows: [ns.from, ns.from + DOCS_PER_NS] })),
        perNamespace: { docs: DOCS_PER_NS, segmentDocs: SEGMENT_DOCS, tailDocs: DOCS_PER_NS - SEGMENT_DOCS, tailWalObjects: (DOCS_PER_NS - SEGMENT_DOCS) / TAIL_BATCH },
      },
      method: `real processes on 127.0.0.1: S3 test server (s3rver) as its own process, ${INDEXERS.length} indexers, 1 query node; ` +
        `${QUERIES} GloVe queries, top_k ${TOP_K}, 100-query warm-up per route, routes taking turns in blocks of ${BLOCK}, ` +
        `${PASSES} passes, medians over passes; sequential fetch from the benchmark process; store requests from GET /stats deltas ` +
        `per block; recall@10 vs brute force over the namespace; first queries over ${RESTARTS} restarts`,
      ingestSeconds: ingestS,
      ownersUp: up,
      forwardingOverhead: overhead,
      ownerDown: { killed: INDEXERS[a.owner], namespace: a.name, routes: down },
      firstQuery: first,
      firstQueryRuns: restarts,
      totalSeconds: (performance.now() - t0) / 1000,
    });
  } finally {
    if (live) await stopCluster(live);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
