// turbopuffer's filter syntax, `["attr", "Op", value]` leaves under `["And"|"Or", [...]]` and
// `["Not", f]`, parsed into Silt's own filter tree (src/query/filter/), so both APIs share one
// checker, one compiler and one set of pruning rules. Differences from Silt's native syntax are
// turbopuffer's: `Contains` tests an array element, never a substring; `Not…` operators are the
// negation of their positive form.
import type { NamespaceSchema } from '../schema/types.ts';
import { FilterError, type FieldType, type FilterNode, type FilterOp } from '../query/filter/ast.ts';
import { FILTER_MAX_DEPTH } from '../query/filter/ast.ts';
import { parseOperand } from '../query/filter/operands.ts';
import { ownValue } from '../schema/records.ts';

/** A turbopuffer operator: the Silt operator it means, and whether it is negated. */
const LEAF_OPS: Readonly<Record<string, { op: FilterOp; not?: true; arrayOnly?: true }>> = {
  Eq: { op: 'eq' },
  NotEq: { op: 'ne' },
  In: { op: 'in' },
  NotIn: { op: 'nin' },
  Lt: { op: 'lt' },
  Lte: { op: 'lte' },
  Gt: { op: 'gt' },
  Gte: { op: 'gte' },
  Glob: { op: 'glob' },
  NotGlob: { op: 'glob', not: true },
  Contains: { op: 'contains', arrayOnly: true },
  NotContains: { op: 'contains', not: true, arrayOnly: true },
  ContainsAny: { op: 'containsany', arrayOnly: true },
  NotContainsAny: { op: 'containsany', not: true, arrayOnly: true },
};

const ORDERING = new Set<FilterOp>(['lt', 'lte', 'gt', 'gte']);
/** Matches no document (an empty Or). */
const NEVER: FilterNode = { kind: 'or', children: [] };

export interface TurbopufferFilterOptions {
  /**
   * The row being written, for a write condition: `{"$ref_new": "attr"}` in a value stands for
   * that row's attribute (null when the row does not set it). Absent outside conditions.
   */
  refNew?: Readonly<Record<string, unknown>>;
}

/** Parses `json`, found at `path` in the request (e.g. "filters"), against `schema`. */
export function parseTurbopufferFilter(json: unknown, schema: NamespaceSchema, path: string, opts: TurbopufferFilterOptions = {}): FilterNode {
  return node(json, schema, path, 1, opts);
}

function node(json: unknown, schema: NamespaceSchema, path: string, depth: number, opts: TurbopufferFilterOptions): FilterNode {
  if (depth > FILTER_MAX_DEPTH) throw new FilterError(path, `filters may nest at most ${FILTER_MAX_DEPTH} levels deep`);
  if (!Array.isArray(json) || json.length === 0) {
    throw new FilterError(path, 'expected a filter such as ["price", "Gte", 10] or ["And", [[...], [...]]]');
  }
  const [head, second, third] = json as unknown[];
  if (head === 'And' || head === 'Or') {
    if (json.length !== 2 || !Array.isArray(second)) throw new FilterError(path, `expected ["${head}", [filter, ...]]`);
    const children = second.map((child, i) => node(child, schema, `${path}[1][${i}]`, depth + 1, opts));
    return { kind: head === 'And' ? 'and' : 'or', children };
  }
  if (head === 'Not') {
    if (json.length !== 2) throw new FilterError(path, 'expected ["Not", filter]');
    return { kind: 'not', child: node(second, schema, `${path}[1]`, depth + 1, opts) };
  }
  if (json.length !== 3 || typeof head !== 'string') {
    throw new FilterError(path, 'expected ["attribute", "Operator", value], ["And", [...]], ["Or", [...]] or ["Not", filter]');
  }
  if (typeof second !== 'string' || !Object.hasOwn(LEAF_OPS, second)) {
    throw new FilterError(`${path}[1]`, `unknown operator ${JSON.stringify(second)}; supported: ${Object.keys(LEAF_OPS).join(', ')}`);
  }
  const meaning = LEAF_OPS[second]!;
  const fieldType = fieldTypeOf(head, schema, `${path}[0]`);
  const isArray = fieldType === 'array<string>' || fieldType === 'array<integer>';
  if (meaning.arrayOnly && !isArray) {
    throw new FilterError(`${path}[1]`, `'${second}' tests the elements of an array attribute, and '${head}' is ${fieldType}; use Eq, In or Glob`);
  }
  const value = resolveRefs(third, `${path}[2]`, opts);
  // A condition comparing with an attribute the new row leaves unset is false, as in SQL.
  if (value === null && third !== null && ORDERING.has(meaning.op)) return NEVER;
  const leaf = parseOperand(meaning.op, head, fieldType, value, `${path}[2]`, `${path}[1]`);
  return meaning.not ? { kind: 'not', child: leaf } : leaf;
}

function fieldTypeOf(field: string, schema: NamespaceSchema, path: string): FieldType {
  if (field === 'id') return 'id';
  const attr = ownValue(schema.attributes, field);
  if (!attr) throw new FilterError(path, `unknown attribute '${field}'; filter on id or an attribute of the schema`);
  return attr.type;
}

/** Replaces `{"$ref_new": "attr"}` (a whole value, or an element of a list) with the new row's value. */
function resolveRefs(value: unknown, path: string, opts: TurbopufferFilterOptions): unknown {
  if (Array.isArray(value)) return value.map((v, i) => resolveRefs(v, `${path}[${i}]`, opts));
  if (typeof value !== 'object' || value === null || !Object.hasOwn(value, '$ref_new')) return value;
  const name = (value as { $ref_new: unknown }).$ref_new;
  if (Object.keys(value).length !== 1 || typeof name !== 'string') throw new FilterError(path, 'expected {"$ref_new": "attribute"}');
  if (!opts.refNew) throw new FilterError(path, '$ref_new refers to the row being written, so it is allowed only in upsert_condition, patch_condition and delete_condition');
  return Object.hasOwn(opts.refNew, name) ? opts.refNew[name] ?? null : null;
}
