// Evaluates a filter over every row of a columnar source at once, into a match bitmap (one byte
// per row). Numeric comparisons run as tight loops over the column's Float64Array — about 1 ns a
// row instead of ~40 ns for the per-document predicate — which is what makes the exact path for
// selective filters cheap. Other leaves fall back to the compiled per-row predicate.
import type { FilterNode, LeafNode } from './ast.ts';
import { compileNode, type FilterableDoc } from './compile.ts';

export interface BitmapSource {
  rows: number;
  numericColumn?(name: string): { values: Float64Array; present: Uint8Array } | null;
  /** The document a per-row predicate sees. */
  doc(row: number): FilterableDoc;
}

const present = (bits: Uint8Array, row: number) => (bits[row >>> 3]! & (1 << (row & 7))) !== 0;

function numericLeaf(leaf: LeafNode, src: BitmapSource): Uint8Array | null {
  if (leaf.fieldType !== 'integer' && leaf.fieldType !== 'float') return null;
  const col = src.numericColumn?.(leaf.field);
  if (!col) return null;
  const { values, present: bits } = col;
  const n = src.rows;
  const out = new Uint8Array(n);
  const v = leaf.value;
  const each = (test: (x: number) => boolean, missing: boolean) => {
    for (let row = 0; row < n; row++) out[row] = (present(bits, row) ? test(values[row]!) : missing) ? 1 : 0;
  };
  switch (leaf.op) {
    case 'eq':
      if (v === null) each(() => false, true);
      else if (typeof v === 'number') each((x) => x === v, false);
      else return null;
      return out;
    case 'ne':
      if (v === null) each(() => true, false);
      else if (typeof v === 'number') each((x) => x !== v, true);
      else return null;
      return out;
    case 'gt': if (typeof v !== 'number') return null; each((x) => x > v, false); return out;
    case 'gte': if (typeof v !== 'number') return null; each((x) => x >= v, false); return out;
    case 'lt': if (typeof v !== 'number') return null; each((x) => x < v, false); return out;
    case 'lte': if (typeof v !== 'number') return null; each((x) => x <= v, false); return out;
    case 'in':
    case 'nin': {
      const list: readonly unknown[] = leaf.value;
      if (!list.every((x) => typeof x === 'number')) return null;
      const set = new Set(list as number[]);
      if (leaf.op === 'in') each((x) => set.has(x), false);
      else each((x) => !set.has(x), true);
      return out;
    }
    default:
      return null;
  }
}

export function filterBitmap(node: FilterNode, src: BitmapSource): Uint8Array {
  const n = src.rows;
  switch (node.kind) {
    case 'and':
    case 'or': {
      const parts = node.children.map((c) => filterBitmap(c, src));
      const out = parts[0]!.slice();
      for (const part of parts.slice(1)) {
        for (let row = 0; row < n; row++) out[row] = node.kind === 'and' ? out[row]! & part[row]! : out[row]! | part[row]!;
      }
      return out;
    }
    case 'not': {
      const child = filterBitmap(node.child, src);
      for (let row = 0; row < n; row++) child[row] = child[row]! ^ 1;
      return child;
    }
    case 'leaf': {
      const fast = numericLeaf(node, src);
      if (fast) return fast;
      const match = compileNode(node);
      const out = new Uint8Array(n);
      for (let row = 0; row < n; row++) out[row] = match(src.doc(row)) ? 1 : 0;
      return out;
    }
  }
}
