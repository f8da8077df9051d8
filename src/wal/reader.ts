// Reads the WAL after a watermark, in seq order, verifying every object. A corrupt or missing
// object stops the reader with an error naming it: skipping one would silently lose writes.
import type { ListPage, ObjectInfo, ObjectStore } from '../storage/object-store.ts';
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

/**
 * Keys in the early first page: enough for a namespace whose WAL is short, few enough that a
 * namespace still holding minutes of folded objects (compaction.gc_grace_secs) does not pay for
 * listing them. Measured on the S3 test server, 1M documents with 761 folded objects left: a
 * page of 1,000 took 420–560 ms and held up the cold open; a listing from the watermark, 7 ms.
 */
export const WAL_FIRST_PAGE_KEYS = 100;

/**
 * The first page of a namespace's WAL listing, asked for before its watermark is known (beside
 * the manifest pointer's GET, when a namespace opens), so that the replay needs no round trip of
 * its own for the listing when the WAL is short: a cold first query's chain is one shorter
 * (docs/benchmarks.md, "ivf-cold"). It holds every WAL object durable when it was asked for, so
 * every write acknowledged before the open began; the objects at or below the watermark (not yet
 * collected) are skipped by listWalAfter. A write a fenced-out former owner lands after it is
 * what the pointer's compare-and-swap and the WAL's create-if-absent already decide, as for any
 * listing.
 */
export function listWalFirstPage(store: ObjectStore, ns: string): Promise<ListPage> {
  const page = store.list(walPrefix(ns), { maxKeys: WAL_FIRST_PAGE_KEYS });
  page.catch(() => {}); // a caller that fails first (no such namespace) never awaits it
  return page;
}

/**
 * The WAL's objects after afterSeq. With an early first page, a listing from the watermark starts
 * at once beside it and the first to answer completely is used: the early page when it was the
 * whole WAL and came first, else the watermark's listing (both hold every object durable before
 * the open began). A truncated early page is never continued: what follows it may be thousands
 * of folded objects the watermark's listing skips.
 */
async function* walObjectsAfter(store: ObjectStore, ns: string, afterSeq: number, firstPage?: Promise<ListPage>): AsyncGenerator<ObjectInfo> {
  const after = afterSeq > 0 ? walKey(ns, afterSeq) : undefined;
  if (firstPage === undefined) {
    yield* listAll(store, walPrefix(ns), after);
    return;
  }
  const fromWatermark = store.list(walPrefix(ns), after === undefined ? {} : { startAfter: after });
  fromWatermark.catch(() => {}); // unawaited when the early page wins
  const early = firstPage.then((p) => (p.nextToken === undefined ? p : fromWatermark), () => fromWatermark);
  let page = await Promise.race([early, fromWatermark]);
  for (;;) {
    yield* page.objects;
    if (page.nextToken === undefined) return;
    page = await store.list(walPrefix(ns), { continuationToken: page.nextToken });
  }
}

/** WAL objects with seq > afterSeq, ascending, checked to be contiguous. */
export async function listWalAfter(store: ObjectStore, ns: string, afterSeq: number, firstPage?: Promise<ListPage>): Promise<WalObject[]> {
  const out: WalObject[] = [];
  for await (const obj of walObjectsAfter(store, ns, afterSeq, firstPage)) {
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
  options: { concurrency?: number; firstPage?: Promise<ListPage> } = {},
): Promise<number> {
  const concurrency = options.concurrency ?? 8;
  const objects = await listWalAfter(store, ns, afterSeq, options.firstPage);
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
