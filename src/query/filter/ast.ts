// The normalized filter tree that both accepted syntaxes parse into (docs/filters.md).
// Every leaf carries a value already checked against the attribute's type, so compiling and
// segment pruning never need to re-validate or guess.

import type { AttributeType } from '../../schema/types.ts';

export const FILTER_OPS = [
  'eq',
  'ne',
  'gt',
  'gte',
  'lt',
  'lte',
  'in',
  'nin',
  'contains',
  'containsany',
  'glob',
] as const;

export type FilterOp = (typeof FILTER_OPS)[number];

/** Deepest allowed nesting of and/or/not (a lone leaf has depth 1). */
export const FILTER_MAX_DEPTH = 32;

/** The document id is filtered as the pseudo-field `id`; every other field is an attribute. */
export type FieldType = AttributeType | 'id';

/** A scalar filter value: bigint and string for ids, the attribute's own type otherwise. */
export type ScalarValue = string | number | boolean | bigint;

interface LeafBase {
  kind: 'leaf';
  field: string;
  fieldType: FieldType;
}

/** eq / ne; `null` tests for a missing (or null) attribute. */
export interface EqualityLeaf extends LeafBase {
  op: 'eq' | 'ne';
  value: ScalarValue | null;
}

/** gt / gte / lt / lte over numbers, or strings ordered by UTF-16 code units. */
export interface RangeLeaf extends LeafBase {
  op: 'gt' | 'gte' | 'lt' | 'lte';
  value: number | string;
}

/** in / nin; the list holds values of the field's scalar type (possibly none). */
export interface MembershipLeaf extends LeafBase {
  op: 'in' | 'nin';
  value: readonly ScalarValue[];
}

/** contains: an element of an array attribute, or a substring of a string attribute. */
export interface ContainsLeaf extends LeafBase {
  op: 'contains';
  value: string | number;
}

/** containsany: the array attribute shares at least one element with `value`. */
export interface ContainsAnyLeaf extends LeafBase {
  op: 'containsany';
  value: readonly (string | number)[];
}

/** glob: the whole string attribute matches the pattern (see glob.ts). */
export interface GlobLeaf extends LeafBase {
  op: 'glob';
  value: string;
}

export type LeafNode =
  | EqualityLeaf
  | RangeLeaf
  | MembershipLeaf
  | ContainsLeaf
  | ContainsAnyLeaf
  | GlobLeaf;

export type FilterNode =
  | { kind: 'and'; children: FilterNode[] }
  | { kind: 'or'; children: FilterNode[] }
  | { kind: 'not'; child: FilterNode }
  | LeafNode;

/**
 * A filter that cannot be used as written. `path` points into the request body
 * (`filter.and[1].value`); `message` starts with that path, then says what is wrong and what to do.
 * Always a client error (HTTP 400): filters are never silently ignored or reinterpreted.
 */
export class FilterError extends Error {
  override readonly name = 'FilterError';
  readonly path: string;

  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.path = path;
  }
}
