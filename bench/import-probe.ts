// import-probe: /health latency while documents are imported into a real Silt process, as JSON
// batches of 1,000 (before: each body is one JSON.parse and one validation pass on the event
// loop) and as application/x-ndjson requests of 5,000 lines (after: what `silt import` sends,
// parsed line by line as it streams, written in chunks of 1,000). A prober sends GET /health
// one at a time, every 2 ms, for the whole import. Passes alternate the two modes.
//
//   npm run bench -- import-probe
//   npx tsx bench/import-probe.ts [--docs 50000] [--dim 100] [--passes 2]

import { parseArgs } from 'node:util';
import { fmt, printTable, writeResult } from './lib/report.ts';
import { summarize, type Latency } from './lib/stats.ts';
import { call, startServer } from './lib/silt.ts';

const { values: args } = parseArgs({ options: {
  docs: { type: 'string', default: '50000' }, dim: { type: 'string', default: '100' }, passes: { type: 'string', default: '2' },
} });
const DOCS = Number(args.docs);
const DIM = Number(args.dim);
const PASSES = Number(args.passes);

const docLine = (id: number) => JSON.stringify({
  id, vector: Array.from({ length: DIM }, (_, k) => Math.round(Math.sin(id * 13 + k) * 1e4) / 1e4), attributes: { title: `document ${id} about things` },
});
const lines = Array.from({ length: DOCS }, (_, i) => docLine(i));

async function probeDuring(url: string, work: () => Promise<void>): Promise<{ probe: Latency; seconds: number }> {
  const ms: number[] = [];
  let done = false;
  const prober = (async () => {
    while (!done) {
      const t0 = performance.now();
      await (await fetch(`${url}/health`)).arrayBuffer();
      ms.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  const t0 = performance.now();
  await work();
  const seconds = (performance.now() - t0) / 1000;
  done = true;
  await prober;
  return { probe: summarize(ms), seconds };
}

async function post(url: string, path: string, type: string, body: string): Promise<void> {
  const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': type }, body });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${(await res.text()).slice(0, 300)}`);
  await res.arrayBuffer();
}

const modes = {
  'JSON, 1,000 a request': (url: string, ns: string) => async () => {
    for (let i = 0; i < DOCS; i += 1000) {
      await post(url, `/v1/namespaces/${ns}/upsert`, 'application/json', `{"documents":[${lines.slice(i, i + 1000).join(',')}]}`);
    }
  },
  'NDJSON, 5,000 a request': (url: string, ns: string) => async () => {
    for (let i = 0; i < DOCS; i += 5000) {
      await post(url, `/v1/namespaces/${ns}/upsert`, 'application/x-ndjson', lines.slice(i, i + 5000).join('\n') + '\n');
    }
  },
};

// Flushing (segment builds) runs on worker threads; kept out of the way so the loop's own work is measured.
const server = await startServer('import-probe', { SILT_INDEXING_FLUSH_DOCS: '100000000', SILT_INDEXING_FLUSH_INTERVAL_SECS: '3600' });
const results: Record<string, Array<{ probe: Latency; seconds: number }>> = {};
try {
  const idle = await probeDuring(server.url, () => new Promise((r) => setTimeout(r, 1000)));
  for (let pass = 0; pass < PASSES; pass++) {
    for (const [name, make] of Object.entries(modes)) {
      const ns = `p${pass}-${name.startsWith('JSON') ? 'json' : 'ndjson'}`;
      await call(server.url, 'PUT', `/v1/namespaces/${ns}`, { vector_dim: DIM, vector_metric: 'cosine', attributes: { title: { type: 'string', full_text: true } } });
      (results[name] ??= []).push(await probeDuring(server.url, make(server.url, ns)));
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rows = [['idle', '-', fmt(idle.probe.p50), fmt(idle.probe.p99), fmt(idle.probe.max), idle.probe.count]];
  const json: Record<string, unknown> = { docs: DOCS, dim: DIM, passes: PASSES, idle: idle.probe };
  for (const [name, runs] of Object.entries(results)) {
    const row = {
      docs_per_s: median(runs.map((r) => DOCS / r.seconds)),
      probe_p50_ms: median(runs.map((r) => r.probe.p50)),
      probe_p99_ms: median(runs.map((r) => r.probe.p99)),
      probe_max_ms: median(runs.map((r) => r.probe.max)),
      probes: median(runs.map((r) => r.probe.count)),
    };
    json[name] = { ...row, runs };
    rows.push([name, Math.round(row.docs_per_s), fmt(row.probe_p50_ms), fmt(row.probe_p99_ms), fmt(row.probe_max_ms), row.probes]);
  }
  printTable(`/health during an import of ${DOCS} × ${DIM}-d documents (median of ${PASSES} passes)`,
    ['import', 'docs/s', 'probe p50 ms', 'p99 ms', 'max ms', 'probes'], rows);
  writeResult('import-probe', json);
} finally {
  await server.stop();
}
