// turbopuffer's filter syntax, `["attr", "Op", value]` leaves under `["And"|"Or", [...]]` and
// `["Not", f]`, parsed into Silt's own filter tree (src/query/filter/), so both APIs share one
// checker, one compiler and one set of pruning rules. Differences from Silt's native syntax are
// turbopuffer's: `Contains` tests an array element, never a substring; `Not…` operators are the
// negation of their positive form.
import type { NamespaceSchema } from '../schema/types.ts';
import { FilterError, type FieldType, type FilterNode, type FilterOp, type LeafNode } from '../query/filter/ast.ts';
import { FILTER_MAX_DEPTH } from '../query/filter/ast.ts';
import { parseOperand } from '../query/filter/operands.ts';
import { compileGlob, GlobSyntaxError } from '../query/filter/glob.ts';
import { analyzerOf } from '../query/filter/extended.ts';
import { readDocId } from '../schema/document.ts';
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

/** Operators Silt's own syntax lacks (query/filter/extended.ts), by the leaf they produce. */
const EXTENDED_OPS: Readonly<Record<string, { op: 'anygt' | 'anygte' | 'anylt' | 'anylte' | 'iglob' | 'regex' | 'tokens_all' | 'tokens_any' | 'token_seq'; not?: true }>> = {
  AnyLt: { op: 'anylt' },
  AnyLte: { op: 'anylte' },
  AnyGt: { op: 'anygt' },
  AnyGte: { op: 'anygte' },
  IGlob: { op: 'iglob' },
  NotIGlob: { op: 'iglob', not: true },
  Regex: { op: 'regex' },
  ContainsAllTokens: { op: 'tokens_all' },
  ContainsAnyToken: { op: 'tokens_any' },
  ContainsTokenSequence: { op: 'token_seq' },
};
const OPERATORS = [...Object.keys(LEAF_OPS), ...Object.keys(EXTENDED_OPS)].join(', ');

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
  const withParams = json.length === 4 && typeof second === 'string' && TOKEN_OPS.has(second);
  if ((json.length !== 3 && !withParams) || typeof head !== 'string') {
    throw new FilterError(path, 'expected ["attribute", "Operator", value], ["And", [...]], ["Or", [...]] or ["Not", filter]');
  }
  if (typeof second === 'string' && Object.hasOwn(EXTENDED_OPS, second)) {
    const meaning = EXTENDED_OPS[second]!;
    const leaf = extendedLeaf(meaning.op, head, schema, resolveRefs(third, `${path}[2]`, opts), json[3], path);
    return meaning.not ? { kind: 'not', child: leaf } : leaf;
  }
  if (typeof second !== 'string' || !Object.hasOwn(LEAF_OPS, second)) {
    throw new FilterError(`${path}[1]`, `unknown operator ${JSON.stringify(second)}; supported: ${OPERATORS}`);
  }
  const meaning = LEAF_OPS[second]!;
  const fieldType = fieldTypeOf(head, schema, `${path}[0]`);
  if (fieldType === 'id' && ORDERING.has(meaning.op)) return idRange(meaning.op as 'lt', resolveRefs(third, `${path}[2]`, opts), `${path}[2]`);
  const isArray = fieldType === 'array<string>' || fieldType === 'array<integer>';
  if (meaning.arrayOnly && !isArray) {
    throw new FilterError(`${path}[1]`, `'${second}' tests the elements of an array attribute, and '${head}' is ${fieldType}; use Eq, In or Glob`);
  }
  const value = resolveRefs(third, `${path}[2]`, opts);
  // turbopuffer tests any attribute, arrays included, for a missing value with Eq / NotEq null.
  if (value === null && third === null && (meaning.op === 'eq' || meaning.op === 'ne') && fieldType !== 'id') {
    return { kind: 'leaf', field: head, fieldType, op: meaning.op, value: null };
  }
  // A condition comparing with an attribute the new row leaves unset is false, as in SQL.
  if (value === null && third !== null && ORDERING.has(meaning.op)) return NEVER;
  const leaf = parseOperand(meaning.op, head, fieldType, value, `${path}[2]`, `${path}[1]`);
  return meaning.not ? { kind: 'not', child: leaf } : leaf;
}

const TOKEN_OPS = new Set(['ContainsAllTokens', 'ContainsAnyToken', 'ContainsTokenSequence']);

/** Every comparison applies to the id: ids compare with ids of their own kind (u64 or string). */
function idRange(op: 'lt' | 'lte' | 'gt' | 'gte', value: unknown, path: string): LeafNode {
  const r = readDocId(value);
  if ('problem' in r) throw new FilterError(path, r.problem);
  return { kind: 'leaf', field: 'id', fieldType: 'id', op, value: r.id };
}

function extendedLeaf(op: (typeof EXTENDED_OPS)[string]['op'], field: string, schema: NamespaceSchema, value: unknown, params: unknown, path: string): LeafNode {
  const fieldType = fieldTypeOf(field, schema, `${path}[0]`);
  const base = { kind: 'leaf' as const, field, fieldType };
  const valuePath = `${path}[2]`;
  if (op === 'anygt' || op === 'anygte' || op === 'anylt' || op === 'anylte') {
    const element = fieldType === 'array<integer>' ? 'number' : fieldType === 'array<string>' ? 'string' : null;
    if (!element) throw new FilterError(`${path}[1]`, `'${field}' is ${fieldType}; Any… operators compare the elements of an array attribute, use Lt/Lte/Gt/Gte`);
    if (typeof value !== element) throw new FilterError(valuePath, `'${field}' holds ${element}s; compare its elements with a ${element}`);
    return { ...base, op, value: value as number | string };
  }
  if (op === 'iglob' || op === 'regex') {
    if (fieldType !== 'string') throw new FilterError(`${path}[1]`, `'${field}' is ${fieldType}; ${op === 'regex' ? 'Regex' : 'IGlob'} matches string attributes only`);
    if (typeof value !== 'string') throw new FilterError(valuePath, 'expected a pattern string');
    try {
      if (op === 'iglob') compileGlob(value.toLowerCase());
      else new RegExp(value, 'u');
    } catch (e) {
      if (e instanceof GlobSyntaxError || e instanceof SyntaxError) throw new FilterError(valuePath, `invalid pattern ${JSON.stringify(value)}: ${e.message}`);
      throw e;
    }
    return { ...base, op, value };
  }
  const attr = ownValue(schema.attributes, field);
  if (!attr?.full_text) throw new FilterError(`${path}[0]`, `'${field}' is not a full-text attribute; token filters use the attribute's analyzer, so enable full-text search on it`);
  let prefix = false;
  if (params !== undefined) {
    if (typeof params !== 'object' || params === null || Array.isArray(params) || Object.keys(params).some((k) => k !== 'last_as_prefix')) {
      throw new FilterError(`${path}[3]`, 'expected {"last_as_prefix": true|false}');
    }
    const p = (params as { last_as_prefix?: unknown }).last_as_prefix;
    if (p !== undefined && typeof p !== 'boolean') throw new FilterError(`${path}[3].last_as_prefix`, 'must be true or false');
    prefix = p === true;
    if (prefix && op === 'token_seq') throw new FilterError(`${path}[3]`, 'last_as_prefix applies to ContainsAllTokens and ContainsAnyToken');
  }
  const analyze = analyzerOf(attr.full_text);
  let tokens: string[];
  if (typeof value === 'string') tokens = analyze(value);
  else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) tokens = value.flatMap((v) => analyze(v));
  else throw new FilterError(valuePath, 'expected a string, or a list of strings, of text to tokenize');
  return { ...base, op, value: tokens, prefix, options: attr.full_text };
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
