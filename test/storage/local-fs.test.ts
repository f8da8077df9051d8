import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isStorageError } from '../../src/storage/errors.ts';
import { LocalFsObjectStore } from '../../src/storage/local-fs.ts';
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import { listAll } from '../../src/storage/object-store.ts';

describe('LocalFsObjectStore', () => {
  let parent: string;
  let root: string;
  let store: LocalFsObjectStore;
  before(async () => {
    parent = await mkdtemp(path.join(os.tmpdir(), 'silt-localfs-only-'));
    root = path.join(parent, 'root');
    store = new LocalFsObjectStore(root);
  });
  after(() => rm(parent, { recursive: true, force: true }));

  it('rejects keys that are not plain relative paths, with kind permanent, touching nothing', async () => {
    const bad = ['../escape', 'a/../../escape', '..', 'a/..', '/etc/passwd', 'a\\b', 'a\0b', '', 'a//b', 'a/', './a', '.silt-tmp', '.silt-tmp/x'];
    for (const key of bad) {
      for (const attempt of [
        () => store.put(key, Buffer.from('x')),
        () => store.get(key),
        () => store.head(key),
        () => store.delete(key),
      ]) {
        await assert.rejects(attempt(), (e: unknown) => isStorageError(e, 'permanent') && /invalid key/.test(e.message),
          `key ${JSON.stringify(key)} must be rejected`);
      }
    }
    assert.deepEqual(await readdir(parent), [], 'nothing was written anywhere');
  });

  it('stores keys as files under the root and survives a new instance (a restart)', async () => {
    await store.put('ns/wal/00000000000000000001.wal', Buffer.from('entry'));
    assert.equal((await stat(path.join(root, 'ns/wal/00000000000000000001.wal'))).size, 5);
    const reopened = new LocalFsObjectStore(root);
    assert.equal((await reopened.get('ns/wal/00000000000000000001.wal')).body.toString(), 'entry');
  });

  it('changes the etag on every write, even of identical bytes', async () => {
    const etags = new Set<string>();
    for (let i = 0; i < 20; i++) etags.add((await store.put('etag/same', Buffer.from('same bytes'))).etag);
    assert.equal(etags.size, 20);
    const memory = new MemoryObjectStore();
    const a = await memory.put('k', Buffer.from('same'));
    const b = await memory.put('k', Buffer.from('same'));
    assert.notEqual(a.etag, b.etag);
  });

  it('create-if-absent is exclusive across store instances (as across processes)', async () => {
    const instances = Array.from({ length: 4 }, () => new LocalFsObjectStore(root));
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) =>
      instances[i % 4]!.put('cross/lock', Buffer.from(`writer ${i}`), { ifNoneMatch: '*' })));
    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    assert.equal(winners.length, 1);
    assert.equal((await store.get('cross/lock')).body.toString(), `writer ${winners[0]}`);
    for (const r of results) if (r.status === 'rejected') assert.ok(isStorageError(r.reason, 'precondition_failed'));
  });

  it('keeps temp files apart from keys: strays are never listed, none are left after puts', async () => {
    await store.put('tmp/real', Buffer.from('x'));
    await store.put('tmp/real.abcdef012345.silt-tmp', Buffer.from('an ordinary key'));
    await writeFile(path.join(root, '.silt-tmp', 'abcdef0123456789'), 'half-written by a crashed put');
    const keys: string[] = [];
    for await (const o of listAll(store, '')) keys.push(o.key);
    assert.ok(keys.includes('tmp/real.abcdef012345.silt-tmp'), JSON.stringify(keys));
    assert.deepEqual(keys.filter((k) => k.startsWith('.silt-tmp')), []);
    await rm(path.join(root, '.silt-tmp', 'abcdef0123456789'));
    await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.put('tmp/real', Buffer.from(`${i}`), { ifNoneMatch: '*' })));
    assert.deepEqual((await readdir(path.join(root, 'tmp'))).sort(), ['real', 'real.abcdef012345.silt-tmp']);
    assert.deepEqual(await readdir(path.join(root, '.silt-tmp')), []);
  });

  it('removes directories a delete leaves empty, and keeps the root', async () => {
    await store.put('gc/seg/0001/vectors.bin', Buffer.from('v'));
    await store.put('gc/seg/0001/ids.bin', Buffer.from('i'));
    await store.delete('gc/seg/0001/vectors.bin');
    await store.delete('gc/seg/0001/ids.bin');
    await assert.rejects(stat(path.join(root, 'gc')), { code: 'ENOENT' });
    assert.ok((await stat(root)).isDirectory());
  });

  it('reports a key that would need an object to be a directory as permanent', async () => {
    await store.put('clash/a', Buffer.from('file'));
    await assert.rejects(store.put('clash/a/b', Buffer.from('x')), (e: unknown) => isStorageError(e, 'permanent'));
    await mkdir(path.join(root, 'clash', 'dir'), { recursive: true });
    await writeFile(path.join(root, 'clash', 'dir', 'child'), 'x');
    assert.equal(await store.head('clash/dir'), null, 'a directory is not an object');
    await assert.rejects(store.get('clash/dir'), (e: unknown) => isStorageError(e, 'not_found'));
  });
});
