// aggregate_by over every live row the filters match (top_k does not limit it): Count of rows,
// Count of rows with a value, Sum of a numeric attribute; with group_by, one result per distinct
// combination of the group attributes, in ascending order of those values, at most `limit` groups.
import type { RowSource } from '../segment/row-source.ts';
import type { CompiledFilter } from '../query/filter/index.ts';
import { allMatching } from './order.ts';
import type { Aggregate } from './query-parse.ts';

export interface AggregateResult {
  aggregations?: Record<string, number>;
  aggregation_groups?: Array<Record<string, unknown>>;
}

export function aggregate(sources: readonly RowSource[], filter: CompiledFilter | null, aggregates: Record<string, Aggregate>, groupBy: string[] | null, limit: number): AggregateResult {
  const fields = new Set<string>(groupBy ?? []);
  for (const a of Object.values(aggregates)) if (a.attr !== null) fields.add(a.attr);
  const groups = new Map<string, { key: unknown[]; totals: Record<string, number> }>();
  const fresh = () => Object.fromEntries(Object.keys(aggregates).map((n) => [n, 0]));
  for (const { source, row } of allMatching(sources, filter)) {
    const attrs = fields.size === 0 ? {} : (source.attributeReader?.(fields) ?? ((r: number) => source.attributes(r)))(row);
    const key = groupBy ? groupBy.map((g) => attrs[g] ?? null) : [];
    const k = JSON.stringify(key);
    let group = groups.get(k);
    if (!group) groups.set(k, (group = { key, totals: fresh() }));
    for (const [name, a] of Object.entries(aggregates)) {
      const v = a.attr === null ? null : attrs[a.attr];
      if (a.kind === 'count') group.totals[name]! += a.attr === null || (v !== undefined && v !== null) ? 1 : 0;
      else if (typeof v === 'number') group.totals[name]! += v;
    }
  }
  if (!groupBy) return { aggregations: groups.get('[]')?.totals ?? fresh() };
  const sorted = [...groups.values()].sort((a, b) => compareKeys(a.key, b.key)).slice(0, limit);
  return {
    aggregation_groups: sorted.map((g) => ({ ...Object.fromEntries(groupBy.map((name, i) => [name, g.key[i]])), ...g.totals })),
  };
}

function compareKeys(a: unknown[], b: unknown[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number | string | boolean | null;
    const y = b[i] as number | string | boolean | null;
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    const sx = typeof x === 'object' ? JSON.stringify(x) : x;
    const sy = typeof y === 'object' ? JSON.stringify(y) : y;
    if (sx < sy) return -1;
    if (sx > sy) return 1;
  }
  return 0;
}
