// What the storage formats can hold. The request parsers (document.ts, the query and filter
// parsers) refuse anything else with a 400, and the segment builder checks the same rules again,
// so a value can never be acknowledged and then fail every flush: both sides call these functions.
//
// - Strings are stored as UTF-8 (WAL ids, segment columns, text terms). A lone UTF-16 surrogate
//   has no UTF-8 form and would become U+FFFD, so "s\ud800" and "s\udc00" would turn into the
//   same id after a restart. Only well-formed strings are accepted.
// - Vectors are stored as float32, with their length (norm) beside them as float32. A component
//   such as 3.5e38 is a finite double but Infinity as float32, so the check is on the stored value.
import type { AttributeType } from './types.ts';

declare global {
  interface String {
    /** ES2024 (Node 20): false when the string holds a lone surrogate. */
    isWellFormed(): boolean;
  }
}

export const FLOAT32_MAX = 3.4028234663852886e38;

/** Why `s` cannot be stored as UTF-8, or null when it can. */
export function unicodeProblem(s: string): string | null {
  if (s.isWellFormed()) return null;
  let at = 0;
  for (; at < s.length; at++) {
    const c = s.charCodeAt(at);
    if (c >= 0xd800 && c <= 0xdbff && at + 1 < s.length) {
      const next = s.charCodeAt(at + 1);
      if (next >= 0xdc00 && next <= 0xdfff) { at++; continue; }
    }
    if (c >= 0xd800 && c <= 0xdfff) break;
  }
  const code = s.charCodeAt(at).toString(16);
  return `string is not well-formed Unicode: it holds a lone UTF-16 surrogate \\u${code} at index ${at}, ` +
    'which has no UTF-8 form; send complete surrogate pairs (or the UTF-8 character itself)';
}

/**
 * Why the float32 vector at data[offset, offset + dim) cannot be stored, or null when it can.
 * `component` is the index of the offending component, or null when the vector as a whole is the
 * problem. Take the Float32Array the vector is stored in, not the numbers a client sent.
 */
export function vectorProblem(
  data: Float32Array,
  offset = 0,
  dim = data.length - offset,
): { component: number | null; problem: string } | null {
  let sumOfSquares = 0;
  for (let i = 0; i < dim; i++) {
    const x = data[offset + i]!;
    if (!Number.isFinite(x)) {
      return { component: i, problem: `is ${x} as float32; vectors are stored as float32, so components must lie within ±${FLOAT32_MAX}` };
    }
    sumOfSquares += x * x;
  }
  // The norm is stored as float32 too (and cosine/dot distances divide by it).
  if (!(Math.fround(Math.sqrt(sumOfSquares)) <= FLOAT32_MAX)) {
    return { component: null, problem: `its length (Euclidean norm) ${Math.sqrt(sumOfSquares)} is beyond float32 (${FLOAT32_MAX}); scale the vector down` };
  }
  return null;
}

/**
 * True when `value` (not null) is of `type` and within what its column stores exactly: integers
 * within ±(2^53 − 1) (columns hold f64), finite floats, well-formed strings.
 */
export function isStorableValue(type: AttributeType, value: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string' && value.isWellFormed();
    case 'integer':
      return Number.isSafeInteger(value);
    case 'float':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array<string>':
      return Array.isArray(value) && value.every((v) => typeof v === 'string' && v.isWellFormed());
    case 'array<integer>':
      return Array.isArray(value) && value.every((v) => Number.isSafeInteger(v));
  }
}
