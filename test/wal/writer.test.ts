import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { WalWriter } from '../../src/wal/writer.ts';
import type { WalOp } from '../../src/wal/format.ts';

function writer(store = new MemoryObjectStore(), applied: number[] = []) {
  return new WalWriter<number, number>(store, 'ns', 1, 1 << 20, {
    seal: (payloads) => ({
      ops: payloads.map((n): WalOp => ({ kind: 'delete', id: BigInt(n) })),
      results: payloads.map((n) => n * 2),
    }),
    apply: (entry) => applied.push(entry.seq),
    recover: async (fromSeq) => fromSeq,
    failure: (e) => e as Error,
  });
}

test('a write appended by the continuation of the previous one is not stranded', async () => {
  const w = writer();
  // Each append starts right after the previous resolves (same microtask turn as the loop ends).
  const sequential = async () => {
    for (let i = 0; i < 50; i++) {
      const { seq, result } = await w.append(i, 10);
      assert.equal(seq, i + 1);
      assert.equal(result, i * 2);
    }
  };
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    sequential(),
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('a write hung')), 3000); }),
  ]);
  clearTimeout(timer);
});

test('writes arriving during a put share the next WAL object; a seal error fails only its batch', async () => {
  const applied: number[] = [];
  const w = writer(new MemoryObjectStore(), applied);
  const first = w.append(0, 10);
  const rest = Array.from({ length: 9 }, (_, i) => w.append(i + 1, 10));
  await Promise.all([first, ...rest]);
  assert.deepEqual(applied, [1, 2], 'one object for the first write, one for the nine queued behind it');
});
