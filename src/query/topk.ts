// A bounded min-heap that keeps the k highest-scoring entries. Ties keep the lower key, so
// results are deterministic whatever order rows are visited in.

export class TopK {
  private readonly keys: number[] = [];
  private readonly scores: number[] = [];

  constructor(readonly k: number) {}

  get size(): number {
    return this.keys.length;
  }

  /** The lowest score kept, or -Infinity while fewer than k are kept. */
  get threshold(): number {
    return this.keys.length < this.k ? -Infinity : this.scores[0]!;
  }

  push(key: number, score: number): void {
    if (this.k <= 0) return;
    if (this.keys.length < this.k) {
      this.keys.push(key);
      this.scores.push(score);
      this.siftUp(this.keys.length - 1);
    } else if (this.better(score, key, this.scores[0]!, this.keys[0]!)) {
      this.keys[0] = key;
      this.scores[0] = score;
      this.siftDown(0);
    }
  }

  /** Entries best first. */
  sorted(): Array<{ key: number; score: number }> {
    const out = this.keys.map((key, i) => ({ key, score: this.scores[i]! }));
    out.sort((a, b) => (b.score - a.score) || (a.key - b.key));
    return out;
  }

  private better(s1: number, k1: number, s2: number, k2: number): boolean {
    return s1 > s2 || (s1 === s2 && k1 < k2);
  }

  private swap(i: number, j: number): void {
    [this.keys[i], this.keys[j]] = [this.keys[j]!, this.keys[i]!];
    [this.scores[i], this.scores[j]] = [this.scores[j]!, this.scores[i]!];
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.better(this.scores[p]!, this.keys[p]!, this.scores[i]!, this.keys[i]!)) break;
      this.swap(i, p);
      i = p;
    }
  }

  private siftDown(i: number): void {
    const n = this.keys.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < n && this.better(this.scores[worst]!, this.keys[worst]!, this.scores[l]!, this.keys[l]!)) worst = l;
      if (r < n && this.better(this.scores[worst]!, this.keys[worst]!, this.scores[r]!, this.keys[r]!)) worst = r;
      if (worst === i) return;
      this.swap(i, worst);
      i = worst;
    }
  }
}
