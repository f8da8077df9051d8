import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildSegment, buildSegmentInWorker } from '../../src/segment/index.ts';
import { openBytes, randomInput, withoutNulls } from './helpers.ts';

test('a worker build is byte-identical to an in-thread build', async () => {
  for (const metric of ['cosine', 'dot'] as const) {
    const input = randomInput({ rows: 1200, dim: 16, metric, seed: 21 });
    const inThread = await buildSegment(input);
    const inWorker = await buildSegmentInWorker(input);
    assert.ok(inWorker.bytes.equals(inThread.bytes), metric);
    assert.deepEqual(inWorker.meta, inThread.meta);
    // The caller's arrays are copied, not detached, unless transfer is asked for.
    assert.equal(input.vectors.length, 1200 * 16);
    const reader = await openBytes(inWorker.bytes, input.schema);
    assert.deepEqual(reader.attributes(5), withoutNulls(input.attributes[5]!));
    reader.close();
  }
});

test('transfer: true moves the vectors instead of copying them', async () => {
  const input = randomInput({ rows: 50, dim: 4, metric: 'cosine', seed: 22 });
  const expected = await buildSegment(input);
  const built = await buildSegmentInWorker(input, { transfer: true });
  assert.ok(built.bytes.equals(expected.bytes));
  assert.equal(input.vectors.length, 0, 'detached');
});

test('an error in the worker rejects with its message', async () => {
  const input = randomInput({ rows: 20, dim: 4, metric: 'cosine', seed: 23 });
  input.ids[3] = input.ids[0]!;
  await assert.rejects(buildSegmentInWorker(input), /duplicate id/);
});

test('the worker loads under the tsx CLI too', async () => {
  const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
  const script = fileURLToPath(new URL('./fixtures/worker-build.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(tsx, [script], { timeout: 30_000 });
  assert.equal(JSON.parse(stdout).identical, true);
});
