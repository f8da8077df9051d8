// An empty tail must not cost 1,024 × dim floats: a node holds one per open namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Memtable } from '../../src/namespace/memtable.ts';
import { parseNamespaceSchema } from '../../src/schema/parse.ts';

const DIM = 128;
const schema = parseNamespaceSchema({ vector_dim: DIM, attributes: {} });

test('an empty tail allocates a few rows and grows by doubling as rows arrive', () => {
  const m = new Memtable(schema);
  assert.ok(m.vectorData().length <= 16 * DIM, `${m.vectorData().length / DIM} rows allocated`);
  const rows = 1000;
  const capacities = new Set<number>();
  for (let i = 0; i < rows; i++) {
    m.upsert({ id: BigInt(i), vector: new Float32Array(DIM).fill(i), attributes: {} }, i + 1);
    capacities.add(m.vectorData().length);
  }
  // Amortized O(1) appends: a handful of reallocations, not one per row.
  assert.ok(capacities.size <= 8, `${capacities.size} allocations for ${rows} rows`);
  for (const i of [0, 15, 16, 17, 999]) {
    const off = m.vectorOffset(m.rowOf(BigInt(i))!);
    assert.deepEqual(m.vectorData().subarray(off, off + DIM), new Float32Array(DIM).fill(i));
    assert.equal(m.vectorNorm(i), Math.fround(Math.sqrt(DIM * i * i)));
  }
});
