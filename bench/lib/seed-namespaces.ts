// Writes namespaces straight into a local storage root with the engine's own code (the catalog,
// a write to the WAL, a flush into a segment), the objects a node would have written for the
// same requests over HTTP, several processes at once. namespace-bound --seed uses it to reach
// 100,000 namespaces: over HTTP one node creates and writes 10–30 namespaces a second here
// (docs/benchmarks.md, "namespace-bound"), which 100k would take hours at.
//
//   npx tsx bench/lib/seed-namespaces.ts ROOT FROM TO
import { tmpdir } from 'node:os';
import { loadConfig } from '../../src/config/index.ts';
import { NamespaceCatalog } from '../../src/indexer/catalog.ts';
import { flushTail } from '../../src/indexer/flush.ts';
import { parseNamespaceSchema } from '../../src/schema/parse.ts';
import { BuildPool } from '../../src/segment/build-pool.ts';
import { LocalFsObjectStore } from '../../src/storage/local-fs.ts';

const CONCURRENT = 32;
export const SEED_DIM = 32;
export const SEED_DOCS = 100;
export const SEED_SCHEMA = { vector_dim: SEED_DIM, vector_metric: 'cosine', attributes: { n: { type: 'integer' } } } as const;

/** Document d of namespace ns's vector: what the bench's queries look for. */
export const seedVector = (ns: number, d: number) => Array.from({ length: SEED_DIM }, (_, k) => Math.sin(ns * 131 + d * 17 + k * 3));

async function seed(root: string, from: number, to: number): Promise<void> {
  const config = loadConfig({ argv: [], env: {} });
  const builds = new BuildPool({ threads: 1 });
  const catalog = new NamespaceCatalog({ store: new LocalFsObjectStore(root), maxBatchBytes: 64 << 20, indexing: config.indexing, tmpDir: tmpdir(), builds });
  const schema = parseNamespaceSchema(SEED_SCHEMA);
  // Mostly waiting on fsync (a CPU profile of 200 one at a time: 14 of 18 s idle), so many at once.
  let next = from;
  await Promise.all(Array.from({ length: CONCURRENT }, async () => {
    while (next < to) {
      const i = next++;
      const name = `ns-${i}`;
      await catalog.create(name, schema);
      const ns = await catalog.get(name);
      await ns.write({ kind: 'upsert', docs: Array.from({ length: SEED_DOCS }, (_, d) => ({ id: BigInt(d), vector: Float32Array.from(seedVector(i, d)), attributes: { n: d } })) });
      await flushTail(ns);
      await catalog.evict(ns);
    }
  }));
  await catalog.close(new Error('seeding done'));
  await builds.close();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [root, from, to] = process.argv.slice(2);
  await seed(root!, Number(from), Number(to));
}
