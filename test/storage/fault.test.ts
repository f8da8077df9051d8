// The fault-injecting wrapper: what each fault does to the call and to the stored state, that
// crashes are permanent, and that a seed replays the same faults.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FaultyObjectStore } from '../../src/storage/fault.ts';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { isStorageError } from '../../src/storage/errors.ts';
import { withRetry } from '../../src/storage/retry.ts';
import { rng } from '../support/rng.ts';

const body = (s: string) => Buffer.from(s);
const faulty = (inner = new MemoryObjectStore(), seed = 1) => new FaultyObjectStore(inner, { random: rng(seed), sleep: async () => {} });

describe('FaultyObjectStore', () => {
  it('passes calls through when no rule matches', async () => {
    const inner = new MemoryObjectStore();
    const store = faulty(inner);
    store.inject({ ops: ['put'], key: /^other\//, fault: { type: 'error' } });
    await store.put('a/1', body('x'));
    assert.equal((await store.get('a/1')).body.toString(), 'x');
    assert.deepEqual(store.journal, [{ op: 'put', key: 'a/1' }]);
  });

  it('error and timeout fail without reaching the store', async () => {
    const inner = new MemoryObjectStore();
    const store = faulty(inner);
    const remove = store.inject({ ops: ['put'], fault: { type: 'error' } });
    await assert.rejects(store.put('k', body('x')), (e) => isStorageError(e, 'transient'));
    remove();
    store.inject({ ops: ['put'], nth: 1, fault: { type: 'timeout', ms: 5 } });
    await assert.rejects(store.put('k', body('x')), (e) => isStorageError(e, 'transient'));
    assert.equal(await inner.head('k'), null);
    store.inject({ ops: ['get'], fault: { type: 'error', kind: 'permanent' } });
    await assert.rejects(store.get('k'), (e) => isStorageError(e, 'permanent'));
  });

  it('latency delays the call and then performs it', async () => {
    const slept: number[] = [];
    const store = new FaultyObjectStore(new MemoryObjectStore(), { random: rng(1), sleep: async (ms) => { slept.push(ms); } });
    store.inject({ fault: { type: 'latency', ms: 40 } });
    await store.put('k', body('x'));
    assert.equal((await store.get('k')).body.toString(), 'x');
    assert.deepEqual(slept, [40, 40]);
  });

  it('lost_response applies the put, then fails it; a retried conditional put then finds its own bytes', async () => {
    const inner = new MemoryObjectStore();
    const store = faulty(inner);
    store.inject({ ops: ['put'], nth: 1, fault: { type: 'lost_response' } });
    await assert.rejects(store.put('k', body('mine'), { ifNoneMatch: '*' }), (e) => isStorageError(e, 'transient'));
    assert.equal((await inner.get('k')).body.toString(), 'mine', 'the write happened');
    store.inject({ ops: ['put'], nth: 1, fault: { type: 'lost_response' } });
    const retried = withRetry(store, { maxRetries: 2, baseDelayMs: 0, maxDelayMs: 0 });
    const { etag } = await retried.put('k2', body('mine'), { ifNoneMatch: '*' });
    assert.equal(etag, (await inner.get('k2')).etag);
  });

  it('crash before a put: the put does not land, and every later call fails', async () => {
    const inner = new MemoryObjectStore();
    const store = faulty(inner);
    store.inject({ ops: ['put'], key: /\/manifest\//, nth: 2, fault: { type: 'crash', when: 'before' } });
    await store.put('ns/manifest/1', body('1'));
    await store.put('ns/wal/1', body('w')); // not matching: not counted
    await assert.rejects(store.put('ns/manifest/2', body('2')), /injected crash/);
    assert.ok(store.crashed);
    assert.equal(await inner.head('ns/manifest/2'), null);
    await assert.rejects(store.get('ns/manifest/1'), /injected crash/);
    await assert.rejects(store.list('ns/'), /injected crash/);
    store.clear();
    await assert.rejects(store.delete('ns/wal/1'), /injected crash/, 'clear() does not bring a dead process back');
    assert.deepEqual(store.journal.map((m) => m.key), ['ns/manifest/1', 'ns/wal/1']);
  });

  it('crash after a put: the put lands, its caller sees a failure', async () => {
    const inner = new MemoryObjectStore();
    const store = faulty(inner);
    store.inject({ ops: ['put', 'delete'], nth: 1, fault: { type: 'crash', when: 'after' } });
    await assert.rejects(store.put('k', body('x')), /injected crash/);
    assert.equal((await inner.get('k')).body.toString(), 'x');
    assert.ok(store.crashed);
  });

  it('probabilistic faults replay exactly for the same seed', async () => {
    const run = async (seed: number) => {
      const store = faulty(new MemoryObjectStore(), seed);
      store.inject({ probability: 0.3, fault: { type: 'error' } });
      const outcomes: boolean[] = [];
      for (let i = 0; i < 200; i++) outcomes.push(await store.put(`k${i}`, body('x')).then(() => true, () => false));
      return outcomes;
    };
    const a = await run(7);
    assert.deepEqual(await run(7), a);
    assert.notDeepEqual(await run(8), a);
    const failures = a.filter((ok) => !ok).length;
    assert.ok(failures > 30 && failures < 90, `${failures} of 200 failed at p = 0.3`);
  });

  it('times bounds how often a rule fires', async () => {
    const store = faulty();
    store.inject({ ops: ['put'], times: 2, fault: { type: 'error' } });
    const outcomes = [];
    for (let i = 0; i < 4; i++) outcomes.push(await store.put(`k${i}`, body('x')).then(() => true, () => false));
    assert.deepEqual(outcomes, [false, false, true, true]);
    assert.equal(store.fired.error, 2);
  });
});
