// Graceful shutdown folds the tails of all open namespaces together, a bounded number at a time
// (one by one it flushed 61 of 5,000 before its budget ran out), and starts none past its deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flushAll } from '../../src/indexer/flush-all.ts';
import type { Namespace } from '../../src/indexer/namespace.ts';

const fakes = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `ns-${i}` }) as Namespace);

test('flushAll runs up to `concurrency` flushes at once and counts their outcomes', async () => {
  const CONCURRENCY = 8;
  let running = 0;
  let peak = 0;
  const waiting: Array<() => void> = [];
  const flush = (ns: Namespace) => new Promise<boolean>((resolve, reject) => {
    running++;
    peak = Math.max(peak, running);
    waiting.push(() => {
      running--;
      if (ns.name === 'ns-3') reject(new Error('injected')); else resolve(ns.name !== 'ns-4');
    });
  });
  const failed: string[] = [];
  const done = flushAll(fakes(40), { concurrency: CONCURRENCY, deadline: Infinity, flush, onError: (ns) => failed.push(ns.name) });
  // Release one flush at a time: each release lets exactly one waiting flush start.
  for (let released = 0; released < 40; released++) {
    const expected = Math.min(CONCURRENCY, 40 - released);
    for (let spins = 0; spins < 100 && running < expected; spins++) await new Promise((r) => setImmediate(r));
    assert.equal(running, expected, 'flushes running at once');
    waiting.shift()!();
  }
  assert.deepEqual(await done, { flushed: 38, failed: 1, skipped: 0 });
  assert.equal(peak, CONCURRENCY);
  assert.deepEqual(failed, ['ns-3']);
});

test('flushAll starts no flush after its deadline', async () => {
  let clock = 0;
  const skipped: string[] = [];
  const result = await flushAll(fakes(5), {
    concurrency: 1, deadline: 2, now: () => clock,
    flush: async () => { clock++; return true; },
    onSkipped: (ns) => skipped.push(ns.name),
  });
  assert.deepEqual(result, { flushed: 3, failed: 0, skipped: 2 });
  assert.deepEqual(skipped, ['ns-3', 'ns-4']);
});
