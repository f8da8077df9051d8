// An in-memory object store that holds puts of one kind of object (layout.ts parseKey kinds:
// 'segment', 'manifest', 'wal', …) until released, and says when the first one arrives: tests
// stop a flush or a close at an exact point without sleeping.
import { MemoryObjectStore } from '../../src/storage/memory.ts';
import type { PutCondition } from '../../src/storage/object-store.ts';
import { parseKey } from '../../src/storage/layout.ts';

export class GatedStore extends MemoryObjectStore {
  kind: string | null = null;
  /** While set, a held put fails instead of waiting. */
  fail = false;
  private release: (() => void) | null = null;
  private gate: Promise<void> = Promise.resolve();
  reached: Promise<void> = Promise.resolve();
  private onReached: () => void = () => {};

  hold(kind: string): void {
    this.kind = kind;
    this.gate = new Promise((r) => { this.release = r; });
    this.reached = new Promise((r) => { this.onReached = r; });
  }

  open(): void {
    this.kind = null;
    this.release?.();
  }

  override async put(key: string, body: Uint8Array, condition?: PutCondition): Promise<{ etag: string }> {
    if (this.kind !== null && parseKey(key)?.kind === this.kind) {
      if (this.fail) throw new Error('injected put failure');
      this.onReached();
      await this.gate;
    }
    return super.put(key, body, condition);
  }
}
