// The WAL listed before the watermark is known (beside the manifest pointer's GET): the replay
// takes the objects after the watermark from that first page and lists on from there only when
// the page was not the last.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { walKey, walPrefix } from '../../src/storage/layout.ts';
import { listWalAfter } from '../../src/wal/reader.ts';

async function walOf(count: number): Promise<MemoryObjectStore> {
  const store = new MemoryObjectStore();
  for (let seq = 1; seq <= count; seq++) await store.put(walKey('w', seq), Buffer.from([seq]));
  return store;
}

test('the objects after the watermark come from an early first page, and from further pages when it was not the last', async () => {
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
