// MemoryCache: one load per key under concurrency, a byte budget enforced by recency, and
// failures and oversized values never kept.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryCache } from '../../src/cache/memory-cache.ts';

function loader<V>(value: V, bytes: number) {
  const load = async () => { load.calls++; return { value, bytes }; };
  load.calls = 0;
  return load;
}
const never = async (): Promise<never> => { throw new Error('load must not be called: expected a hit'); };

describe('MemoryCache', () => {
  it('shares one load among concurrent callers, then hits', async () => {
    const cache = new MemoryCache<{ n: number }>(1000);
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const value = { n: 42 };
    const load = async () => { calls++; await gate; return { value, bytes: 10 }; };
    const gets = Array.from({ length: 10 }, () => cache.get('k', load));
    release();
    for (const v of await Promise.all(gets)) assert.equal(v, value);
    assert.equal(calls, 1);
    assert.equal(await cache.get('k', never), value);
    assert.deepEqual(cache.stats(), { entries: 1, bytes: 10, max_bytes: 1000, hits: 1, misses: 1, evictions: 0 });
  });

  it('evicts the least recently used entries to stay within maxBytes, counting evictions', async () => {
    const cache = new MemoryCache<string>(100);
    await cache.get('a', loader('A', 40));
    await cache.get('b', loader('B', 40));
    await cache.get('a', never); // a is now more recent than b
    await cache.get('c', loader('C', 40));
    assert.equal(cache.peek('b'), undefined);
    assert.equal(cache.peek('a'), 'A');
    assert.equal(cache.peek('c'), 'C');
    await cache.get('d', loader('D', 90)); // needs both a and c gone
    assert.deepEqual(cache.stats(), { entries: 1, bytes: 90, max_bytes: 100, hits: 1, misses: 4, evictions: 3 });
  });

  it('hit() and set(): a lookup without a promise counts a hit or a miss; set replaces and recharges an entry', () => {
    const cache = new MemoryCache<string>(100);
    assert.equal(cache.hit('p'), undefined);
    cache.set('p', 'one', 30);
    assert.equal(cache.hit('p'), 'one');
    cache.set('p', 'two', 50);
    assert.equal(cache.hit('p'), 'two');
    assert.deepEqual(cache.stats(), { entries: 1, bytes: 50, max_bytes: 100, hits: 2, misses: 1, evictions: 0 });
    cache.set('p', 'too big', 200);
    assert.equal(cache.peek('p'), undefined, 'a value that does not fit drops the old one');
    assert.deepEqual(cache.stats(), { entries: 0, bytes: 0, max_bytes: 100, hits: 2, misses: 1, evictions: 0 });
  });

  it('does not keep a rejected load; the next get retries', async () => {
    const cache = new MemoryCache<string>(100);
    let calls = 0;
    const failing = async (): Promise<{ value: string; bytes: number }> => {
      calls++;
      await new Promise((r) => setTimeout(r, 5));
      throw new Error('decode failed');
    };
    const gets = [cache.get('k', failing), cache.get('k', failing), cache.get('k', failing)];
    for (const g of gets) await assert.rejects(g, /decode failed/);
    assert.equal(calls, 1);
    assert.equal(cache.peek('k'), undefined);
    // A loader that throws before returning a promise is a rejection too, and is not stuck in flight.
    await assert.rejects(cache.get('k', () => { throw new Error('sync'); }), /sync/);
    const ok = loader('v', 1);
    assert.equal(await cache.get('k', ok), 'v');
    assert.equal(ok.calls, 1);
  });

  it('returns but does not keep a value larger than maxBytes, or anything with maxBytes 0', async () => {
    const cache = new MemoryCache<string>(100);
    await cache.get('small', loader('s', 60));
    const big = loader('B', 101);
    assert.equal(await cache.get('big', big), 'B');
    assert.equal(await cache.get('big', big), 'B');
    assert.equal(big.calls, 2);
    assert.equal(cache.peek('small'), 's', 'an oversized value must not push others out');
    assert.equal(cache.stats().evictions, 0);

    const off = new MemoryCache<string>(0);
    const load = loader('x', 0);
    assert.equal(await off.get('k', load), 'x');
    assert.equal(await off.get('k', load), 'x');
    assert.equal(load.calls, 2);
    assert.equal(off.stats().entries, 0);
  });

  it('delete drops a value, and a value still loading when deleted is not kept', async () => {
    const cache = new MemoryCache<string>(100);
    await cache.get('k', loader('old', 5));
    cache.delete('k');
    assert.equal(cache.peek('k'), undefined);
    assert.equal(cache.stats().bytes, 0);
    assert.equal(cache.stats().evictions, 0, 'a delete is not an eviction');

    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const pending = cache.get('k', async () => { await gate; return { value: 'stale', bytes: 5 }; });
    cache.delete('k');
    release();
    assert.equal(await pending, 'stale');
    assert.equal(cache.peek('k'), undefined);
  });
});
