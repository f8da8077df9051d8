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

const OPS = { eq: 0, ne: 1, gt: 2, gte: 3, lt: 4, lte: 5 } as const;

function numericLeaf(leaf: LeafNode, src: BitmapSource): Uint8Array | null {
  if (leaf.fieldType !== 'integer' && leaf.fieldType !== 'float') return null;
  const col = src.numericColumn?.(leaf.field);
  if (!col) return null;
  const { values, present } = col;
  const n = src.rows;
  const out = new Uint8Array(n);
  if (leaf.op === 'in' || leaf.op === 'nin') {
    const list: readonly unknown[] = leaf.value;
    if (!list.every((x) => typeof x === 'number')) return null;
    const set = new Set(list as number[]);
    const inside = leaf.op === 'in' ? 1 : 0;
    for (let row = 0; row < n; row++) {
      const has = (present[row >>> 3]! >> (row & 7)) & 1;
      out[row] = has ? (set.has(values[row]!) ? inside : 1 - inside) : 1 - inside;
    }
    return out;
  }
  if (!(leaf.op in OPS)) return null;
  const v = leaf.value;
  if (v === null && (leaf.op === 'eq' || leaf.op === 'ne')) {
    // eq null: missing; ne null: present.
    const want = leaf.op === 'eq' ? 0 : 1;
    for (let row = 0; row < n; row++) out[row] = ((present[row >>> 3]! >> (row & 7)) & 1) === want ? 1 : 0;
    return out;
  }
  if (typeof v !== 'number') return null;
  const op = OPS[leaf.op as keyof typeof OPS];
  // A missing value matches only ne (it is distinct from every value).
  const missing = op === OPS.ne ? 1 : 0;
  // One loop, the operator switched inside: the branch is perfectly predictable, and it is
  // several times faster than calling a comparison closure per row.
  for (let row = 0; row < n; row++) {
    if (((present[row >>> 3]! >> (row & 7)) & 1) === 0) {
      out[row] = missing;
      continue;
    }
    const x = values[row]!;
    let m: boolean;
    switch (op) {
      case 0: m = x === v; break;
      case 1: m = x !== v; break;
      case 2: m = x > v; break;
      case 3: m = x >= v; break;
      case 4: m = x < v; break;
      default: m = x <= v;
    }
    out[row] = m ? 1 : 0;
  }
  return out;
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
