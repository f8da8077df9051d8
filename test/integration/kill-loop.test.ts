// SIGKILL in a loop on real processes, during ingest, flush, compaction and GC: nothing
// acknowledged is lost and the namespace indexes again after every restart. A few rounds here;
// `npm run soak -- --rounds N` runs the same loop for longer (scripts/soak.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runKillLoop } from '../support/kill-loop.ts';

test('repeated SIGKILLs during ingest, flush and compaction lose nothing and never wedge the namespace', async () => {
  const result = await runKillLoop({ rounds: 3, seed: Number(process.env.SILT_TEST_SEED ?? 3), maxIngestMs: 2000 });
  assert.ok(result.acknowledged > 0);
  assert.ok(result.segmentsAtEnd > 0);
});
