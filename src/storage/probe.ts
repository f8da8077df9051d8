// One round of requests to object storage before a node listens: a misconfigured bucket or
// endpoint shows in the log at start, and the store's client is warm before the first query.
// Measured here (S3 test server, a fresh process): the AWS SDK's first ListObjectsV2 took 45–122
// ms and its first GetObject 37–49 ms, the second of each 7–63 and 7–60 ms; a cold first query
// makes both kinds of request, one after the other, so it paid that first-use cost on its own
// critical path.
import { CATALOG_PREFIX } from './layout.ts';
import type { ObjectStore } from './object-store.ts';

/** Lists the catalog and reads its first entry (or asks for a missing key); null when storage answered within timeoutMs, else why not. */
export async function probeStorage(store: ObjectStore, timeoutMs: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
    timer.unref();
  });
  const probe = (async () => {
    const page = await store.list(CATALOG_PREFIX, { maxKeys: 1 });
    const first = page.objects[0];
    // Catalog entries are empty objects today; a larger one is read one byte of.
    if (first !== undefined) await store.get(first.key, first.size > 0 ? { offset: 0, length: 1 } : undefined);
    else await store.head(`${CATALOG_PREFIX}.probe`);
    return null;
  })().catch((e: unknown) => (e as Error).message);
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
