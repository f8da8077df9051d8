// shutdown-flush: N namespaces with a small tail each, on the local S3 test server, folded into
// segments the way graceful shutdown does it: one by one (before) and with flushAll, 16 at a time
// (after). Reports tails flushed per second. The issue measured about 4 a second one by one.
// The local server answers in about a millisecond; S3 takes tens (a PUT is typically 20-50 ms),
// so a run adds `--latency-ms` (default 20) to every request, and one runs without.
//
//   npm run bench -- shutdown-flush
//   npx tsx bench/shutdown-flush.ts [--namespaces 200] [--docs 50] [--latency-ms 20]

import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { flushTail } from '../src/indexer/flush.ts';
import { flushAll, SHUTDOWN_FLUSH_CONCURRENCY } from '../src/indexer/flush-all.ts';
import type { Namespace } from '../src/indexer/namespace.ts';
import type { ByteRange, GetOptions, ObjectStore, PutCondition } from '../src/storage/object-store.ts';
import { fmt, printTable, writeResult } from './lib/report.ts';
import { startS3Process, s3Store } from './lib/s3.ts';
import { createNamespace, indexingOptions, inProcessSilt, schemaOf, tempDir, write } from './lib/silt.ts';

const DIM = 32;
const { values: args } = parseArgs({ options: {
  namespaces: { type: 'string', default: '200' }, docs: { type: 'string', default: '50' }, 'latency-ms': { type: 'string', default: '20' },
} });
const NAMESPACES = Number(args.namespaces);
const DOCS = Number(args.docs);
const LATENCY_MS = Number(args['latency-ms']);

/** Adds a fixed delay to every request, as a remote S3 would. */
class SlowStore implements ObjectStore {
  latencyMs = 0;
  constructor(private readonly inner: ObjectStore) {}
  private wait() {
    return this.latencyMs > 0 ? new Promise((r) => setTimeout(r, this.latencyMs)) : Promise.resolve();
  }
  async get(key: string, range?: ByteRange, options?: GetOptions) { await this.wait(); return this.inner.get(key, range, options); }
  async head(key: string) { await this.wait(); return this.inner.head(key); }
  async put(key: string, body: Uint8Array, condition?: PutCondition) { await this.wait(); return this.inner.put(key, body, condition); }
  async list(prefix: string, options?: Parameters<ObjectStore['list']>[1]) { await this.wait(); return this.inner.list(prefix, options); }
  async delete(key: string) { await this.wait(); return this.inner.delete(key); }
}

const dir = await tempDir('shutdown-flush');
const s3 = await startS3Process(join(dir, 's3'));
const store = s3Store(s3);
const slow = new SlowStore(store);
const silt = await inProcessSilt(dir, indexingOptions(), slow);
const schema = schemaOf({ vector_dim: DIM });

async function tails(prefix: string): Promise<Namespace[]> {
  const out: Namespace[] = [];
  for (let i = 0; i < NAMESPACES; i++) {
    const ns = await createNamespace(silt.catalog, `${prefix}-${i}`, schema);
    await write(ns, Array.from({ length: DOCS }, (_, d) => ({
      id: BigInt(d), vector: Float32Array.from({ length: DIM }, (_, k) => Math.sin(i * 31 + d * 7 + k)), attributes: {},
    })));
    out.push(ns);
  }
  return out;
}

const rows: Array<Array<string | number>> = [];
const results: Array<{ mode: string; latencyMs: number; seconds: number; tailsPerSec: number }> = [];
// The first run starts the build thread; it is repeated at the end so that both modes run warm.
const runs = [0, LATENCY_MS].flatMap((latencyMs) => (['flushAll', 'one by one', 'flushAll'] as const).map((mode) => ({ mode, latencyMs })));
for (const [i, { mode, latencyMs }] of runs.entries()) {
  slow.latencyMs = 0;
  const namespaces = await tails(`r${i}`);
  slow.latencyMs = latencyMs;
  const started = performance.now();
  if (mode === 'one by one') {
    for (const ns of namespaces) await flushTail(ns);
  } else {
    const r = await flushAll(namespaces, { concurrency: SHUTDOWN_FLUSH_CONCURRENCY, deadline: Infinity });
    if (r.flushed !== NAMESPACES) throw new Error(`flushed ${r.flushed} of ${NAMESPACES}`);
  }
  const seconds = (performance.now() - started) / 1000;
  results.push({ mode, latencyMs, seconds, tailsPerSec: NAMESPACES / seconds });
  const label = mode === 'flushAll' ? `flushAll, ${SHUTDOWN_FLUSH_CONCURRENCY} at a time` : mode;
  rows.push([label, latencyMs, NAMESPACES, fmt(seconds, 2), fmt(NAMESPACES / seconds, 1)]);
}
printTable(`shutdown flush: ${NAMESPACES} tails × ${DOCS} docs × ${DIM}-d, local S3 server`, ['mode', 'added latency ms', 'tails', 'seconds', 'tails/s'], rows);
writeResult('shutdown-flush', { namespaces: NAMESPACES, docs: DOCS, dim: DIM, results });
await silt.close();
store.close();
await s3.stop();
await rm(dir, { recursive: true, force: true });
