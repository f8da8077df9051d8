// The WAL listed before the watermark is known (beside the manifest pointer's GET): the replay
// takes the objects after the watermark from that first page when it was the whole WAL and
// answered first, and otherwise from a listing that starts at the watermark.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { walKey, walPrefix } from '../../src/storage/layout.ts';
import { listWalAfter, listWalFirstPage, WAL_FIRST_PAGE_KEYS } from '../../src/wal/reader.ts';
import type { ListOptions } from '../../src/storage/object-store.ts';

async function walOf(count: number): Promise<MemoryObjectStore> {
  const store = new MemoryObjectStore();
  for (let seq = 1; seq <= count; seq++) await store.put(walKey('w', seq), Buffer.from([seq]));
  return store;
}

test('the objects after the watermark come from an early first page, or from the listing from the watermark when it was not the last', async () => {
  const store = await walOf(7);
  for (const [maxKeys, after] of [[1000, 0], [1000, 4], [2, 0], [2, 1], [2, 5], [3, 3], [2, 7]] as const) {
    const firstPage = store.list(walPrefix('w'), { maxKeys });
    const seqs = (await listWalAfter(store, 'w', after, firstPage)).map((o) => o.seq);
    assert.deepEqual(seqs, Array.from({ length: 7 - after }, (_, i) => after + i + 1), `page of ${maxKeys}, after ${after}`);
  }
});

test('a gap in the WAL after the watermark is still reported with an early first page', async () => {
  const store = await walOf(5);
  await store.delete(walKey('w', 3));
  await assert.rejects(listWalAfter(store, 'w', 1, store.list(walPrefix('w'), { maxKeys: 2 })), /jumps from seq 2 to 4/);
});

test('folded objects beyond an early first page are not listed: the listing from the watermark is used instead', async () => {
  const store = await walOf(WAL_FIRST_PAGE_KEYS * 3);
  const listed: string[] = [];
  const counting = Object.assign(Object.create(store) as MemoryObjectStore, {
    list: async (prefix: string, options?: ListOptions) => {
      const page = await store.list(prefix, options);
      listed.push(...page.objects.map((o) => o.key));
      return page;
    },
  });
  const after = WAL_FIRST_PAGE_KEYS * 3 - 2;
  const seqs = (await listWalAfter(counting, 'w', after, listWalFirstPage(counting, 'w'))).map((o) => o.seq);
  assert.deepEqual(seqs, [after + 1, after + 2]);
  // The early page and the watermark's listing; none of the folded objects after the early page.
  assert.equal(listed.length, WAL_FIRST_PAGE_KEYS + 2);
});

test('a short WAL is taken from the early first page when it answers first', async () => {
  const store = await walOf(3);
  let lists = 0;
  let release!: () => void;
  const held = new Promise<void>((r) => { release = r; });
  const slowLater = Object.assign(Object.create(store) as MemoryObjectStore, {
    list: async (prefix: string, options?: ListOptions) => {
      // The second listing (from the watermark) answers only after the first has been used.
      if (lists++ > 0) await held;
      return store.list(prefix, options);
    },
  });
  const seqs = (await listWalAfter(slowLater, 'w', 1, listWalFirstPage(slowLater, 'w'))).map((o) => o.seq);
  release();
  assert.deepEqual(seqs, [2, 3]);
});
