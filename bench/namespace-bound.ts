// namespace-bound: N namespaces × 100 documents written to one real Silt process with
// cache.memory_size set (1 GiB by default), then one query to every namespace in turn (the vector
// of one of its documents; the answer must be that document). Samples the server's RSS
// (/proc/<pid>/status VmRSS) every 500 ms through both phases; reads /stats "memory" at the end.
//
// "after" is this working tree (open namespaces closed least recently used past memory_size);
// "before" is Silt at another commit (default: main, where owned namespaces close only when idle),
// checked out with git archive into a temporary directory that borrows this tree's node_modules.
//
// With --seed the namespaces are written before the node starts, straight into its storage root
// by the engine's own code in --seed-procs processes (bench/lib/seed-namespaces.ts: the same
// objects, a create, a write and a flush each), and only the queries go to the node: over HTTP
// one node writes 10–30 namespaces a second here, too few to reach 100,000 in a run.
//
//   npm run bench -- namespace-bound
//   npx tsx bench/namespace-bound.ts [--namespaces 20000] [--memory-size 1073741824] [--before REV|none] [--limit-secs 600]
//     [--seed [--seed-procs 2]]

import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './lib/data.ts';
import { fmt, printTable, writeResult } from './lib/report.ts';
import { call, tempDir } from './lib/silt.ts';
import { checkout, rssMiB } from './lib/process.ts';
import { startSilt } from '../test/support/silt-process.ts';
import { SEED_DIM, SEED_DOCS, SEED_SCHEMA, seedVector } from './lib/seed-namespaces.ts';

const DIM = SEED_DIM;
const DOCS = SEED_DOCS;
const CLIENTS = 16;
const SAMPLE_MS = 500;

const { values: args } = parseArgs({
  options: {
    namespaces: { type: 'string', default: '20000' },
    'memory-size': { type: 'string', default: String(2 ** 30) },
    before: { type: 'string', default: 'main' },
    'limit-secs': { type: 'string', default: '600' },
    seed: { type: 'boolean', default: false },
    'seed-procs': { type: 'string', default: '2' },
  },
});
const SEED = args.seed === true;
// The seeding runs this tree's code: a "before" node would open objects written by another version.
if (SEED && args.before !== 'none') throw new Error('--seed needs --before none');
const NAMESPACES = Number(args.namespaces);
const MEMORY_SIZE = Number(args['memory-size']);
const LIMIT_MS = Number(args['limit-secs']) * 1000;

/** Writes namespaces [0, count) into `root` with seed-namespaces.ts in `procs` processes; the seconds it took. */
async function seedAll(root: string, count: number, procs: number): Promise<number> {
  const t0 = performance.now();
  const script = join(ROOT, 'bench/lib/seed-namespaces.ts');
  await Promise.all(Array.from({ length: procs }, (_, p) => new Promise<void>((resolve, reject) => {
    const from = Math.floor((count * p) / procs);
    const to = Math.floor((count * (p + 1)) / procs);
    const child = spawn(process.execPath, ['--import', 'tsx', script, root, String(from), String(to)], {
      cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, UV_THREADPOOL_SIZE: '32' },
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`seeding ${from}..${to} exited with ${code}`))));
  })));
  return (performance.now() - t0) / 1000;
}

/** Runs fn(0..count-1) on CLIENTS concurrent loops; stops early past the deadline. */
async function pool(count: number, deadline: number, fn: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (next < count && performance.now() < deadline) await fn(next++);
  }));
  return Math.min(next, count);
}

interface Run {
  writesSecs: number; written: number; writePeakRssMiB: number;
  querySecs: number; queried: number; answered: number; wrong: string[]; peakRssMiB: number; endRssMiB: number;
  stats: Record<string, unknown>;
}

async function runOnce(label: string, root: string): Promise<Run> {
  const data = await tempDir(`bound-${label}`);
  let seededSecs: number | null = null;
  if (SEED) {
    console.log(`  ${label}: seeding ${NAMESPACES} namespaces × ${DOCS} documents into the storage root`);
    seededSecs = await seedAll(join(data, 'root'), NAMESPACES, Number(args['seed-procs']));
    console.log(`  ${label}: seeded in ${seededSecs.toFixed(1)} s`);
  }
  const silt = await startSilt({
    SILT_STORAGE_LOCAL_ROOT_PATH: join(data, 'root'), SILT_CACHE_DISK_PATH: join(data, 'cache'),
    SILT_CACHE_MEMORY_SIZE: String(MEMORY_SIZE), SILT_COMPACTION_ENABLED: 'false',
  }, [], { command: [process.execPath, '--import', 'tsx', join(root, 'src/main.ts')] });
  const pid = silt.child.pid!;
  let peak = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, rssMiB(pid) ?? 0); }, SAMPLE_MS);
  try {
    const t0 = performance.now();
    const written = SEED ? NAMESPACES : await pool(NAMESPACES, t0 + LIMIT_MS, async (i) => {
      await call(silt.url, 'PUT', `/v1/namespaces/ns-${i}`, SEED_SCHEMA);
      const documents = Array.from({ length: DOCS }, (_, d) => ({ id: d, vector: seedVector(i, d), attributes: { n: d } }));
      await call(silt.url, 'POST', `/v1/namespaces/ns-${i}/upsert`, { documents });
    });
    const writesSecs = seededSecs ?? (performance.now() - t0) / 1000;
    const writePeakRssMiB = peak;
    if (!SEED) console.log(`  ${label}: ${written} namespaces × ${DOCS} documents written in ${writesSecs.toFixed(1)} s, peak RSS ${writePeakRssMiB.toFixed(0)} MiB; querying each`);
    const t1 = performance.now();
    let answered = 0;
    const wrong: string[] = [];
    const queried = await pool(written, t1 + LIMIT_MS, async (i) => {
      const d = (i * 7) % DOCS;
      try {
        const res = await call(silt.url, 'POST', `/v1/namespaces/ns-${i}/query`, { vector: seedVector(i, d), top_k: 1 });
        if (Number(res.results[0]?.id) === d) answered++;
        else if (wrong.length < 5) wrong.push(`ns-${i}: got ${JSON.stringify(res.results[0]?.id)}, want ${d}`);
      } catch (e) {
        if (wrong.length < 5) wrong.push(`ns-${i}: ${(e as Error).message.slice(0, 200)}`);
      }
    });
    const querySecs = (performance.now() - t1) / 1000;
    const stats = await call(silt.url, 'GET', '/stats') as Record<string, unknown>;
    return {
      writesSecs, written, writePeakRssMiB, querySecs, queried, answered, wrong,
      peakRssMiB: Math.max(peak, rssMiB(pid) ?? 0), endRssMiB: rssMiB(pid) ?? 0, stats,
    };
  } finally {
    clearInterval(sampler);
    await silt.kill();
    await rm(data, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const variants: Array<{ label: string; root: string; temp: boolean }> = [{ label: 'after', root: ROOT, temp: false }];
  if (args.before !== 'none') variants.unshift({ label: `before (${args.before})`, root: await checkout(args.before), temp: true });
  const results: Array<{ label: string; run: Run }> = [];
  try {
    for (const v of variants) results.push({ label: v.label, run: await runOnce(v.label, v.root) });
  } finally {
    for (const v of variants) if (v.temp) await rm(v.root, { recursive: true, force: true });
  }
  const mib = (x: unknown) => fmt(typeof x === 'number' ? x / 2 ** 20 : null, 0);
  printTable(`${NAMESPACES} namespaces × ${DOCS} documents (${DIM}-d), cache.memory_size ${fmt(MEMORY_SIZE / 2 ** 20, 0)} MiB`,
    ['variant', 'written', SEED ? 'seeded s' : 'writes s', 'peak RSS MiB (writes)', 'answered', 'queries s', 'peak RSS MiB', 'end RSS MiB', 'open at end', 'closed (memory)'],
    results.map(({ label, run }) => [
      label, run.written, fmt(run.writesSecs, 1), fmt(run.writePeakRssMiB, 0), `${run.answered}/${run.queried}`, fmt(run.querySecs, 1),
      fmt(run.peakRssMiB, 0), fmt(run.endRssMiB, 0), String(run.stats.namespaces_open), String(run.stats.namespaces_closed_memory_total ?? '—'),
    ]));
  for (const { label, run } of results) {
    const m = run.stats.memory as Record<string, number> | undefined;
    if (m) console.log(`  ${label} /stats memory MiB: ${Object.entries(m).map(([k, v]) => `${k} ${mib(v)}`).join(', ')}`);
    if (run.wrong.length > 0) console.log(`  ${label} wrong answers (first ${run.wrong.length}): ${run.wrong.join('; ')}`);
  }
  writeResult('namespace-bound', {
    namespaces: NAMESPACES, docs: DOCS, dim: DIM, memorySize: MEMORY_SIZE, limitSecs: LIMIT_MS / 1000, seeded: SEED,
    variants: results.map(({ label, run }) => ({ label, ...run })),
  });
}

await main();
