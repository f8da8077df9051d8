// Reads the WAL after a watermark, in seq order, verifying every object. A corrupt or missing
// object stops the reader with an error naming it: skipping one would silently lose writes.
import type { ObjectStore } from '../storage/object-store.ts';
import { listAll } from '../storage/object-store.ts';
import { walKey, walPrefix, walSeqOfKey } from '../storage/layout.ts';
import { decodeWalEntry, type WalEntry } from './format.ts';

export class WalCorruptError extends Error {
  constructor(readonly key: string, readonly detail: string) {
    super(`WAL object '${key}' is corrupt: ${detail}`);
  }
}

export interface WalObject {
  key: string;
  seq: number;
  size: number;
  etag: string;
}

/** WAL objects with seq > afterSeq, ascending, checked to be contiguous. */
export async function listWalAfter(store: ObjectStore, ns: string, afterSeq: number): Promise<WalObject[]> {
  const out: WalObject[] = [];
  const startAfter = afterSeq > 0 ? walKey(ns, afterSeq) : undefined;
  for await (const obj of listAll(store, walPrefix(ns), startAfter)) {
    const seq = walSeqOfKey(obj.key);
    if (seq === null || seq <= afterSeq) continue;
    const expected = afterSeq + out.length + 1;
    if (seq !== expected) {
      throw new WalCorruptError(walKey(ns, expected), `missing: the WAL jumps from seq ${expected - 1} to ${seq}`);
    }
    out.push({ key: obj.key, seq, size: obj.size, etag: obj.etag });
  }
  return out;
}

/**
 * Fetches objects `concurrency` at a time but hands entries to `onEntry` strictly in order.
 * Each GET names the etag the listing gave as its generation: a cached store may answer it from
 * a copy, and a namespace re-created with the same seqs has other etags. Returns the last seq
 * read (afterSeq when there was nothing).
 */
export async function replayWal(
  store: ObjectStore,
  ns: string,
  afterSeq: number,
  onEntry: (entry: WalEntry, bytes: number) => void,
  concurrency = 8,
): Promise<number> {
  const objects = await listWalAfter(store, ns, afterSeq);
  const fetches: Promise<{ entry: WalEntry; bytes: number }>[] = [];
  const fetchOne = async (obj: WalObject) => {
    const { body } = await store.get(obj.key, undefined, { generation: obj.etag });
    let entry: WalEntry;
    try {
      entry = decodeWalEntry(body);
    } catch (e) {
      throw new WalCorruptError(obj.key, (e as Error).message);
    }
    if (entry.seq !== obj.seq) throw new WalCorruptError(obj.key, `holds seq ${entry.seq}`);
    return { entry, bytes: body.length };
  };
  let last = afterSeq;
  for (let i = 0; i < objects.length; i++) {
    while (fetches.length < objects.length && fetches.length < i + concurrency) {
      const p = fetchOne(objects[fetches.length]!);
      p.catch(() => {}); // awaited below, in order
      fetches.push(p);
    }
    const { entry, bytes } = await fetches[i]!;
    onEntry(entry, bytes);
    last = entry.seq;
  }
  return last;
}
