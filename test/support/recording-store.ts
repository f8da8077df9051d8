// A storage wrapper that records every GET with its key and range, for the tests that count what
// a reader or a merge reads (ranged reads only of what a query needs).
import type { ByteRange, GetOptions, GetResult, ObjectStore } from '../../src/storage/object-store.ts';

export interface RecordedGet {
  key: string;
  /** Where the read started (0 for a whole-object or suffix read). */
  offset: number;
  /** Bytes returned. */
  length: number;
}

export class RecordingStore implements ObjectStore {
  readonly gets: RecordedGet[] = [];
  constructor(private readonly inner: ObjectStore) {}
  async get(key: string, range?: ByteRange, options?: GetOptions): Promise<GetResult> {
    const r = await this.inner.get(key, range, options);
    const offset = range !== undefined && 'offset' in range ? range.offset : 0;
    this.gets.push({ key, offset, length: r.body.byteLength });
    return r;
  }
  head = (key: string) => this.inner.head(key);
  put = (key: string, body: Uint8Array, c?: Parameters<ObjectStore['put']>[2]) => this.inner.put(key, body, c);
  list = (prefix: string, o?: Parameters<ObjectStore['list']>[1]) => this.inner.list(prefix, o);
  delete = (key: string) => this.inner.delete(key);

  /** Bytes returned by every GET so far. */
  bytes(): number {
    return this.gets.reduce((n, g) => n + g.length, 0);
  }
}
