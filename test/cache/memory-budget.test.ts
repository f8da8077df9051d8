// One memory budget per node: the memory tier's parts (segment readers, cluster blocks, …) share
// one LRU, and what open namespaces and views hold is taken from the same cache.memory_size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBudget, NAMESPACE_SHARE } from '../../src/cache/index.ts';

const value = (bytes: number) => async () => ({ value: { bytes }, bytes });

test('the memory tier\'s parts share one byte bound, the coldest entry evicted whatever its kind', async () => {
  const budget = new MemoryBudget(1000);
  const readers = budget.cache<{ bytes: number }>('readers');
  const clusters = budget.cache<{ bytes: number }>('clusters');
  await readers.get('a', value(400));
  await clusters.get('a', value(400)); // the same key in another part is another entry
  assert.equal(readers.stats().entries, 1);
  assert.equal(clusters.stats().entries, 1);
  await readers.get('a', value(400)); // readers' 'a' is now the most recently used
  await clusters.get('b', value(400)); // over 1000: clusters' 'a', the coldest, goes
  assert.equal(clusters.peek('a'), undefined);
  assert.ok(readers.peek('a'));
  assert.deepEqual(budget.tier.bytesByKind(), { readers: 400, clusters: 400 });
  assert.equal(budget.tier.stats().bytes, 800);
  assert.equal(clusters.stats().evictions, 1);
});

test('what the namespaces hold is taken from the tier, which evicts down to the rest at once', async () => {
  const budget = new MemoryBudget(1000);
  const readers = budget.cache<{ bytes: number }>('readers');
  for (const k of ['a', 'b', 'c', 'd']) await readers.get(k, value(200));
  budget.report('namespaces', 500);
  assert.equal(budget.tier.capacity, 500);
  assert.ok(budget.tier.bytes <= 500, `${budget.tier.bytes} bytes in the tier`);
  assert.ok(readers.peek('d'), 'the most recently used stays');
  assert.ok(budget.stats().total <= 1000);
  // Namespaces never take the tier's own share.
  budget.report('namespaces', 5000);
  assert.equal(budget.tier.capacity, 1000 * (1 - NAMESPACE_SHARE));
});

test('owned namespaces and views share the namespaces\' part, each keeping half of it when the other is full', () => {
  const budget = new MemoryBudget(1000);
  const share = 1000 * NAMESPACE_SHARE;
  assert.equal(budget.allowance('namespaces'), share);
  budget.report('views', 100);
  assert.equal(budget.allowance('namespaces'), share - 100);
  budget.report('views', share);
  assert.equal(budget.allowance('namespaces'), share / 2);
  assert.throws(() => budget.report('postings', 1), /no holder 'postings'/);
});
