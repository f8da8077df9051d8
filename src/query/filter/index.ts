// Filters (DESIGN.md §4, docs/filters.md): typed JSON, validated against the namespace schema and
// compiled once per query into a predicate, plus a conservative test for pruning whole segments
// by their column min/max.

import type { NamespaceSchema } from '../../schema/types.ts';
import type { FilterNode } from './ast.ts';
import { collectFields, compileNode, type FilterableDoc } from './compile.ts';
import { parseFilter } from './parse.ts';

export {
  FILTER_MAX_DEPTH,
  FILTER_OPS,
  FilterError,
  type ContainsAnyLeaf,
  type ContainsLeaf,
  type EqualityLeaf,
  type FieldType,
  type FilterNode,
  type FilterOp,
  type GlobLeaf,
  type LeafNode,
  type MembershipLeaf,
  type RangeLeaf,
  type ScalarValue,
} from './ast.ts';
export type { FilterableDoc, Predicate } from './compile.ts';
export { compileGlob, GlobSyntaxError, type CompiledGlob } from './glob.ts';
export { parseFilter } from './parse.ts';
export { mayMatchRanges, type FieldRange } from './ranges.ts';
export { filterBitmap, type BitmapSource } from './bitmap.ts';

export interface CompiledFilter {
  /** True when the document passes the filter. */
  match(doc: FilterableDoc): boolean;
  /** Every field the filter reads; includes 'id' when it filters on the document id. */
  fields: Set<string>;
  /** The validated, normalized tree (for mayMatchRanges and for explaining a query). */
  ast: FilterNode;
}

/** Compiles a tree another parser validated (turbopuffer's array syntax, src/turbopuffer/filters.ts). */
export function compileFilterNode(ast: FilterNode): CompiledFilter {
  return { match: compileNode(ast), fields: collectFields(ast), ast };
}

/**
 * Validates `json` against `schema` and compiles it. Throws FilterError (a client error) naming
 * the offending place, e.g. `filter.and[1].value`; `path` is the name of the filter in the request.
 */
export function compileFilter(json: unknown, schema: NamespaceSchema, path = 'filter'): CompiledFilter {
  const ast = parseFilter(json, schema, path);
  return { match: compileNode(ast), fields: collectFields(ast), ast };
}
