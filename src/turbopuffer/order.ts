// Ordering by attribute (`rank_by: ["price", "desc"]`, or a list of such keys), and its common
// case, ordering by id: how a turbopuffer user pages through a whole namespace
// (`rank_by: ["id", "asc"], filters: ["id", "Gt", last]`). By id, each segment is walked in its
// stored id order from the page's bound (a binary search), so a page costs its own length, not
// the namespace's size, at any depth; only the unindexed tail (bounded by backpressure) is scanned.
import type { AttributeValue, DocId } from '../schema/types.ts';
import type { RowSource } from '../segment/row-source.ts';
import type { CompiledFilter, FilterNode } from '../query/filter/index.ts';
import { matchingRows } from '../query/executor.ts';
import type { OrderKey } from './query-parse.ts';

export interface Picked {
  source: RowSource;
  row: number;
}

/**
 * Id order as segments store it (ids.ts): u64 ids ascending, then string ids by UTF-8 bytes
 * (which differs from UTF-16 order only between characters above U+FFFF and U+E000–U+FFFF).
 */
export function compareIdsStored(a: DocId, b: DocId): number {
  if (typeof a === 'bigint') return typeof b === 'bigint' ? (a < b ? -1 : a > b ? 1 : 0) : -1;
  if (typeof b === 'bigint') return 1;
  return a === b ? 0 : Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The first `limit` live rows matching `filter`, by id ascending or descending. */
export function pageById(sources: readonly RowSource[], filter: CompiledFilter | null, desc: boolean, limit: number): Picked[] {
  const bound = filter ? idBound(filter.ast, desc) : null;
  const fields = filter ? new Set([...filter.fields].filter((f) => f !== 'id')) : new Set<string>();
  const found: Array<Picked & { id: DocId }> = [];
  for (const source of sources) {
    const read = source.attributeReader?.(fields) ?? ((row: number) => source.attributes(row));
    const keep = (row: number, id: DocId) => source.isLive(row) && (!filter || filter.match({ id, attributes: read(row) }));
    const order = source.idOrder?.();
    if (!order) {
      for (let row = 0; row < source.rowCount; row++) {
        const id = source.id(row);
        if (keep(row, id)) found.push({ source, row, id });
      }
      continue;
    }
    let taken = 0;
    const step = desc ? -1 : 1;
    let i = bound === null ? (desc ? source.rowCount - 1 : 0) : order.positionAfter(bound.id, desc ? !bound.inclusive : bound.inclusive) - (desc ? 1 : 0);
    for (; i >= 0 && i < source.rowCount && taken < limit; i += step) {
      const row = order.rowInIdOrder(i);
      const id = source.id(row);
      if (!keep(row, id)) continue;
      found.push({ source, row, id });
      taken++;
    }
  }
  found.sort((a, b) => (desc ? -1 : 1) * compareIdsStored(a.id, b.id));
  return found.slice(0, limit);
}

/**
 * The tightest id bound the filter's top level (a leaf, or the leaves of an And) puts on the
 * side the scan starts from: a lower one ascending, an upper one descending.
 */
function idBound(ast: FilterNode, desc: boolean): { id: DocId; inclusive: boolean } | null {
  const leaves = ast.kind === 'and' ? ast.children : [ast];
  let best: { id: DocId; inclusive: boolean } | null = null;
  for (const leaf of leaves) {
    if (leaf.kind !== 'leaf' || leaf.fieldType !== 'id') continue;
    const wanted = desc ? ['lt', 'lte'] : ['gt', 'gte'];
    if (!wanted.includes(leaf.op)) continue;
    const id = leaf.value as DocId;
    const inclusive = leaf.op === 'gte' || leaf.op === 'lte';
    if (!best) {
      best = { id, inclusive };
      continue;
    }
    const c = compareIdsStored(id, best.id) * (desc ? -1 : 1);
    if (c > 0 || (c === 0 && !inclusive)) best = { id, inclusive };
  }
  return best;
}

/** Every live row matching `filter`, in each source's row order. */
export function allMatching(sources: readonly RowSource[], filter: CompiledFilter | null): Picked[] {
  const out: Picked[] = [];
  for (const source of sources) {
    if (filter) {
      for (const row of matchingRows(source, filter)) out.push({ source, row });
    } else {
      for (let row = 0; row < source.rowCount; row++) if (source.isLive(row)) out.push({ source, row });
    }
  }
  return out;
}

/**
 * Rows ordered by the keys, ties broken by id. A missing value sorts after every value, in
 * either direction. Sorts every match: a general order has no index to walk.
 */
export function orderByAttributes(sources: readonly RowSource[], filter: CompiledFilter | null, keys: readonly OrderKey[]): Picked[] {
  const fields = new Set(keys.map((k) => k.attr).filter((a) => a !== 'id'));
  const readers = new Map(sources.map((s) => [s, s.attributeReader?.(fields) ?? ((row: number) => s.attributes(row))]));
  const rows = allMatching(sources, filter).map((p) => {
    const attrs = fields.size === 0 ? {} : readers.get(p.source)!(p.row);
    const id = p.source.id(p.row);
    return { source: p.source, row: p.row, id, values: keys.map((k) => (k.attr === 'id' ? id : attrs[k.attr] ?? null)) };
  });
  rows.sort((a, b) => {
    for (let i = 0; i < keys.length; i++) {
      const c = compareValues(a.values[i]!, b.values[i]!, keys[i]!.desc);
      if (c !== 0) return c;
    }
    return compareIdsStored(a.id, b.id);
  });
  return rows;
}

function compareValues(a: AttributeValue | DocId, b: AttributeValue | DocId, desc: boolean): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  let c: number;
  if ((typeof a === 'bigint' || typeof a === 'string') && (typeof b === 'bigint' || typeof b === 'string') && (typeof a === 'bigint' || typeof b === 'bigint')) {
    c = compareIdsStored(a, b);
  } else {
    c = a < b ? -1 : a > b ? 1 : 0;
  }
  return desc ? -c : c;
}
