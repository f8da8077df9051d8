// When each open namespace last served a request: what idle close and the memory budget's close
// (catalog.ts) choose by. A Map re-inserted on every use iterates least recently used first.
export class NamespaceUses {
  private readonly last = new Map<string, { at: number; seq: number }>();
  private seq = 0;

  /** A request took `name` at `at` (the catalog's clock). */
  touch(name: string, at: number): void {
    this.last.delete(name);
    this.last.set(name, { at, seq: ++this.seq });
  }

  forget(name: string): void {
    this.last.delete(name);
  }

  /** No request has taken `name` for `idleMs` by `now`. */
  isIdle(name: string, now: number, idleMs: number): boolean {
    return now - (this.last.get(name)?.at ?? 0) >= idleMs;
  }

  /** [name, use number], least recently used first, leaving out the one used last. */
  *leastRecentFirst(): Generator<[string, number]> {
    let left = this.last.size - 1;
    for (const [name, use] of this.last) {
      if (left-- <= 0) return;
      yield [name, use.seq];
    }
  }

  /** Nobody took `name` again after the use numbered `seq`. */
  unusedSince(name: string, seq: number): boolean {
    return this.last.get(name)?.seq === seq;
  }
}
