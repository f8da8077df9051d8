// DiskCache against real files: loads are shared and counted, the byte budget holds, recency
// decides what goes, and a restart on the same directory stays warm in the same order.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DiskCache, MAX_WRITING_BYTES } from '../../src/cache/disk-cache.ts';

let dir: string;
/** The caches a test opened: their background writes are waited for before the directory goes. */
const opened: DiskCache[] = [];
async function openCache(opts: { dir: string; maxBytes: number }): Promise<DiskCache> {
  const cache = await DiskCache.open(opts);
  opened.push(cache);
  return cache;
}
beforeEach(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'silt-disk-cache-')); });
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.flush()));
  await rm(dir, { recursive: true, force: true });
});

/** A loader of `bytes` that counts its calls. */
function loader(bytes: Buffer | string) {
  const load = async () => { load.calls++; return Buffer.from(bytes); };
  load.calls = 0;
  return load;
}
/** A get that loads, and then its background write finished (flush). */
async function miss(cache: DiskCache, key: string, load: () => Promise<Buffer>): Promise<Buffer> {
  const got = await cache.get(key, load);
  await cache.flush();
  return got;
}
const never = async (): Promise<Buffer> => { throw new Error('load must not be called: expected a hit'); };
const body = (n: number, fill: string) => Buffer.alloc(n, fill);

/** Every cache file under dir (temp files included), as paths. */
async function filesIn(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true })) {
    const p = path.join(root, e.name);
    if (e.isDirectory()) out.push(...await filesIn(p)); else out.push(p);
  }
  return out;
}
const fileOf = (key: string) => {
  const hex = createHash('sha256').update(key).digest('hex');
  return path.join(dir, hex.slice(0, 2), hex);
};

describe('DiskCache', () => {
  it('loads on a miss, then serves identical bytes from disk without loading', async () => {
    const cache = await openCache({ dir, maxBytes: 1 << 20 });
    const bytes = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    const load = loader(bytes);
    const key = 'ns/seg/abc.seg#1024+4096';
    assert.deepEqual(await cache.get(key, load), bytes);
    assert.deepEqual(await cache.get(key, load), bytes, 'a hit while it is being written, or once it is');
    assert.equal(load.calls, 1);
    await cache.flush();
    assert.deepEqual(cache.stats(), {
      entries: 1, bytes: bytes.length, max_bytes: 1 << 20, hits: 1, misses: 1, evictions: 0, write_errors: 0,
    });
    assert.equal((await filesIn(dir)).length, 1);
  });

  it('answers a miss before its bytes are on disk, and waits for the write past MAX_WRITING_BYTES pending', async () => {
    const cache = await openCache({ dir, maxBytes: 1 << 30 });
    const half = Math.ceil(MAX_WRITING_BYTES * 0.6);
    assert.deepEqual(await cache.get('A', loader(body(16, 'a'))), body(16, 'a'));
    assert.equal(cache.stats().entries, 0, 'answered while its write is still to come');
    assert.deepEqual(await cache.get('A', never), body(16, 'a'), 'served from memory meanwhile');
    await cache.flush();
    assert.equal(cache.stats().entries, 1);
    assert.equal((await filesIn(dir)).length, 1);

    await cache.get('B', loader(body(half, 'b')));
    assert.equal(cache.stats().entries, 1, 'B is being written');
    await cache.get('C', loader(body(half, 'c')));
    assert.ok(cache.stats().entries >= 2, 'C, beyond the bound, waited for its own write');
    assert.ok((await filesIn(dir)).includes(fileOf('C')));
    await cache.flush();
    assert.equal(cache.stats().entries, 3);
  });

  it('shares one load among 20 concurrent gets of a key', async () => {
    const cache = await openCache({ dir, maxBytes: 1 << 20 });
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const load = async () => { calls++; await gate; return body(100, 'x'); };
    const gets = Array.from({ length: 20 }, () => cache.get('k', load));
    release();
    const results = await Promise.all(gets);
    assert.equal(calls, 1);
    for (const r of results) assert.deepEqual(r, body(100, 'x'));
    assert.deepEqual(await cache.get('k', never), body(100, 'x'));
  });

  it('evicts the least recently used entry, counting a hit as a use', async () => {
    const cache = await openCache({ dir, maxBytes: 20 });
    await miss(cache, 'A', loader(body(8, 'a')));
    await miss(cache, 'B', loader(body(8, 'b')));
    await cache.get('A', never); // A is now more recent than B
    await miss(cache, 'C', loader(body(8, 'c')));
    assert.equal(cache.stats().evictions, 1);
    assert.deepEqual(await cache.get('A', never), body(8, 'a'));
    assert.deepEqual(await cache.get('C', never), body(8, 'c'));
    const b = loader(body(8, 'b'));
    await miss(cache, 'B', b);
    assert.equal(b.calls, 1, 'B should have been evicted');
  });

  it('never holds more than maxBytes, in its accounting or on disk', async () => {
    const maxBytes = 1000;
    const cache = await openCache({ dir, maxBytes });
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 200; i++) {
      const key = `k${Math.floor(rand() * 40)}`;
      const size = 1 + Math.floor(rand() * 300);
      await miss(cache, key, loader(body(size, 'z')));
      const s = cache.stats();
      assert.ok(s.bytes <= maxBytes, `bytes ${s.bytes} > ${maxBytes}`);
      assert.equal((await filesIn(dir)).length, s.entries, 'evicted entries must leave the disk');
    }
    assert.ok(cache.stats().evictions > 0);
  });

  it('is warm after a restart on the same directory, in the same recency order', async () => {
    const first = await openCache({ dir, maxBytes: 30 });
    for (const k of ['A', 'B', 'C']) await miss(first, k, loader(body(10, k)));
    await first.get('A', never); // order, oldest first: B, C, A
    await first.flush();

    const second = await openCache({ dir, maxBytes: 30 });
    assert.deepEqual(second.stats(), {
      entries: 3, bytes: 30, max_bytes: 30, hits: 0, misses: 0, evictions: 0, write_errors: 0,
    });
    await miss(second, 'D', loader(body(10, 'D'))); // must push out B, the least recently used
    for (const k of ['A', 'C', 'D']) assert.deepEqual(await second.get(k, never), body(10, k));
    const b = loader(body(10, 'B'));
    await miss(second, 'B', b);
    assert.equal(b.calls, 1, 'B was the least recently used before the restart');
  });

  it('keeps the recency order across a restart even for uses within one millisecond', async () => {
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
    const first = await openCache({ dir, maxBytes: 120 });
    for (const k of keys) await miss(first, k, loader(body(10, k)));
    const used = [...keys].reverse(); // hits are fast: several land in the same millisecond
    for (const k of used) await first.get(k, never);
    await first.flush();

    // Reopening with one entry less room each time must remove exactly the next least recently used.
    for (let room = keys.length - 1; room >= 1; room--) {
      await openCache({ dir, maxBytes: room * 10 });
      const present = new Set(await filesIn(dir));
      assert.deepEqual(used.filter((k) => present.has(fileOf(k))), used.slice(keys.length - room), `room for ${room}`);
    }
  });

  it('evicts down to a lowered maxBytes on open, least recently used first', async () => {
    const first = await openCache({ dir, maxBytes: 30 });
    for (const k of ['A', 'B', 'C']) await miss(first, k, loader(body(10, k)));
    await first.get('A', never);
    await first.flush();

    const second = await openCache({ dir, maxBytes: 20 });
    const s = second.stats();
    assert.equal(s.entries, 2);
    assert.equal(s.bytes, 20);
    assert.equal(s.evictions, 1);
    assert.equal((await filesIn(dir)).length, 2);
    assert.deepEqual(await second.get('A', never), body(10, 'A'));
    assert.deepEqual(await second.get('C', never), body(10, 'C'));
  });

  it('treats a corrupted, truncated or vanished file as a miss and returns the right bytes', async () => {
    const cache = await openCache({ dir, maxBytes: 1 << 20 });
    const cases: [string, (file: string) => Promise<void>][] = [
      ['flipped body byte', async (f) => { const b = await readFile(f); b[b.length - 1]! ^= 1; await writeFile(f, b); }],
      ['truncated', (f) => truncate(f, 20)],
      ['bad magic', async (f) => { const b = await readFile(f); b[0] = 0; await writeFile(f, b); }],
      ['vanished', (f) => unlink(f)],
    ];
    for (const [name, damage] of cases) {
      const key = `ns/wal/${name}.wal@etag`;
      await miss(cache, key, loader(body(64, 'q')));
      await damage(fileOf(key));
      const again = loader(body(64, 'q'));
      assert.deepEqual(await miss(cache, key, again), body(64, 'q'), name);
      assert.equal(again.calls, 1, `${name}: must load again`);
      assert.deepEqual(await cache.get(key, never), body(64, 'q'), `${name}: stored again`);
    }
    assert.equal(cache.stats().entries, cases.length);
  });

  it('drops invalid files and leftover temp files when it opens', async () => {
    const first = await openCache({ dir, maxBytes: 1 << 20 });
    await miss(first, 'good', loader(body(50, 'g')));
    await miss(first, 'short', loader(body(50, 's')));
    await miss(first, 'moved', loader(body(50, 'm')));
    await truncate(fileOf('short'), 30);
    // A valid file under the wrong name: its key does not hash to it.
    const wrong = fileOf('elsewhere');
    await mkdir(path.dirname(wrong), { recursive: true });
    await writeFile(wrong, await readFile(fileOf('moved')));
    const temp = `${fileOf('crashed')}.0123456789abcdef.tmp`;
    await mkdir(path.dirname(temp), { recursive: true });
    await writeFile(temp, 'half a file');

    const second = await openCache({ dir, maxBytes: 1 << 20 });
    assert.equal(second.stats().entries, 2);
    assert.equal(second.stats().bytes, 100);
    assert.deepEqual((await filesIn(dir)).sort(), [fileOf('good'), fileOf('moved')].sort());
    assert.deepEqual(await second.get('good', never), body(50, 'g'));
    const short = loader(body(50, 's'));
    assert.deepEqual(await miss(second, 'short', short), body(50, 's'));
    assert.equal(short.calls, 1);
  });

  it('returns an object larger than maxBytes without storing it; maxBytes 0 stores nothing', async () => {
    const cache = await openCache({ dir, maxBytes: 10 });
    await miss(cache, 'small', loader(body(10, 's')));
    const big = loader(body(11, 'b'));
    assert.deepEqual(await cache.get('big', big), body(11, 'b'));
    assert.deepEqual(await cache.get('big', big), body(11, 'b'));
    assert.equal(big.calls, 2);
    assert.equal(cache.stats().evictions, 0, 'an oversized object must not push others out');
    assert.deepEqual(await cache.get('small', never), body(10, 's'));

    const off = await openCache({ dir: path.join(dir, 'off'), maxBytes: 0 });
    let calls = 0;
    const load = async () => { calls++; await new Promise((r) => setTimeout(r, 5)); return body(1, 'o'); };
    await Promise.all([off.get('k', load), off.get('k', load), off.get('k', load)]);
    assert.equal(calls, 1, 'concurrent loads are still shared');
    await off.get('k', load);
    assert.equal(calls, 2);
    assert.deepEqual(await filesIn(path.join(dir, 'off')), []);
  });

  it('passes a load error to every sharing caller and does not remember it', async () => {
    const cache = await openCache({ dir, maxBytes: 1000 });
    let calls = 0;
    const failing = async (): Promise<Buffer> => { calls++; await new Promise((r) => setTimeout(r, 5)); throw new Error('boom 503'); };
    const gets = Array.from({ length: 5 }, () => cache.get('k', failing));
    for (const g of gets) await assert.rejects(g, /boom 503/);
    assert.equal(calls, 1);
    assert.equal(cache.stats().entries, 0);
    const ok = loader('fine');
    assert.deepEqual(await cache.get('k', ok), Buffer.from('fine'));
    assert.equal(ok.calls, 1);
  });

  it('still returns the loaded bytes when the disk write fails', async () => {
    const cache = await openCache({ dir, maxBytes: 1000 });
    // A regular file where the key's shard directory should be makes every write for it fail.
    await writeFile(path.dirname(fileOf('k')), 'in the way');
    const load = loader('payload');
    assert.deepEqual(await miss(cache, 'k', load), Buffer.from('payload'));
    assert.deepEqual(await miss(cache, 'k', load), Buffer.from('payload'));
    assert.equal(load.calls, 2);
    const s = cache.stats();
    assert.equal(s.write_errors, 2);
    assert.equal(s.entries, 0);
    assert.equal(s.bytes, 0);
  });

  it('delete drops an entry so the next get loads', async () => {
    const cache = await openCache({ dir, maxBytes: 1000 });
    await miss(cache, 'k', loader('old'));
    await cache.delete('k');
    await cache.delete('never-there');
    assert.deepEqual(await filesIn(dir), []);
    const load = loader('new');
    assert.deepEqual(await cache.get('k', load), Buffer.from('new'));
    assert.equal(load.calls, 1);
  });
});
