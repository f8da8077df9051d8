import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BuildPool, backlogThreads, buildSegment, buildThreads } from '../../src/segment/index.ts';
import { openBytes, randomInput, withoutNulls } from './helpers.ts';

test('a pool build is byte-identical to an in-thread build', async () => {
  const pool = new BuildPool({ threads: 1 });
  try {
    for (const metric of ['cosine', 'dot'] as const) {
      const input = randomInput({ rows: 1200, dim: 16, metric, seed: 21 });
      const inThread = await buildSegment(input);
      const inWorker = (await pool.build(() => input))!;
      assert.ok(inWorker.bytes.equals(inThread.bytes), metric);
      assert.deepEqual(inWorker.meta, inThread.meta);
      // The caller's arrays are copied, not detached, unless transfer is asked for.
      assert.equal(input.vectors.length, 1200 * 16);
      const reader = await openBytes(inWorker.bytes, input.schema);
      assert.deepEqual(reader.attributes(5), withoutNulls(input.attributes[5]!));
      reader.close();
    }
    assert.equal(pool.stats().completed, 2);
  } finally {
    await pool.close();
  }
});

test('transfer: true moves the vectors instead of copying them', async () => {
  const pool = new BuildPool({ threads: 1 });
  const input = randomInput({ rows: 50, dim: 4, metric: 'cosine', seed: 22 });
  const expected = await buildSegment(input);
  const built = (await pool.build(() => input, { transfer: true }))!;
  await pool.close();
  assert.ok(built.bytes.equals(expected.bytes));
  assert.equal(input.vectors.length, 0, 'detached');
});

test('a failed build rejects with its message and the thread serves the next build', async () => {
  const pool = new BuildPool({ threads: 1 });
  try {
    const bad = randomInput({ rows: 20, dim: 4, metric: 'cosine', seed: 23 });
    bad.ids[3] = bad.ids[0]!;
    await assert.rejects(pool.build(() => bad), /duplicate id/);
    const badHnsw = { ...randomInput({ rows: 20, dim: 4, metric: 'cosine', seed: 24 }), hnsw: { m: 1, efConstruction: 10 } };
    await assert.rejects(pool.build(() => badHnsw), /hnsw m must be an integer >= 2/);
    const good = randomInput({ rows: 20, dim: 4, metric: 'cosine', seed: 25 });
    assert.ok((await pool.build(() => good))!.bytes.equals((await buildSegment(good)).bytes));
    assert.deepEqual({ ...pool.stats(), threads: 0 }, { threads: 0, max_threads: 1, active: 0, queued: 0, completed: 1, failed: 2 });
  } finally {
    await pool.close();
  }
});

test('a thread that dies fails only its own build; the pool replaces it', async () => {
  const pool = new BuildPool({ threads: 2, workerFile: new URL('./fixtures/crash-worker.mjs', import.meta.url) });
  try {
    const input = (rows: number, seed: number) => randomInput({ rows, dim: 4, metric: 'l2', seed });
    const [crashed, ...others] = await Promise.allSettled([
      pool.build(() => input(13, 1)), pool.build(() => input(30, 2)), pool.build(() => input(31, 3)), pool.build(() => input(32, 4)),
    ]);
    assert.equal(crashed!.status, 'rejected');
    assert.match(String((crashed as PromiseRejectedResult).reason), /exit/i);
    assert.deepEqual(others.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled']);
    const after = (await pool.build(() => input(40, 5)))!;
    assert.ok(after.bytes.equals((await buildSegment(input(40, 5))).bytes));
    assert.ok(pool.stats().threads <= 2);
  } finally {
    await pool.close();
  }
});

test('builds wait in arrival order for a free thread; their input is prepared only then', async () => {
  const pool = new BuildPool({ threads: 1 });
  try {
    const prepared: string[] = [];
    let maxActive = 0;
    const builds = ['a', 'b', 'c', 'd'].map((name, i) => pool.build(() => {
      prepared.push(name);
      maxActive = Math.max(maxActive, pool.stats().active);
      // Every other build is queued while this one runs.
      assert.equal(pool.stats().queued, 3 - i);
      return randomInput({ rows: 40, dim: 4, metric: 'cosine', seed: i });
    }));
    assert.deepEqual(prepared, [], 'nothing is prepared before a thread is free');
    await Promise.all(builds);
    assert.deepEqual(prepared, ['a', 'b', 'c', 'd']);
    assert.equal(maxActive, 1);
  } finally {
    await pool.close();
  }
});

test('build_threads 0 means one less than the cores, at least 1', () => {
  assert.equal(buildThreads(0, 8), 7);
  assert.equal(buildThreads(0, 2), 1);
  assert.equal(buildThreads(0, 1), 1);
  assert.equal(buildThreads(3, 8), 3);
  assert.equal(backlogThreads(0, 2), 2, 'a backlog is built on every core');
  assert.equal(backlogThreads(3, 8), 3, 'a configured size is a hard cap');
});

test('a backlog build passes queued ordinary builds onto a backlog thread; ordinary builds stay within threads', async () => {
  const pool = new BuildPool({ threads: 1, backlogThreads: 2 });
  try {
    const order: string[] = [];
    const seen: Record<string, { active: number; queued: number }> = {};
    const build = (name: string, backlog: boolean) => pool.build(() => {
      order.push(name);
      seen[name] = { active: pool.stats().active, queued: pool.stats().queued };
      return randomInput({ rows: 40, dim: 4, metric: 'cosine', seed: name.length });
    }, { backlog });
    await Promise.all([build('a', false), build('b', false), build('piece', true)]);
    assert.deepEqual(order, ['a', 'piece', 'b']);
    assert.deepEqual(seen['piece'], { active: 2, queued: 1 }, 'the backlog build ran beside a while b waited');
    assert.equal(pool.stats().max_threads, 1);
  } finally {
    await pool.close();
  }
});

test('the worker loads under the tsx CLI too', async () => {
  const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
  const script = fileURLToPath(new URL('./fixtures/worker-build.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(tsx, [script], { timeout: 30_000 });
  assert.equal(JSON.parse(stdout).identical, true);
});
