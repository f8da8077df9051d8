// The behaviour every ObjectStore must share, as one suite run against each backend
// (conformance.test.ts). A backend that passes can be swapped for another without the layers
// above noticing — in particular the fencing of DESIGN.md §2: of many concurrent conditional
// writes to one key exactly one wins, and what is stored is the winner's.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { isStorageError, type StorageErrorKind } from '../../src/storage/errors.ts';
import { listAll, type ObjectStore } from '../../src/storage/object-store.ts';
import { checkNamespaceName } from '../../src/schema/parse.ts';
import { walKey, manifestPointerKey, manifestVersionKey, segmentKey, CATALOG_PREFIX } from '../../src/storage/layout.ts';

/**
 * Valid namespace names at the edges of the rule ([A-Za-z0-9_.-]{1,128}, not starting with '.'):
 * name validation is the only gate, so every backend must store every key these produce.
 */
export const EDGE_NAMESPACE_NAMES = [
  'x.silt-tmp', 'x.silt-tmp.silt-tmp', 'ends.', 'ends..', 'a..b', 'a.-._b', '-', '_', '0', '-.', '_..',
  'n'.repeat(128), 'a'.padEnd(128, '.'), 'CON', 'Ab_Z-09',
];

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export interface StoreUnderTest {
  store: ObjectStore;
  cleanup(): Promise<void>;
}

async function rejectsWith(promise: Promise<unknown>, kind: StorageErrorKind, key?: string): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(isStorageError(e, kind), `expected a StorageError of kind ${kind}, got ${String(e)}`);
    if (key !== undefined) assert.ok(e.message.includes(key), `message should name the key: ${e.message}`);
    return true;
  });
}

async function keysOf(store: ObjectStore, prefix: string, startAfter?: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of listAll(store, prefix, startAfter)) keys.push(o.key);
  return keys;
}

export function objectStoreConformance(name: string, factory: () => Promise<StoreUnderTest>): void {
  describe(`ObjectStore conformance: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: ObjectStore;
    before(async () => {
      subject = await factory();
      store = subject.store;
    });
    after(async () => {
      await subject.cleanup();
    });

    it('round-trips binary data, with the same etag from put, get and head', async () => {
      const body = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(1000)]);
      const { etag } = await store.put('rt/binary.bin', body);
      const got = await store.get('rt/binary.bin');
      assert.deepEqual(got.body, body);
      assert.equal(got.size, body.length);
      assert.equal(got.etag, etag);
      const info = await store.head('rt/binary.bin');
      assert.ok(info !== null);
      assert.equal(info.key, 'rt/binary.bin');
      assert.equal(info.size, body.length);
      assert.equal(info.etag, etag);
      assert.ok(info.lastModified instanceof Date && !Number.isNaN(info.lastModified.getTime()));
    });

    it('round-trips an empty object', async () => {
      await store.put('rt/empty', new Uint8Array(0));
      const got = await store.get('rt/empty');
      assert.equal(got.body.length, 0);
      assert.equal(got.size, 0);
      assert.equal((await store.get('rt/empty', { suffix: 4 })).body.length, 0);
    });

    it('get of a missing key throws not_found naming the key; head returns null', async () => {
      await rejectsWith(store.get('missing/key-1'), 'not_found', 'missing/key-1');
      await rejectsWith(store.get('missing/key-1', { offset: 0, length: 10 }), 'not_found');
      assert.equal(await store.head('missing/key-1'), null);
    });

    it('an overwrite replaces the bytes and changes the etag', async () => {
      const first = await store.put('rt/overwrite', Buffer.from('first version'));
      const second = await store.put('rt/overwrite', Buffer.from('second'));
      assert.notEqual(second.etag, first.etag);
      const got = await store.get('rt/overwrite');
      assert.equal(got.body.toString(), 'second');
      assert.equal(got.etag, second.etag);
    });

    it('serves byte ranges: offset+length, offset to end, suffix, clamped at the end', async () => {
      const body = Buffer.from('0123456789abcdefghij'); // 20 bytes
      const { etag } = await store.put('range/obj', body);
      const read = async (range: Parameters<ObjectStore['get']>[1]) => {
        const r = await store.get('range/obj', range);
        assert.equal(r.size, 20, 'size is the whole object, not the range');
        assert.equal(r.etag, etag);
        return r.body.toString();
      };
      assert.equal(await read({ offset: 3, length: 4 }), '3456');
      assert.equal(await read({ offset: 0, length: 1 }), '0');
      assert.equal(await read({ offset: 19, length: 1 }), 'j');
      assert.equal(await read({ offset: 15 }), 'fghij');
      assert.equal(await read({ offset: 0 }), body.toString());
      assert.equal(await read({ suffix: 5 }), 'fghij');
      assert.equal(await read({ suffix: 1 }), 'j');
      assert.equal(await read({ suffix: 50 }), body.toString());
      assert.equal(await read({ offset: 17, length: 10 }), 'hij');
      assert.equal(await read({ offset: 20 }), '');
      assert.equal(await read({ offset: 25, length: 3 }), '');
      assert.equal(await read({ offset: 5, length: 0 }), '');
      assert.equal(await read({ suffix: 0 }), '');
      await rejectsWith(store.get('range/obj', { offset: -1 }), 'permanent');
    });

    it('create-if-absent: the second create fails with precondition_failed and changes nothing', async () => {
      const first = await store.put('cia/once', Buffer.from('first'), { ifNoneMatch: '*' });
      await rejectsWith(store.put('cia/once', Buffer.from('second'), { ifNoneMatch: '*' }), 'precondition_failed', 'cia/once');
      const got = await store.get('cia/once');
      assert.equal(got.body.toString(), 'first');
      assert.equal(got.etag, first.etag);
    });

    it('20 concurrent create-if-absent writes: exactly one wins and its bytes are stored', async () => {
      const bodies = Array.from({ length: 20 }, (_, i) => Buffer.from(`writer-${i}-${randomBytes(8).toString('hex')}`));
      const results = await Promise.allSettled(bodies.map((b) => store.put('cia/race', b, { ifNoneMatch: '*' })));
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [{ i, etag: r.value.etag }] : []));
      assert.equal(winners.length, 1, `exactly one winner, got ${winners.length}`);
      for (const r of results) {
        if (r.status === 'rejected') assert.ok(isStorageError(r.reason, 'precondition_failed'), String(r.reason));
      }
      const winner = winners[0]!;
      const got = await store.get('cia/race');
      assert.deepEqual(got.body, bodies[winner.i]);
      assert.equal(got.etag, winner.etag);
    });

    it('compare-and-swap: succeeds on the current etag, fails on a stale one', async () => {
      const v1 = await store.put('cas/pointer', Buffer.from('v1'));
      const v2 = await store.put('cas/pointer', Buffer.from('v2'), { ifMatch: v1.etag });
      assert.notEqual(v2.etag, v1.etag);
      assert.equal((await store.get('cas/pointer')).body.toString(), 'v2');
      await rejectsWith(store.put('cas/pointer', Buffer.from('v3'), { ifMatch: v1.etag }), 'precondition_failed', 'cas/pointer');
      const got = await store.get('cas/pointer');
      assert.equal(got.body.toString(), 'v2');
      assert.equal(got.etag, v2.etag);
    });

    it('20 concurrent compare-and-swaps from the same etag: exactly one wins', async () => {
      const start = await store.put('cas/race', Buffer.from('start'));
      const bodies = Array.from({ length: 20 }, (_, i) => Buffer.from(`swap-${i}-${randomBytes(8).toString('hex')}`));
      const results = await Promise.allSettled(bodies.map((b) => store.put('cas/race', b, { ifMatch: start.etag })));
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [{ i, etag: r.value.etag }] : []));
      assert.equal(winners.length, 1, `exactly one winner, got ${winners.length}`);
      for (const r of results) {
        if (r.status === 'rejected') assert.ok(isStorageError(r.reason, 'precondition_failed'), String(r.reason));
      }
      const winner = winners[0]!;
      const got = await store.get('cas/race');
      assert.deepEqual(got.body, bodies[winner.i]);
      assert.equal(got.etag, winner.etag);
    });

    it('compare-and-swap on a missing key fails with precondition_failed', async () => {
      const other = await store.put('cas/elsewhere', Buffer.from('x'));
      await rejectsWith(store.put('cas/never-written', Buffer.from('x'), { ifMatch: other.etag }), 'precondition_failed', 'cas/never-written');
      assert.equal(await store.head('cas/never-written'), null);
    });

    it('lists keys in UTF-8 byte order, filtered by prefix', async () => {
      // '-' < '.' < '/' < '0' in bytes; U+FF01 sorts before U+1F600 in UTF-8 but not in UTF-16.
      const keys = ['ls/a0', 'ls/\u{1F600}', 'ls/b', 'ls/a/x', 'ls/a.b', 'ls/\uFF01', 'ls/a-b', 'ls/é'];
      await Promise.all(keys.map((k) => store.put(k, Buffer.from(k))));
      await store.put('lt/outside', Buffer.from('no'));
      await store.put('l', Buffer.from('no'));
      const expected = ['ls/a-b', 'ls/a.b', 'ls/a/x', 'ls/a0', 'ls/b', 'ls/é', 'ls/\uFF01', 'ls/\u{1F600}'];
      assert.deepEqual(await keysOf(store, 'ls/'), expected);
      assert.deepEqual(await keysOf(store, 'ls/a'), ['ls/a-b', 'ls/a.b', 'ls/a/x', 'ls/a0']);
      assert.deepEqual(await keysOf(store, 'ls/a/'), ['ls/a/x']);
      assert.deepEqual(await keysOf(store, 'ls'), expected);
      assert.deepEqual(await keysOf(store, 'ls/', 'ls/a/x'), ['ls/a0', 'ls/b', 'ls/é', 'ls/\uFF01', 'ls/\u{1F600}']);
      assert.deepEqual(await store.list('ls/nothing-here/'), { objects: [] });
      const page = await store.list('ls/b');
      assert.equal(page.objects.length, 1);
      const info = page.objects[0]!;
      const head = await store.head('ls/b');
      assert.deepEqual({ key: info.key, size: info.size, etag: info.etag }, { key: 'ls/b', size: 4, etag: head?.etag });
    });

    it('pages with maxKeys and continuation tokens; listAll walks every page', async () => {
      const keys = Array.from({ length: 7 }, (_, i) => `page/k${String(i).padStart(2, '0')}`);
      for (const k of [...keys].reverse()) await store.put(k, Buffer.from(k));
      const pages: string[][] = [];
      let token: string | undefined;
      do {
        const page = await store.list('page/', { maxKeys: 2, ...(token === undefined ? {} : { continuationToken: token }) });
        pages.push(page.objects.map((o) => o.key));
        token = page.nextToken;
      } while (token !== undefined);
      assert.deepEqual(pages, [keys.slice(0, 2), keys.slice(2, 4), keys.slice(4, 6), keys.slice(6)]);
      const startAfter = await store.list('page/', { maxKeys: 2, startAfter: 'page/k04' });
      assert.deepEqual(startAfter.objects.map((o) => o.key), ['page/k05', 'page/k06']);
      assert.equal(startAfter.nextToken, undefined);
      assert.deepEqual(await keysOf(store, 'page/'), keys);
    });

    it('delete is idempotent and a deleted key can be created again', async () => {
      await store.put('del/x', Buffer.from('x'));
      await store.delete('del/x');
      await rejectsWith(store.get('del/x'), 'not_found');
      assert.equal(await store.head('del/x'), null);
      await store.delete('del/x');
      await store.delete('del/never-existed');
      await store.put('del/x', Buffer.from('again'), { ifNoneMatch: '*' });
      assert.equal((await store.get('del/x')).body.toString(), 'again');
      assert.deepEqual(await keysOf(store, 'del/'), ['del/x']);
    });

    it('stores, lists and deletes every key that an edge-case valid namespace name produces', async () => {
      const keysOfName = (ns: string) => [
        walKey(ns, 1), manifestVersionKey(ns, 1), manifestPointerKey(ns), segmentKey(ns, 'seg-1'),
      ];
      for (const ns of EDGE_NAMESPACE_NAMES) {
        checkNamespaceName(ns); // the list must stay valid names
        const keys = [CATALOG_PREFIX + ns, ...keysOfName(ns)];
        for (const key of keys) {
          const { etag } = await store.put(key, Buffer.from(key), { ifNoneMatch: '*' });
          const got = await store.get(key);
          assert.equal(got.body.toString(), key, key);
          assert.equal(got.etag, etag, key);
          assert.equal((await store.head(key))?.etag, etag, key);
        }
        assert.deepEqual(await keysOf(store, `${ns}/`), keysOfName(ns).sort(compareBytes), ns);
      }
      const catalog = await keysOf(store, CATALOG_PREFIX);
      for (const ns of EDGE_NAMESPACE_NAMES) assert.ok(catalog.includes(CATALOG_PREFIX + ns), `${ns} listed in the catalog`);
      for (const ns of EDGE_NAMESPACE_NAMES) {
        for (const key of [CATALOG_PREFIX + ns, ...keysOfName(ns)]) await store.delete(key);
        assert.deepEqual(await keysOf(store, `${ns}/`), [], ns);
      }
      assert.deepEqual(await keysOf(store, CATALOG_PREFIX), []);
    });

    it('round-trips a 5 MB object and reads a range from its middle', async () => {
      const body = randomBytes(5 * 1024 * 1024);
      const { etag } = await store.put('big/5mb', body);
      const got = await store.get('big/5mb');
      assert.equal(got.size, body.length);
      assert.ok(got.body.equals(body));
      assert.equal(got.etag, etag);
      const middle = await store.get('big/5mb', { offset: 2_500_000, length: 4096 });
      assert.ok(middle.body.equals(body.subarray(2_500_000, 2_500_000 + 4096)));
      assert.equal(middle.size, body.length);
    });
  });
}
