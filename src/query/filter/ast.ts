// The normalized filter tree that both accepted syntaxes parse into (docs/filters.md).
// Every leaf carries a value already checked against the attribute's type, so compiling and
// segment pruning never need to re-validate or guess.

import type { AttributeType, FullTextOptions } from '../../schema/types.ts';

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

/**
 * gt / gte / lt / lte over numbers, or strings ordered by UTF-16 code units; a bigint or string
 * bound on the document id (turbopuffer's syntax only) compares with ids of its own kind.
 */
export interface RangeLeaf extends LeafBase {
  op: 'gt' | 'gte' | 'lt' | 'lte';
  value: number | string | bigint;
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

/**
 * Leaves only turbopuffer's syntax produces (src/turbopuffer/filters.ts); Silt's own syntax keeps
 * FILTER_OPS. anygt… test whether some element of an array attribute compares so.
 */
export interface AnyRangeLeaf extends LeafBase {
  op: 'anygt' | 'anygte' | 'anylt' | 'anylte';
  value: number | string;
}

/** iglob: glob matched case-insensitively (both sides lower-cased). */
export interface IGlobLeaf extends LeafBase {
  op: 'iglob';
  value: string;
}

/** regex: a JavaScript regular expression (u flag) found anywhere in the string attribute. */
export interface RegexLeaf extends LeafBase {
  op: 'regex';
  value: string;
}

/**
 * Tokens of a full-text attribute, analyzed with its analyzer (`options`): all of them, any of
 * them, or all in sequence. `prefix`: the last token matches any token it begins.
 */
export interface TokenLeaf extends LeafBase {
  op: 'tokens_all' | 'tokens_any' | 'token_seq';
  value: readonly string[];
  prefix: boolean;
  options: FullTextOptions;
}

export type ExtendedLeaf = AnyRangeLeaf | IGlobLeaf | RegexLeaf | TokenLeaf;

export type LeafNode =
  | EqualityLeaf
  | RangeLeaf
  | MembershipLeaf
  | ContainsLeaf
  | ContainsAnyLeaf
  | GlobLeaf
  | ExtendedLeaf;

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
