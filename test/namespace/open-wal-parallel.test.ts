// A cold open lists and fetches the WAL tail while the segments open (one sequential round trip
// less), and still applies the tail's entries after the segments, in order: an upsert and a
// delete in the tail win over the segment's rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flushTail } from '../../src/indexer/flush.ts';
import { parseKey } from '../../src/storage/layout.ts';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import type { ByteRange, GetResult, ListOptions, ListPage } from '../../src/storage/object-store.ts';
import { testApp } from '../support/app.ts';

/**
 * Holds segment GETs until the WAL has been listed (or, so that the old order fails rather than
 * hangs, a few turns later), and records whether the listing came before any segment bytes.
 */
class SegmentsWaitForWalList extends MemoryObjectStore {
  holding = false;
  listedBeforeSegments = false;
  private segmentBytesServed = false;
  private listed = false;
  private release: (() => void) | null = null;
  private gate: Promise<void> | null = null;

  override async get(key: string, range?: ByteRange): Promise<GetResult> {
    if (this.holding && parseKey(key)?.kind === 'segment') {
      this.gate ??= this.listed ? Promise.resolve() : new Promise<void>((r) => {
        this.release = r;
        let turns = 0;
        const later = () => (++turns < 50 ? setImmediate(later) : r());
        setImmediate(later);
      });
      await this.gate;
      this.segmentBytesServed = true;
    }
    return super.get(key, range);
  }

  override async list(prefix: string, options?: ListOptions): Promise<ListPage> {
    if (this.holding && prefix.includes('/wal/')) {
      this.listed = true;
      this.listedBeforeSegments = !this.segmentBytesServed;
      this.release?.();
    }
    return super.list(prefix, options);
  }
}

test('a cold open lists the WAL while its segments load, then applies the tail over them', async () => {
  const store = new SegmentsWaitForWalList();
  const writer = testApp({ store });
  const vec = (i: number) => [Math.sin(i), Math.cos(i), 1, i / 100];
  assert.equal((await writer.call('PUT', '/v1/namespaces/docs', { vector_dim: 4, vector_metric: 'l2', attributes: { v: { type: 'integer' } } })).status, 201);
  const documents = Array.from({ length: 300 }, (_, i) => ({ id: i, vector: vec(i), attributes: { v: 1 } }));
  assert.equal((await writer.call('POST', '/v1/namespaces/docs/upsert', { documents })).status, 200);
  assert.ok(await flushTail(await writer.catalog.get('docs')));
  // The tail: a new version of 7, 8 deleted, 1000 added.
  assert.equal((await writer.call('POST', '/v1/namespaces/docs/upsert', { documents: [{ id: 7, vector: vec(7), attributes: { v: 2 } }, { id: 1000, vector: vec(1000), attributes: { v: 2 } }] })).status, 200);
  assert.equal((await writer.call('POST', '/v1/namespaces/docs/delete', { ids: [8] })).status, 200);
  await writer.catalog.close(new Error('test done'));

  store.holding = true;
  const reader = testApp({ store });
  const hits = (await reader.call('POST', '/v1/namespaces/docs/query', { vector: vec(8), top_k: 3, include_attributes: ['v'] })).body.results as Array<{ id: number; attributes: { v: number } }>;
  assert.equal(store.listedBeforeSegments, true, 'the WAL was listed before the segment sections arrived');
  assert.ok(!hits.some((h) => h.id === 8), 'the delete in the tail hides the segment row');
  const seven = (await reader.call('POST', '/v1/namespaces/docs/query', { vector: vec(7), top_k: 1, include_attributes: ['v'] })).body.results;
  assert.deepEqual(seven.map((h: { id: number; attributes: unknown }) => [h.id, h.attributes]), [[7, { v: 2 }]], 'the tail version of 7 wins');
  assert.equal((await reader.call('GET', '/v1/namespaces/docs/documents/1000')).body.attributes.v, 2);
  await reader.catalog.close(new Error('test done'));
});
