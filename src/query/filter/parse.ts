// Parses a filter written in either accepted syntax (native `{"and": [...]}` / `{"field", "op",
// "value"}`, or Elacsym's `{"type": "and", "conditions": [...]}`) into the normalized FilterNode
// tree, checking every field, operator and value against the namespace schema. Any problem is a
// FilterError naming the exact place in the request; nothing is ignored or coerced.

import type { NamespaceSchema } from '../../schema/types.ts';
import {
  FILTER_MAX_DEPTH,
  FILTER_OPS,
  FilterError,
  type FieldType,
  type FilterNode,
  type FilterOp,
  type LeafNode,
} from './ast.ts';
import { describe, parseOperand } from './operands.ts';

type JsonObject = Record<string, unknown>;

const OP_LIST = FILTER_OPS.join(', ');
const LEAF_EXAMPLE = '{"field": "price", "op": "gte", "value": 10}';

/** Parses and validates `json` (found at `path` in the request) against `schema`. */
export function parseFilter(json: unknown, schema: NamespaceSchema, path = 'filter'): FilterNode {
  return parseNode(json, schema, path, 1);
}

function parseNode(json: unknown, schema: NamespaceSchema, path: string, depth: number): FilterNode {
  if (depth > FILTER_MAX_DEPTH) {
    throw new FilterError(
      path,
      `filters may nest at most ${FILTER_MAX_DEPTH} levels deep; flatten nested and/or lists ` +
        `or use 'in' instead of a long chain of 'or'`,
    );
  }
  if (!isObject(json)) {
    throw new FilterError(
      path,
      `expected a filter object such as ${LEAF_EXAMPLE} or {"and": [...]}, got ${describe(json)}`,
    );
  }
  const combinators = (['and', 'or', 'not'] as const).filter((key) => Object.hasOwn(json, key));
  if (combinators.length > 1) {
    throw new FilterError(
      path,
      `one object cannot hold both '${combinators[0]}' and '${combinators[1]}'; ` +
        `nest them, e.g. {"and": [{"or": [...]}, ...]}`,
    );
  }
  const combinator = combinators[0];
  if (combinator !== undefined) {
    for (const key of Object.keys(json)) {
      if (key !== combinator) {
        throw new FilterError(
          `${path}.${key}`,
          `unexpected key '${key}' next to '${combinator}'; an object with '${combinator}' has no other keys`,
        );
      }
    }
    if (combinator === 'not') {
      return { kind: 'not', child: parseNode(json.not, schema, `${path}.not`, depth + 1) };
    }
    const children = parseList(json[combinator], schema, `${path}.${combinator}`, combinator, depth);
    return { kind: combinator, children };
  }
  if (Object.hasOwn(json, 'type')) return parseTyped(json, schema, path, depth);
  if (Object.hasOwn(json, 'op') || Object.hasOwn(json, 'field')) {
    rejectUnexpectedKeys(json, ['field', 'op', 'value'], path, 'a filter leaf');
    return parseLeaf(json, 'op', schema, path);
  }
  const keys = Object.keys(json);
  throw new FilterError(
    path,
    `not a filter: expected ${LEAF_EXAMPLE}, {"and": [...]}, {"or": [...]}, {"not": {...}} ` +
      `or {"type": ..., ...}; got ${keys.length === 0 ? 'an empty object' : `keys ${keys.join(', ')}`}`,
  );
}

function parseList(
  value: unknown,
  schema: NamespaceSchema,
  path: string,
  kind: 'and' | 'or',
  depth: number,
): FilterNode[] {
  if (!Array.isArray(value)) {
    throw new FilterError(path, `'${kind}' takes a list of filters, got ${describe(value)}`);
  }
  if (value.length === 0) {
    throw new FilterError(
      path,
      `an empty '${kind}' list has no clear meaning; give at least one filter, ` +
        `or leave the filter out to match every document`,
    );
  }
  return value.map((child, i) => parseNode(child, schema, `${path}[${i}]`, depth + 1));
}

/** Elacsym's form: `{"type": "and"|"or", "conditions"}`, `{"type": "not", "condition"}`, leaves. */
function parseTyped(json: JsonObject, schema: NamespaceSchema, path: string, depth: number): FilterNode {
  const type = json.type;
  if (type === 'and' || type === 'or') {
    rejectUnexpectedKeys(json, ['type', 'conditions'], path, `a '${type}' filter`);
    if (!Object.hasOwn(json, 'conditions')) {
      throw new FilterError(path, `'${type}' needs a 'conditions' list of filters`);
    }
    const children = parseList(json.conditions, schema, `${path}.conditions`, type, depth);
    return { kind: type, children };
  }
  if (type === 'not') {
    rejectUnexpectedKeys(json, ['type', 'condition', 'conditions'], path, `a 'not' filter`);
    const hasOne = Object.hasOwn(json, 'condition');
    const hasList = Object.hasOwn(json, 'conditions');
    if (hasOne === hasList) {
      throw new FilterError(
        path,
        `'not' needs exactly one of 'condition' (a filter) or 'conditions' (a list of one filter)`,
      );
    }
    if (hasOne) {
      return { kind: 'not', child: parseNode(json.condition, schema, `${path}.condition`, depth + 1) };
    }
    const list = json.conditions;
    if (!Array.isArray(list) || list.length !== 1) {
      throw new FilterError(
        `${path}.conditions`,
        `'not' negates exactly one filter, got ${describe(list)}; ` +
          `to negate several, wrap them: {"type": "not", "condition": {"type": "or", "conditions": [...]}}`,
      );
    }
    return { kind: 'not', child: parseNode(list[0], schema, `${path}.conditions[0]`, depth + 1) };
  }
  if (typeof type === 'string' && isFilterOp(type)) {
    rejectUnexpectedKeys(json, ['type', 'field', 'value'], path, 'a filter leaf');
    return parseLeaf(json, 'type', schema, path);
  }
  throw new FilterError(
    `${path}.type`,
    `unknown filter type ${describe(type)}; use and, or, not, or an operator: ${OP_LIST}` +
      didYouMean(type),
  );
}

function parseLeaf(json: JsonObject, opKey: 'op' | 'type', schema: NamespaceSchema, path: string): LeafNode {
  const op = json[opKey];
  if (!Object.hasOwn(json, opKey)) {
    throw new FilterError(path, `missing '${opKey}'; a leaf looks like ${LEAF_EXAMPLE}`);
  }
  if (typeof op !== 'string' || !isFilterOp(op)) {
    throw new FilterError(
      `${path}.${opKey}`,
      `unknown operator ${describe(op)}; use one of ${OP_LIST}${didYouMean(op)}`,
    );
  }
  const field = json.field;
  if (!Object.hasOwn(json, 'field')) {
    throw new FilterError(path, `missing 'field'; a leaf looks like ${LEAF_EXAMPLE}`);
  }
  if (typeof field !== 'string' || field === '') {
    throw new FilterError(`${path}.field`, `'field' must be an attribute name or "id", got ${describe(field)}`);
  }
  if (!Object.hasOwn(json, 'value')) {
    throw new FilterError(
      path,
      `missing 'value' for '${op}'; write "value": null to test for a missing attribute with eq/ne`,
    );
  }
  const fieldType = resolveField(field, schema, `${path}.field`);
  return parseOperand(op, field, fieldType, json.value, `${path}.value`, `${path}.${opKey}`);
}

function resolveField(field: string, schema: NamespaceSchema, path: string): FieldType {
  if (field === 'id') return 'id';
  const attribute = Object.hasOwn(schema.attributes, field) ? schema.attributes[field] : undefined;
  if (attribute === undefined) {
    const known = Object.keys(schema.attributes)
      .filter((name) => schema.attributes[name]?.filterable === true)
      .sort();
    const listed = known.length > 20 ? `${known.slice(0, 20).join(', ')}, …` : known.join(', ');
    throw new FilterError(
      path,
      `unknown attribute '${field}'; this namespace can filter on id` +
        (listed === '' ? '' : `, ${listed}`),
    );
  }
  if (!attribute.filterable) {
    throw new FilterError(
      path,
      `attribute '${field}' is declared with filterable: false and cannot be used in a filter; ` +
        `declare it filterable in the namespace schema to filter on it`,
    );
  }
  return attribute.type;
}

function rejectUnexpectedKeys(json: JsonObject, allowed: readonly string[], path: string, what: string): void {
  for (const key of Object.keys(json)) {
    if (!allowed.includes(key)) {
      throw new FilterError(
        `${path}.${key}`,
        `unexpected key '${key}' in ${what}; allowed keys are ${allowed.join(', ')}`,
      );
    }
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFilterOp(value: string): value is FilterOp {
  return (FILTER_OPS as readonly string[]).includes(value);
}

function didYouMean(value: unknown): string {
  if (typeof value !== 'string') return '';
  const lower = value.toLowerCase();
  const match = isFilterOp(lower) || ['and', 'or', 'not'].includes(lower) ? lower : undefined;
  return match === undefined ? '' : ` (names are lowercase: did you mean '${match}'?)`;
}
