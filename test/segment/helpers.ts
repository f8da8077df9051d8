// Random segment inputs and an in-memory section reader for the segment tests.
import { toNameRecord } from '../../src/schema/records.ts';
import type { AttributeValue, DocId, FullTextOptions, NamespaceSchema, VectorMetric } from '../../src/schema/types.ts';
import { readSegmentMeta, SegmentReader, type SegmentInput } from '../../src/segment/index.ts';
import type { Probes, RankDirectory } from '../../src/segment/ivf-centroids.ts';
import { shortlistsReady } from '../../src/segment/ivf-shortlist.ts';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { rng } from '../support/rng.ts';
export { rng };

export const ENGLISH: FullTextOptions = {
  language: 'english', stemming: true, remove_stopwords: true, case_sensitive: false, k1: 1.2, b: 0.75,
};
export const PLAIN: FullTextOptions = {
  language: 'none', stemming: false, remove_stopwords: false, case_sensitive: false, k1: 1.2, b: 0.75,
};

export function schemaOf(dim: number, metric: VectorMetric): NamespaceSchema {
  return {
    vector_dim: dim,
    vector_metric: metric,
    attributes: {
      title: { type: 'string', full_text: ENGLISH, filterable: true },
      tags: { type: 'array<string>', full_text: PLAIN, filterable: true },
      label: { type: 'string', full_text: null, filterable: true },
      count: { type: 'integer', full_text: null, filterable: true },
      price: { type: 'float', full_text: null, filterable: true },
      flag: { type: 'boolean', full_text: null, filterable: true },
      sizes: { type: 'array<integer>', full_text: null, filterable: true },
      empty: { type: 'integer', full_text: null, filterable: false },
    },
  };
}


const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'running', 'runs', 'the', 'of', 'omega', 'sigma',
  'café', 'naïve', 'über', 'zebra', 'Quick', "dog's", '東京', '𝔘nicode', 'x1', 'tau'];

export function randomText(rand: () => number, maxWords: number): string {
  const n = Math.floor(rand() * maxWords);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(rand() * WORDS.length)]!);
  return out.join(' ');
}

function randomId(rand: () => number, row: number): DocId {
  switch (row % 4) {
    case 0: return BigInt(row);
    case 1: return (1n << 53n) + BigInt(row) * 0x1_0000_0001n + BigInt(Math.floor(rand() * 1000)) * (1n << 40n); // > 2^53
    case 2: return row === 2 ? (1n << 64n) - 1n : `doc-${row}-${WORDS[row % WORDS.length]}`;
    default: return `ü${row.toString(36)}`;
  }
}

/** A value; one time in ten missing, one time in ten an explicit null. */
function maybe<T extends AttributeValue>(rand: () => number, make: () => T): T | null | undefined {
  const r = rand();
  if (r < 0.1) return undefined;
  if (r < 0.2) return null;
  return make();
}

export function randomInput(opts: { rows: number; dim: number; metric: VectorMetric; seed: number; vectorShare?: number }): SegmentInput {
  const rand = rng(opts.seed);
  const { rows, dim } = opts;
  const ids: DocId[] = [];
  const vectors = new Float32Array(rows * dim);
  const hasVector = new Uint8Array(rows);
  const attributes: Record<string, AttributeValue>[] = [];
  for (let row = 0; row < rows; row++) {
    ids.push(randomId(rand, row));
    if (rand() < (opts.vectorShare ?? 0.9)) {
      hasVector[row] = 1;
      for (let i = 0; i < dim; i++) vectors[row * dim + i] = rand() * 2 - 1;
    } else {
      for (let i = 0; i < dim; i++) vectors[row * dim + i] = 99; // ignored: the row has no vector
    }
    const a: Record<string, AttributeValue> = {};
    const set = (name: string, v: AttributeValue | undefined) => { if (v !== undefined) a[name] = v; };
    set('title', maybe(rand, () => randomText(rand, 60)));
    set('tags', maybe(rand, () => Array.from({ length: Math.floor(rand() * 4) }, () => randomText(rand, 3))));
    set('label', maybe(rand, () => WORDS[Math.floor(rand() * WORDS.length)]!));
    set('count', maybe(rand, () => Math.floor((rand() - 0.5) * 2 ** 54)));
    set('price', maybe(rand, () => (rand() - 0.5) * 1e6));
    set('flag', maybe(rand, () => rand() < 0.5));
    set('sizes', maybe(rand, () => Array.from({ length: Math.floor(rand() * 4) }, () => Math.floor(rand() * 100) - 50)));
    attributes.push(a);
  }
  return {
    schema: schemaOf(dim, opts.metric), ids, vectors, hasVector, attributes,
    hnsw: { m: 16, efConstruction: 100, seed: 42 },
  };
}

/** Opens a built segment through readSection over the bytes, as ranged reads would. */
export async function openBytes(bytes: Buffer, schema: NamespaceSchema, log?: string[]): Promise<SegmentReader> {
  const meta = readSegmentMeta(bytes.subarray(Math.max(0, bytes.length - 65_536)), bytes.length);
  return SegmentReader.open({
    meta,
    schema,
    tmpDir: tmpdir(),
    readSection: async (name, { offset, length }) => {
      log?.push(name);
      // A copy at an odd offset: readers must not assume alignment of what they are given.
      const out = Buffer.alloc(length + 1);
      bytes.copy(out, 1, offset, offset + length);
      return out.subarray(1);
    },
  });
}

/** The attributes a reader returns for an input row: nulls and missing values left out. */
/** The row as a reader returns it: nulls left out, in a null-prototype record (schema/records.ts). */
export function withoutNulls(a: Record<string, AttributeValue>): Record<string, AttributeValue> {
  return toNameRecord(Object.fromEntries(Object.entries(a).filter(([, v]) => v !== null)));
}

/** A ranking's probes as plain arrays, for deepEqual. */
export const probesOf = (p: Probes) => ({ segments: Array.from(p.segments), clusters: Array.from(p.clusters) });

/** Random centroids in a SharedArrayBuffer, as an IVF directory holds them for the query pool. */
export function sharedCentroids(rand: () => number, clusters: number, dim: number): RankDirectory {
  const centroids = new Float32Array(new SharedArrayBuffer(clusters * dim * 4));
  for (let i = 0; i < centroids.length; i++) centroids[i] = rand() * 2 - 1;
  return { clusters, dim, centroids };
}

/** Once every large directory's native shortlist is built (asking starts the builds); fails after 10 s. */
export async function shortlistsBuilt(dirs: readonly RankDirectory[], metric: VectorMetric): Promise<void> {
  const until = Date.now() + 10_000;
  while (!shortlistsReady(dirs, metric)) {
    assert.ok(Date.now() < until, 'the shortlists are built within 10 s');
    await new Promise((r) => setImmediate(r));
  }
}
