// The warm-up a node runs before it listens (src/warm-up.ts): the cold query path, through the
// node's routes, over a namespace of its own in memory, on the node's query pool. Any request
// of it that fails rejects it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ScanPool } from '../../src/segment/scan-pool.ts';
import { warmUp } from '../../src/warm-up.ts';
import { TEST_INDEXING } from '../support/app.ts';

const log = pino({ level: 'silent' });

test('the warm-up runs the query path, its scans on the node\'s query pool once its threads are up', async () => {
  // minTaskRows 0: every scan of the warm-up's small segment goes to the pool's threads.
  const scans = new ScanPool({ threads: 2, minTaskRows: 0, minRankComponents: 0 });
  try {
    await scans.warm();
    const before = scans.stats();
    assert.ok((await warmUp(TEST_INDEXING, log, scans)) > 0);
    const after = scans.stats();
    assert.ok(after.tasks > before.tasks && after.fallbacks === before.fallbacks, `scans ran on the pool's threads: ${JSON.stringify(after)}`);
  } finally {
    await scans.close();
  }
});

test('the warm-up runs without a query pool', async () => {
  assert.ok((await warmUp(TEST_INDEXING, log)) > 0);
});
