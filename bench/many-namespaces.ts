// many-namespaces: N namespaces × 200 documents on a real Silt process, then the background
// flush of all of them at once (flush_interval_secs elapses for every namespace within the same
// second). Samples the server's threads (/proc/<pid>/task), resident memory (/proc/<pid>/status
// VmRSS) and its child processes (tsx starts an esbuild service per worker thread) every 500 ms,
// from the first write until every namespace logged "tail flushed" or the time limit passed.
//
// "after" is this working tree (one build pool of indexing.build_threads); "before" is Silt at
// another commit (default: the last one with a worker per build), checked out with git archive
// into a temporary directory that borrows this tree's node_modules.
//
//   npm run bench -- many-namespaces
//   npx tsx bench/many-namespaces.ts [--namespaces 2000] [--docs 200] [--runs 1] [--before REV|none] [--limit-secs 240]

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ROOT } from './lib/data.ts';
import { fmt, printTable, writeResult } from './lib/report.ts';
import { call, tempDir } from './lib/silt.ts';
import { median } from './lib/stats.ts';
import { checkout, rssMiB } from './lib/process.ts';

/** The last commit before the build pool: one worker thread per build. */
const BEFORE_DEFAULT = '96f9efd';
const DIM = 32;
const CLIENTS = 16;
const FLUSH_INTERVAL_SECS = 5;
const SAMPLE_MS = 500;

const { values: args } = parseArgs({
  options: {
    namespaces: { type: 'string', default: '2000' },
    docs: { type: 'string', default: '200' },
    runs: { type: 'string', default: '1' },
    before: { type: 'string', default: BEFORE_DEFAULT },
    'limit-secs': { type: 'string', default: '240' },
  },
});
const NAMESPACES = Number(args.namespaces);
const DOCS = Number(args.docs);
const RUNS = Number(args.runs);
const LIMIT_MS = Number(args['limit-secs']) * 1000;

interface Sample { t: number; threads: number; rssMiB: number; children: number; childRssMiB: number; flushed: number }
interface Run { samples: Sample[]; writesSecs: number; writeError: string | null; allFlushedSecs: number | null; flushed: number; peakThreads: number; peakRssMiB: number; peakChildren: number; peakChildRssMiB: number }

function sample(pid: number, t: number, flushed: number): Sample | null {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  const rss = rssMiB(pid);
  if (rss === null) return null;
  // Children started by worker threads are children of those threads.
  const children = new Set<number>();
  for (const tid of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (c.trim()) children.add(Number(c));
    } catch { /* thread gone */ }
  }
  let childRssMiB = 0;
  for (const c of children) childRssMiB += rssMiB(c) ?? 0;
  return { t, threads: tasks.length, rssMiB: rss, children: children.size, childRssMiB, flushed };
}

async function startAt(root: string, dataDir: string): Promise<{ url: string; child: ChildProcess; flushed: () => number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/main.ts')], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '', SILT_SERVER_HOST: '127.0.0.1', SILT_SERVER_PORT: '0',
      SILT_STORAGE_LOCAL_ROOT_PATH: join(dataDir, 'root'), SILT_CACHE_DISK_PATH: join(dataDir, 'cache'),
      SILT_INDEXING_FLUSH_INTERVAL_SECS: String(FLUSH_INTERVAL_SECS), SILT_COMPACTION_ENABLED: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let flushed = 0;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('silt did not start in 30 s')); }, 30_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"tail flushed"')) flushed++;
      else if (line.includes('"silt listening"')) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { address: string }).address);
      }
    });
    createInterface({ input: child.stderr! }).on('line', (line) => process.stderr.write(`  silt: ${line}\n`));
    void exited.then(() => reject(new Error('silt exited before listening')));
  });
  return {
    url, child, flushed: () => flushed,
    async stop() {
      // A server with a thousand builds running may not stop in time: it has been measured already.
      child.kill('SIGKILL');
      await exited;
    },
  };
}

async function pool<T>(count: number, fn: (i: number) => Promise<T>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (next < count) await fn(next++);
  }));
}

async function runOnce(label: string, root: string): Promise<Run> {
  const data = await tempDir(`many-${label}`);
  const silt = await startAt(root, data);
  try {
    const schema = { vector_dim: DIM, vector_metric: 'cosine', attributes: { n: { type: 'integer' } } };
    // Sampled from the first write on: with many namespaces the writes outlast the flush interval,
    // so the first flushes run while later namespaces are still being written.
    const t0 = performance.now();
    const samples: Sample[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling && performance.now() - t0 < LIMIT_MS) {
        const s = sample(silt.child.pid!, (performance.now() - t0) / 1000, silt.flushed());
        if (!s) break;
        samples.push(s);
        if (silt.flushed() >= NAMESPACES) break;
        await new Promise((r) => setTimeout(r, SAMPLE_MS));
      }
    })();
    // A server drowning in threads may stop answering: that is a result, not a crash of the bench.
    let writeError: string | null = null;
    await pool(NAMESPACES, async (i) => {
      await call(silt.url, 'PUT', `/v1/namespaces/ns-${i}`, schema);
      const documents = Array.from({ length: DOCS }, (_, d) => ({
        id: d, vector: Array.from({ length: DIM }, (_, k) => Math.sin(i * 131 + d * 17 + k * 3)), attributes: { n: d },
      }));
      await call(silt.url, 'POST', `/v1/namespaces/ns-${i}/upsert`, { documents });
    }).catch((e: unknown) => {
      writeError = String((e as Error).cause ?? e);
      sampling = false;
    });
    const writesSecs = (performance.now() - t0) / 1000;
    if (writeError) console.log(`  ${label}: a write failed: ${writeError}`);
    else console.log(`  ${label}: ${NAMESPACES} namespaces × ${DOCS} documents written in ${writesSecs.toFixed(1)} s; waiting for the background flushes`);
    await sampler;
    sampling = false;
    const last = samples[samples.length - 1];
    const allFlushedSecs = last && last.flushed >= NAMESPACES ? last.t : null;
    const peak = (pick: (s: Sample) => number) => Math.max(0, ...samples.map(pick));
    return {
      samples, writesSecs, writeError, allFlushedSecs, flushed: silt.flushed(), peakThreads: peak((s) => s.threads), peakRssMiB: peak((s) => s.rssMiB),
      peakChildren: peak((s) => s.children), peakChildRssMiB: peak((s) => s.childRssMiB),
    };
  } finally {
    await silt.stop();
    await rm(data, { recursive: true, force: true });
  }
}

function timeline(label: string, run: Run): void {
  // About 12 rows: every k-th sample and the last.
  const k = Math.max(1, Math.ceil(run.samples.length / 12));
  const rows = run.samples.filter((_, i) => i % k === 0 || i === run.samples.length - 1);
  printTable(`${label}: the server over time (t = 0 at the first write)`,
    ['t s', 'threads', 'RSS MiB', 'children', 'children RSS MiB', 'flushed'],
    rows.map((s) => [fmt(s.t, 1), s.threads, fmt(s.rssMiB, 0), s.children, fmt(s.childRssMiB, 0), s.flushed]));
}

async function main(): Promise<void> {
  const variants: Array<{ label: string; root: string }> = [{ label: 'after (build pool)', root: ROOT }];
  let before: string | null = null;
  if (args.before !== 'none') {
    before = await checkout(args.before);
    variants.unshift({ label: `before (${args.before}, a worker per build)`, root: before });
  }
  const results: Array<{ label: string; runs: Run[] }> = [];
  try {
    for (const v of variants) {
      const runs: Run[] = [];
      for (let r = 0; r < RUNS; r++) runs.push(await runOnce(v.label, v.root));
      results.push({ label: v.label, runs });
      timeline(v.label, runs[runs.length - 1]!);
    }
  } finally {
    if (before && existsSync(before)) await rm(before, { recursive: true, force: true });
  }
  const med = (runs: Run[], pick: (r: Run) => number | null) => {
    const xs = runs.map(pick).filter((x): x is number => x !== null);
    return xs.length === runs.length ? median(xs) : null;
  };
  printTable(`${NAMESPACES} namespaces × ${DOCS} documents, background flush of all (median of ${RUNS} run${RUNS > 1 ? 's' : ''})`,
    ['variant', 'peak threads', 'peak RSS MiB', 'peak children', 'children RSS MiB', 'writes done at s', 'all flushed at s', 'flushed'],
    results.map(({ label, runs }) => [
      label, med(runs, (r) => r.peakThreads)!, fmt(med(runs, (r) => r.peakRssMiB), 0), med(runs, (r) => r.peakChildren)!,
      fmt(med(runs, (r) => r.peakChildRssMiB), 0), fmt(med(runs, (r) => r.writesSecs), 1),
      med(runs, (r) => r.allFlushedSecs) === null ? `not in ${LIMIT_MS / 1000}` : fmt(med(runs, (r) => r.allFlushedSecs), 1),
      `${med(runs, (r) => r.flushed)}/${NAMESPACES}`,
    ]));
  writeResult('many-namespaces', {
    namespaces: NAMESPACES, docs: DOCS, dim: DIM, runs: RUNS, flushIntervalSecs: FLUSH_INTERVAL_SECS, limitSecs: LIMIT_MS / 1000,
    variants: results.map(({ label, runs }) => ({
      label,
      median: {
        peakThreads: med(runs, (r) => r.peakThreads), peakRssMiB: med(runs, (r) => r.peakRssMiB),
        peakChildren: med(runs, (r) => r.peakChildren), peakChildRssMiB: med(runs, (r) => r.peakChildRssMiB),
        writesSecs: med(runs, (r) => r.writesSecs), allFlushedSecs: med(runs, (r) => r.allFlushedSecs), flushed: med(runs, (r) => r.flushed),
      },
      runs,
    })),
  });
}

await main();
