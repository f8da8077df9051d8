// cluster: what routing and views cost, on a real cluster on 127.0.0.1 — the S3 test server as
// its own process, 3 indexers and 1 query node (src/main.ts processes, as
// test/integration/cluster.test.ts starts them). 20k GloVe-100 documents over 2 namespaces owned
// by different indexers, each upserted through the query node in batches of 1,000, flushed into
// one segment, with a 500-document tail in 2 WAL objects on top. Then:
//   1. owners up: the same queries sent directly to the owner, to the query node (forwarded), and
//      to the query node with consistency "eventual" (its own view), taking turns in blocks with
//      a bare GET /health round trip for scale;
//   2. the owner of one namespace killed with SIGKILL: strong queries the query node serves from
//      object storage (a view refresh per query), beside eventual ones and forwarded ones to the
//      other namespace, with object-store requests per query from GET /stats deltas;
//   3. the first (eventual) query of a restarted query node, with an empty and with a warm disk
//      cache, then the other namespace's first query on the same process (the difference is the
//      process's own warm-up): wall time and object-store requests.
// Every answer is checked against brute force (recall@10) and against the owner's own answer.
//
//   npm run bench -- cluster          (or: npx tsx bench/cluster.ts)

import { rmSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ownerIndex } from '../src/cluster/seahash.ts';
import { freePort, startSilt, type SiltProcess } from '../test/support/silt-process.ts';
import { queryVectors, rowArray, type Glove, loadGloveOrSkip } from './lib/data.ts';
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
const WARMUP = 100;

// ---- processes ----

interface Cluster {
  dir: string;
  s3: S3Process;
  indexers: Array<SiltProcess | null>;
  query: SiltProcess | null;
  env: Record<string, string>;
}

let live: Cluster | null = null;

const running = (p: SiltProcess) => p.child.exitCode === null && p.child.signalCode === null;

/** On a signal: kill what this benchmark started (by pid) and remove its directory, then exit. */
function killAll(): void {
  if (!live) return;
  for (const p of [...live.indexers, live.query]) if (p && running(p)) p.child.kill('SIGKILL');
  try {
    process.kill(live.s3.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  rmSync(live.dir, { recursive: true, force: true });
  live = null;
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { killAll(); process.exit(130); });

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
  // allSettled: when one fails to start, the others are still recorded, so cleanup stops them.
  const started = await Promise.allSettled(INDEXERS.map(async (id, i) => {
    c.indexers[i] = await startSilt({
      ...env, SILT_NODE_ID: id, SILT_NODE_ROLE: 'indexer', SILT_SERVER_PORT: String(ports[i]),
      SILT_CACHE_DISK_PATH: join(dir, `cache-${id}`),
    });
  }));
  for (const s of started) if (s.status === 'rejected') throw s.reason;
  c.query = await startQueryNode(c, join(dir, 'cache-query'));
  return c;
}

function startQueryNode(c: Cluster, cacheDir: string): Promise<SiltProcess> {
  return startSilt({ ...c.env, SILT_NODE_ID: 'query-1', SILT_NODE_ROLE: 'query', SILT_CACHE_DISK_PATH: cacheDir });
}

async function stopCluster(c: Cluster): Promise<void> {
  for (const p of [...c.indexers, c.query]) if (p && running(p)) await p.kill();
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

async function storeRequests(node: SiltProcess): Promise<{ ops: Counts; disk: Counts }> {
  const s = await ok(node.url, 'GET', '/stats');
  return { ops: s.object_store_requests, disk: { hits: s.cache.disk.hits, misses: s.cache.disk.misses } };
}

function diff(after: Counts, before: Counts): Counts {
  return Object.fromEntries(Object.keys(after).map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)]));
}

function addTo(acc: Counts, d: Counts): Counts {
  for (const [k, v] of Object.entries(d)) acc[k] = (acc[k] ?? 0) + v;
  return acc;
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

const ownerUrl = (c: Cluster, ns: Ns) => c.indexers[ns.owner]!.url;

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
  const s = await ok(ownerUrl(c, ns), 'GET', `/v1/namespaces/${ns.name}`);
  console.log(`  ${ns.name} (owner ${INDEXERS[ns.owner]}): ${s.documents} documents, segments ${s.segments.map((x: { documents: number }) => x.documents).join(' + ')}, ` +
    `${s.unindexed_documents} in ${s.wal_entries} WAL objects`);
}

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
  /** The namespace query q goes to; null for a contender that is not a query (a bare round trip). */
  ns: ((q: number) => Ns) | null;
  send: (q: number) => Promise<Reply>;
}

interface Outcome {
  ids: number[];
  servedFrom: string;
  node: string | null;
  tookMs: number;
}

interface ContenderResult {
  label: string;
  /** Medians over passes of each pass's summary. */
  latency: Latency;
  passes: Latency[];
  serverTookMsP50: number;
  recall10: number;
  sameAsOwner: number;
  servedFrom: Counts;
  /** x-silt-node of the answers: who actually ran the query. */
  answeredBy: Counts;
  requestsPerQuery?: number;
  requestsByOp?: Counts;
}

const sendQuery = (url: () => string, ns: Ns, body: string) => request(url(), 'POST', `/v1/namespaces/${ns.name}/query`, body);

/**
 * Contenders take turns in blocks of BLOCK queries over PASSES passes, as bench/lib/interleave.ts
 * does (with awaits), so that noise lands on all of them alike. With `counted`, each block's
 * object-store requests on that node (GET /stats before and after) go to the contender that ran it.
 */
async function sideBySide(
  contenders: Contender[], truth: Map<string, number[][]>, ownerIds: Map<string, number[][]>, counted: SiltProcess | null,
): Promise<ContenderResult[]> {
  const run = async (c: Contender, q: number): Promise<Outcome> => {
    const r = await c.send(q);
    if (r.status !== 200) throw new Error(`${c.label}, query ${q}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    return { ids: r.body.results?.map((h: { id: number }) => h.id) ?? [], servedFrom: r.body.served_from ?? 'owner', node: r.node, tookMs: r.body.took_ms ?? NaN };
  };
  for (const c of contenders) for (let q = 0; q < WARMUP; q++) await run(c, q); // builds the eventual views too

  const blocks = Math.ceil(QUERIES / BLOCK);
  const passes = contenders.map(() => [] as Latency[]);
  const last = contenders.map(() => [] as Outcome[]);
  const took = contenders.map(() => [] as number[]);
  const requests = contenders.map(() => ({} as Counts));
  for (let pass = 0; pass < PASSES; pass++) {
    const ms: number[][] = contenders.map(() => []);
    for (let turn = 0; turn < blocks; turn++) {
      for (let j = 0; j < contenders.length; j++) {
        const ci = (turn + pass + j) % contenders.length; // who goes first rotates
        const b = (turn + ci) % blocks;
        const before = counted && (await storeRequests(counted));
        for (let q = b * BLOCK; q < Math.min(QUERIES, (b + 1) * BLOCK); q++) {
          const t0 = performance.now();
          const out = await run(contenders[ci]!, q);
          ms[ci]!.push(performance.now() - t0);
          took[ci]!.push(out.tookMs);
          last[ci]![q] = out;
        }
        if (counted && before) addTo(requests[ci]!, diff((await storeRequests(counted)).ops, before.ops));
      }
    }
    ms.forEach((m, ci) => passes[ci]!.push(summarize(m)));
  }
  return contenders.map((c, ci) => {
    const outs = last[ci]!;
    const tally = (pick: (o: Outcome) => string) => outs.reduce<Counts>((acc, o) => addTo(acc, { [pick(o)]: 1 }), {});
    const nsOf = c.ns;
    const same = (o: Outcome, q: number) => nsOf !== null && JSON.stringify(o.ids) === JSON.stringify(ownerIds.get(nsOf(q).name)![q]);
    return {
      label: c.label,
      latency: medianOf(passes[ci]!),
      passes: passes[ci]!,
      serverTookMsP50: median(took[ci]!.filter((x) => !Number.isNaN(x))),
      recall10: nsOf ? outs.reduce((acc, o, q) => acc + recallOf(o.ids, truth.get(nsOf(q).name)![q]!), 0) / outs.length : NaN,
      sameAsOwner: nsOf ? outs.filter(same).length / outs.length : NaN,
      servedFrom: nsOf ? tally((o) => o.servedFrom) : {},
      answeredBy: tally((o) => o.node ?? '-'),
      ...(counted ? { requestsByOp: requests[ci]!, requestsPerQuery: total(requests[ci]!) / (QUERIES * PASSES) } : {}),
    };
  });
}

/** [strong bodies, eventual bodies], serialized once. */
function queryBodies(queries: number[][]): [string[], string[]] {
  const bodies = (extra: object) => queries.map((vector) => JSON.stringify({ vector, top_k: TOP_K, include_attributes: false, ...extra }));
  return [bodies({}), bodies({ consistency: 'eventual' })];
}

// ---- a restarted query node: cold and warm disk cache ----

interface FirstQuery {
  cache: 'cold' | 'warm';
  /** "process": the first request the restarted node serves; "namespace": the next namespace's first query. */
  which: 'process' | 'namespace';
  ms: number;
  requests: number;
  byOp: Counts;
  disk: Counts;
  servedFrom: string;
  recall10: number;
}

/**
 * Restarts the query node on `cacheDir`, then sends it one eventual query for each namespace in
 * turn: the first pays for the process's first request as well as for building the view.
 */
async function firstQueries(c: Cluster, cacheDir: string, cache: FirstQuery['cache'], spaces: Ns[], q: number, body: string, truth: Map<string, number[][]>): Promise<FirstQuery[]> {
  if (c.query) await c.query.stop();
  c.query = await startQueryNode(c, cacheDir);
  const out: FirstQuery[] = [];
  for (const ns of spaces) {
    const before = await storeRequests(c.query);
    const t0 = performance.now();
    const r = await sendQuery(() => c.query!.url, ns, body);
    const ms = performance.now() - t0;
    if (r.status !== 200) throw new Error(`first query (${cache}, ${ns.name}): ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    const after = await storeRequests(c.query);
    const ops = diff(after.ops, before.ops);
    out.push({
      cache, which: out.length === 0 ? 'process' : 'namespace', ms, requests: total(ops), byOp: ops, disk: diff(after.disk, before.disk),
      servedFrom: r.body.served_from ?? 'owner', recall10: recallOf(r.body.results.map((h: { id: number }) => h.id), truth.get(ns.name)![q]!),
    });
  }
  return out;
}

// ---- main ----

async function main(): Promise<void> {
  const glove = loadGloveOrSkip('cluster');
  if (!glove) return;
  const queries = queryVectors(glove, QUERIES);
  const [strong, eventual] = queryBodies(queries);
  const [a, b] = pickNamespaces();
  const truth = new Map([a, b].map((ns) => [ns.name, bruteForce(glove, ns, queries)]));
  const t0 = performance.now();
  const dir = await tempDir('cluster');
  try {
    const c = await startCluster(dir);
    console.log(`started the S3 test server, ${INDEXERS.length} indexers and a query node in ${fmt((performance.now() - t0) / 1000, 1)} s`);
    const t1 = performance.now();
    await Promise.all([a, b].map((ns) => populate(c, ns, glove)));
    const ingestSeconds = (performance.now() - t1) / 1000;
    console.log(`  upserts through the query node + flush: ${fmt(ingestSeconds, 1)} s`);

    // Reference answers: every query once to the owner of each namespace (warms the owners too).
    const ownerIds = new Map<string, number[][]>();
    for (const ns of [a, b]) {
      const ids: number[][] = [];
      for (let q = 0; q < QUERIES; q++) ids.push((await ok(ownerUrl(c, ns), 'POST', `/v1/namespaces/${ns.name}/query`, JSON.parse(strong[q]!))).results.map((h: { id: number }) => h.id));
      ownerIds.set(ns.name, ids);
    }

    // 1. Owners up; query q goes to namespace a or b by parity, so both owners serve.
    console.log('owners up: direct, forwarded, eventual');
    const qn = () => c.query!.url;
    const alt = (q: number) => (q % 2 === 0 ? a : b);
    const up = await sideBySide([
      { label: 'direct to the owner', ns: alt, send: (q) => sendQuery(() => ownerUrl(c, alt(q)), alt(q), strong[q]!) },
      { label: 'query node → owner (forwarded)', ns: alt, send: (q) => sendQuery(qn, alt(q), strong[q]!) },
      { label: 'query node, eventual (own view)', ns: alt, send: (q) => sendQuery(qn, alt(q), eventual[q]!) },
      { label: 'query node GET /health (bare round trip)', ns: null, send: () => request(qn(), 'GET', '/health') },
    ], truth, ownerIds, null);
    const perPass = (f: (direct: Latency, fwd: Latency) => number) => median(up[0]!.passes.map((d, p) => f(d, up[1]!.passes[p]!)));
    const overhead = { p50Ratio: perPass((d, f) => f.p50 / d.p50), p50Ms: perPass((d, f) => f.p50 - d.p50), p99Ms: perPass((d, f) => f.p99 - d.p99) };

    // 2. The owner of namespace a killed.
    console.log(`SIGKILL ${INDEXERS[a.owner]}, owner of ${a.name}`);
    await c.indexers[a.owner]!.kill();
    c.indexers[a.owner] = null;
    const down = await sideBySide([
      { label: `strong → ${b.name} (owner up: forwarded)`, ns: () => b, send: (q) => sendQuery(qn, b, strong[q]!) },
      { label: `strong → ${a.name} (owner down: object storage)`, ns: () => a, send: (q) => sendQuery(qn, a, strong[q]!) },
      { label: `eventual → ${a.name} (own view)`, ns: () => a, send: (q) => sendQuery(qn, a, eventual[q]!) },
    ], truth, ownerIds, c.query);

    // 3. The query node restarted on an empty cache directory, then again on the same one.
    console.log('query node restarts: first queries with a cold and a warm disk cache');
    const restarts: FirstQuery[] = [];
    for (let r = 0; r < RESTARTS; r++) {
      const cacheDir = join(dir, `cache-query-restart-${r}`);
      await mkdir(cacheDir, { recursive: true });
      for (const cache of ['cold', 'warm'] as const) restarts.push(...await firstQueries(c, cacheDir, cache, [a, b], r, eventual[r]!, truth));
    }
    const first = restarts.slice(0, 4).map(({ cache, which }) => {
      const runs = restarts.filter((x) => x.cache === cache && x.which === which);
      return {
        cache, which, ms: median(runs.map((x) => x.ms)), msPerRun: runs.map((x) => x.ms),
        requests: median(runs.map((x) => x.requests)), byOp: runs[0]!.byOp, disk: runs[0]!.disk,
        servedFrom: [...new Set(runs.map((x) => x.servedFrom))].join(','), recall10: median(runs.map((x) => x.recall10)),
      };
    });

    const head = ['route', 'p50 ms', 'p99 ms', 'took_ms p50'];
    const tail = ['recall@10', 'same ids as owner', 'served_from'];
    const row = (r: ContenderResult, requests: boolean) => [
      r.label, fmt(r.latency.p50, 2), fmt(r.latency.p99, 2), fmt(r.serverTookMsP50, 2),
      ...(requests ? [fmt(r.requestsPerQuery, 2), byOp(r.requestsByOp ?? {}, QUERIES * PASSES)] : []),
      fmt(r.recall10, 3), Number.isNaN(r.sameAsOwner) ? '-' : `${fmt(100 * r.sameAsOwner, 1)}%`, total(r.servedFrom) > 0 ? byOp(r.servedFrom) : '-',
    ];
    printTable(`owners up: ${QUERIES} queries (alternating ${a.name} / ${b.name}), top_k ${TOP_K}, median of ${PASSES} passes`,
      [...head, ...tail], up.map((r) => row(r, false)));
    console.log(`forwarding overhead (per pass, median): p50 ${fmt(overhead.p50Ratio, 2)}× direct, +${fmt(overhead.p50Ms, 2)} ms; p99 +${fmt(overhead.p99Ms, 2)} ms`);
    printTable(`${INDEXERS[a.owner]} (owner of ${a.name}) killed: ${QUERIES} queries per route, all to the query node, median of ${PASSES} passes`,
      [...head, 'store requests / query', 'by operation', ...tail], down.map((r) => row(r, true)));
    printTable(`first queries (eventual) of a restarted query node, median of ${RESTARTS} restarts each`,
      ['disk cache', 'query', 'ms', 'ms per run', 'store requests', 'by operation', 'disk hits / misses', 'served_from', 'recall@10'],
      first.map((f) => [f.cache, f.which === 'process' ? `${a.name}, the node's first` : `${b.name}, next namespace`,
        fmt(f.ms, 1), f.msPerRun.map((x) => fmt(x, 0)).join(' / '), f.requests, byOp(f.byOp),
        `${f.disk.hits ?? 0} / ${f.disk.misses ?? 0}`, f.servedFrom, fmt(f.recall10, 2)]));

    writeResult('cluster', {
      data: {
        namespaces: [a, b].map((ns) => ({ name: ns.name, owner: INDEXERS[ns.owner], baseRows: [ns.from, ns.from + DOCS_PER_NS] })),
        perNamespace: { docs: DOCS_PER_NS, segmentDocs: SEGMENT_DOCS, tailDocs: DOCS_PER_NS - SEGMENT_DOCS, tailWalObjects: (DOCS_PER_NS - SEGMENT_DOCS) / TAIL_BATCH },
      },
      method: `real processes on 127.0.0.1: the S3 test server (s3rver) as its own process, ${INDEXERS.length} indexers, 1 query node; ` +
        `${QUERIES} GloVe queries, top_k ${TOP_K}, ${WARMUP}-query warm-up per route, routes taking turns in blocks of ${BLOCK}, ` +
        `${PASSES} passes, medians over passes; sequential fetch from the benchmark process; object-store requests from GET /stats ` +
        `deltas around each block; recall@10 against brute force over the namespace; first queries over ${RESTARTS} restarts per cache state`,
      ingestSeconds,
      ownersUp: up,
      forwardingOverhead: overhead,
      ownerDown: { killed: INDEXERS[a.owner], namespace: a.name, routes: down },
      firstQueries: first,
      firstQueryRuns: restarts,
      totalSeconds: (performance.now() - t0) / 1000,
    });
  } finally {
    if (live) await stopCluster(live);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
