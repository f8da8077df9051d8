// Segment pruning: can any document of a segment match the filter, given only per-column
// min/max statistics? Each node is analysed three-valued — "can it be true for some document
// in the box?" and "can it be false for some document in the box?" — so that `not` stays sound:
// not(x) can be true only where x can be false. Each answer over-approximates, so the result is
// conservative: false means no document in the segment can match; true means "maybe".

import type { FieldType, FilterNode, LeafNode } from './ast.ts';
import { compileGlob } from './glob.ts';

/**
 * Statistics of one column in a segment. `min` and `max` bound every non-null value of the
 * attribute (for array attributes: every element of every array); `hasNull` is true when some
 * document lacks the attribute or holds null. Ranges whose min/max type does not fit the
 * attribute (numbers for integer/float/array<integer>, strings for string/array<string>) and
 * ranges for boolean attributes or `id` are ignored, i.e. treated as unknown.
 */
export interface FieldRange {
  min: number | string;
  max: number | string;
  hasNull: boolean;
}

interface Possibility {
  canBeTrue: boolean;
  canBeFalse: boolean;
}

const UNKNOWN: Possibility = { canBeTrue: true, canBeFalse: true };

/**
 * For segment pruning: false only when no document whose attribute values lie within the given
 * per-field [min, max] ranges can match. Fields absent from the map are unknown. Conservative:
 * never false when a match is possible.
 */
export function mayMatchRanges(node: FilterNode, ranges: Map<string, FieldRange>): boolean {
  return analyse(node, ranges).canBeTrue;
}

function analyse(node: FilterNode, ranges: Map<string, FieldRange>): Possibility {
  switch (node.kind) {
    case 'and': {
      let canBeTrue = true;
      let canBeFalse = false;
      for (const child of node.children) {
        const result = analyse(child, ranges);
        canBeTrue &&= result.canBeTrue;
        canBeFalse ||= result.canBeFalse;
      }
      return { canBeTrue, canBeFalse };
    }
    case 'or': {
      let canBeTrue = false;
      let canBeFalse = true;
      for (const child of node.children) {
        const result = analyse(child, ranges);
        canBeTrue ||= result.canBeTrue;
        canBeFalse &&= result.canBeFalse;
      }
      return { canBeTrue, canBeFalse };
    }
    case 'not': {
      const result = analyse(node.child, ranges);
      return { canBeTrue: result.canBeFalse, canBeFalse: result.canBeTrue };
    }
    case 'leaf': {
      const range = ranges.get(node.field);
      if (range === undefined || !rangeFits(node.fieldType, range)) return UNKNOWN;
      return analyseLeaf(node, range.min as number | string, range.max as number | string, range.hasNull);
    }
  }
}

function rangeFits(type: FieldType, range: FieldRange): boolean {
  switch (type) {
    case 'integer':
    case 'float':
    case 'array<integer>':
      return (
        typeof range.min === 'number' &&
        typeof range.max === 'number' &&
        !Number.isNaN(range.min) &&
        !Number.isNaN(range.max)
      );
    case 'string':
    case 'array<string>':
      return typeof range.min === 'string' && typeof range.max === 'string';
    case 'boolean':
    case 'id':
      return false;
  }
}

/** `lo`, `hi` and the leaf's values share one type here (numbers, or strings). */
function analyseLeaf(leaf: LeafNode, lo: number | string, hi: number | string, hasNull: boolean): Possibility {
  const hasValues = lo <= hi;
  const within = (value: number | string): boolean => hasValues && lo <= value && value <= hi;
  // True when every document with a value holds exactly `value`.
  const onlyValue = (value: number | string): boolean => hasValues && lo === value && hi === value;

  switch (leaf.op) {
    case 'eq':
    case 'ne': {
      const result: Possibility =
        leaf.value === null
          ? { canBeTrue: hasNull, canBeFalse: hasValues }
          : equality(leaf.value as number | string, within, onlyValue, hasNull);
      return leaf.op === 'eq' ? result : swap(result);
    }
    case 'in':
    case 'nin': {
      const values = leaf.value as readonly (number | string)[];
      const result: Possibility = {
        canBeTrue: values.some(within),
        canBeFalse: hasNull || !values.some(onlyValue),
      };
      return leaf.op === 'in' ? result : swap(result);
    }
    case 'gt':
      return {
        canBeTrue: hasValues && hi > leaf.value,
        canBeFalse: hasNull || !hasValues || lo <= leaf.value,
      };
    case 'gte':
      return {
        canBeTrue: hasValues && hi >= leaf.value,
        canBeFalse: hasNull || !hasValues || lo < leaf.value,
      };
    case 'lt':
      return {
        canBeTrue: hasValues && lo < leaf.value,
        canBeFalse: hasNull || !hasValues || hi >= leaf.value,
      };
    case 'lte':
      return {
        canBeTrue: hasValues && lo <= leaf.value,
        canBeFalse: hasNull || !hasValues || hi > leaf.value,
      };
    case 'contains':
      // A substring can hide anywhere in a string, so only an all-missing column rules it out;
      // an array element must itself lie within the element range.
      return { canBeTrue: leaf.fieldType === 'string' ? hasValues : within(leaf.value), canBeFalse: true };
    case 'containsany':
      return { canBeTrue: leaf.value.some(within), canBeFalse: true };
    case 'glob': {
      const glob = compileGlob(leaf.value);
      if (glob.isLiteral) return equality(glob.literalPrefix, within, onlyValue, hasNull);
      return { canBeTrue: hasValues && mayHavePrefix(glob.literalPrefix, lo as string, hi as string), canBeFalse: true };
    }
    // An element of the array must itself compare so.
    case 'anygt':
      return { canBeTrue: hasValues && hi > leaf.value, canBeFalse: true };
    case 'anygte':
      return { canBeTrue: hasValues && hi >= leaf.value, canBeFalse: true };
    case 'anylt':
      return { canBeTrue: hasValues && lo < leaf.value, canBeFalse: true };
    case 'anylte':
      return { canBeTrue: hasValues && lo <= leaf.value, canBeFalse: true };
    // Case folding, patterns and analysis do not follow code-unit order.
    case 'iglob':
    case 'regex':
    case 'tokens_all':
    case 'tokens_any':
    case 'token_seq':
      return { canBeTrue: hasValues, canBeFalse: true };
  }
}

function equality(
  value: number | string,
  within: (value: number | string) => boolean,
  onlyValue: (value: number | string) => boolean,
  hasNull: boolean,
): Possibility {
  return { canBeTrue: within(value), canBeFalse: hasNull || !onlyValue(value) };
}

function swap(result: Possibility): Possibility {
  return { canBeTrue: result.canBeFalse, canBeFalse: result.canBeTrue };
}

/**
 * Whether some string in [lo, hi] starts with `prefix`. Strings with a given prefix form one
 * contiguous run in code-unit order, starting at `prefix` itself; `lo` lies beyond that run
 * exactly when it is greater than `prefix` without starting with it.
 */
function mayHavePrefix(prefix: string, lo: string, hi: string): boolean {
  if (prefix === '') return true;
  return hi >= prefix && (lo <= prefix || lo.startsWith(prefix));
}
