// CachedObjectStore over the real disk tier: what it serves without a store request, and what it
// must never serve from a copy (another incarnation of a reused key, objects rewritten in place,
// failures).

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DiskCache } from '../../src/cache/disk-cache.ts';
import { CachedObjectStore } from '../../src/storage/cached.ts';
import { isStorageError } from '../../src/storage/errors.ts';
import { FaultyObjectStore } from '../../src/storage/fault.ts';
import {
  catalogKey, manifestPointerKey, manifestVersionKey, segmentKey, walKey,
} from '../../src/storage/layout.ts';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { CountingObjectStore } from '../../src/storage/metrics.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';

let dir: string;
let disk: DiskCache;
let backend: MemoryObjectStore;
let counting: CountingObjectStore;
let store: CachedObjectStore;

async function setup(inner: ObjectStore = new MemoryObjectStore()): Promise<void> {
  disk = await DiskCache.open({ dir: path.join(dir, 'objects'), maxBytes: 1 << 30 });
  counting = new CountingObjectStore(inner);
  store = new CachedObjectStore(counting, disk);
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'silt-cached-store-'));
  backend = new MemoryObjectStore();
  await setup(backend);
});
afterEach(async () => {
  await disk.flush(); // background writes still landing would race the removal
  await rm(dir, { recursive: true, force: true });
});

/** GETs that reached the store while `fn` ran. */
async function requests(fn: () => Promise<unknown>): Promise<number> {
  const before = counting.counts().get;
  await fn();
  return counting.counts().get - before;
}

const SEG = segmentKey('ns', 'lx2k3m4n5-0123456789ab');

describe('CachedObjectStore', () => {
  it('serves a segment GET again without a store request, with the same result', async () => {
    const { etag } = await store.put(SEG, Buffer.from('segment bytes'), { ifNoneMatch: '*' });
    const first = await store.get(SEG);
    assert.equal(await requests(async () => {
      const again = await store.get(SEG);
      assert.deepEqual(again, first);
      assert.equal(again.etag, etag);
      assert.equal(again.body.toString(), 'segment bytes');
    }), 0);
    assert.equal(disk.stats().hits, 1);
    assert.equal(disk.stats().misses, 1);
  });

  it('caches each range separately, and a hit keeps the whole object size', async () => {
    await store.put(SEG, Buffer.from('0123456789'));
    assert.equal(await requests(async () => {
      assert.equal((await store.get(SEG, { offset: 2, length: 3 })).body.toString(), '234');
      assert.equal((await store.get(SEG, { offset: 5, length: 3 })).body.toString(), '567');
      assert.equal((await store.get(SEG, { suffix: 2 })).body.toString(), '89');
      assert.equal((await store.get(SEG, { offset: 7 })).body.toString(), '789');
    }), 4);
    assert.equal(await requests(async () => {
      const hit = await store.get(SEG, { offset: 5, length: 3 });
      assert.equal(hit.body.toString(), '567');
      assert.equal(hit.size, 10);
      assert.equal((await store.get(SEG, { offset: 2, length: 3 })).body.toString(), '234');
      assert.equal((await store.get(SEG, { suffix: 2 })).body.toString(), '89');
      assert.equal((await store.get(SEG, { offset: 7 })).body.toString(), '789');
    }), 0);
  });

  it('a re-created namespace\'s WAL object, same key but another etag, is not served from the old copy', async () => {
    const key = walKey('ns', 1);
    const old = await store.put(key, Buffer.from('first incarnation'), { ifNoneMatch: '*' });
    assert.equal((await store.get(key, undefined, { generation: old.etag })).body.toString(), 'first incarnation');
    assert.equal(await requests(() => store.get(key, undefined, { generation: old.etag })), 0, 'cached under its etag');
    // DELETE and create again: seq 1 starts over with other bytes.
    await store.delete(key);
    const renewed = await store.put(key, Buffer.from('second incarnation'), { ifNoneMatch: '*' });
    assert.notEqual(renewed.etag, old.etag);
    assert.equal(await requests(async () => {
      assert.equal((await store.get(key, undefined, { generation: renewed.etag })).body.toString(), 'second incarnation');
    }), 1);
  });

  it('a manifest version is cached under the pointer etag that named it', async () => {
    const key = manifestVersionKey('ns', 1);
    await store.put(key, Buffer.from('{"v":"old"}'));
    assert.equal((await store.get(key, undefined, { generation: 'pointer-a' })).body.toString(), '{"v":"old"}');
    await store.delete(key);
    await store.put(key, Buffer.from('{"v":"new"}'));
    assert.equal((await store.get(key, undefined, { generation: 'pointer-b' })).body.toString(), '{"v":"new"}');
  });

  it('never caches keys rewritten in place or reused without a generation', async () => {
    for (const key of [manifestPointerKey('ns'), catalogKey('ns'), walKey('ns', 1), manifestVersionKey('ns', 1)]) {
      await store.put(key, Buffer.from('one'));
      assert.equal((await store.get(key)).body.toString(), 'one');
      await store.put(key, Buffer.from('two'));
      assert.equal(await requests(async () => {
        assert.equal((await store.get(key)).body.toString(), 'two', key);
      }), 1, key);
    }
    assert.equal(disk.stats().entries, 0);
    assert.equal(disk.stats().misses, 0, 'the cache was not consulted');
  });

  it('does not cache a failure: a missing object, then a failed request', async () => {
    await assert.rejects(store.get(SEG), (e) => isStorageError(e, 'not_found'));
    await store.put(SEG, Buffer.from('now here'));
    assert.equal((await store.get(SEG)).body.toString(), 'now here');

    const faulty = new FaultyObjectStore(new MemoryObjectStore(), { random: () => 0 });
    await setup(faulty);
    const other = segmentKey('ns', 'other');
    await store.put(other, Buffer.from('bytes'));
    faulty.inject({ ops: ['get'], times: 1, fault: { type: 'error', kind: 'transient' } });
    await assert.rejects(store.get(other), (e) => isStorageError(e, 'transient'));
    assert.equal((await store.get(other)).body.toString(), 'bytes');
    assert.equal(await requests(() => store.get(other)), 0);
  });

  it('concurrent GETs of one object share one store request', async () => {
    await store.put(SEG, Buffer.from('shared'));
    assert.equal(await requests(async () => {
      const all = await Promise.all(Array.from({ length: 5 }, () => store.get(SEG)));
      for (const r of all) assert.equal(r.body.toString(), 'shared');
    }), 1);
  });

  it('stays warm across a restart on the same cache directory', async () => {
    await store.put(SEG, Buffer.from('kept'));
    await store.get(SEG, { offset: 1, length: 2 });
    await disk.flush();
    disk = await DiskCache.open({ dir: path.join(dir, 'objects'), maxBytes: 1 << 30 });
    store = new CachedObjectStore(counting, disk);
    assert.equal(await requests(async () => {
      assert.equal((await store.get(SEG, { offset: 1, length: 2 })).body.toString(), 'ep');
    }), 0);
  });
});
