// Glob patterns for the `glob` filter: `*` any run of characters (possibly empty), `?` exactly one
// character (a Unicode code point), `[abc]` `[a-z]` one of a set, `[!x]` (or `[^x]`) anything but,
// `\c` the character c literally. The whole string must match; everything else is literal.
//
// Why not one RegExp for the whole pattern: `*` becomes `[\s\S]*`, and a pattern with several
// stars backtracks polynomially — measured here, `*a*a*a*a*a*b` against 160 'a's took 42 s with
// a single anchored RegExp (0.6 s at 80 characters). A filter runs once per candidate document,
// so that is a denial of service. Instead the pattern is split at its stars into fixed-width
// segments, each compiled once to a RegExp with no quantifiers, and the segments are matched
// left to right, each at its leftmost possible position. For fixed-width segments the leftmost
// choice never loses a match, so this is exact, and it costs O(text × pattern) at worst.

export class GlobSyntaxError extends Error {
  override readonly name = 'GlobSyntaxError';
}

export interface CompiledGlob {
  /** True when `text` matches the whole pattern. */
  test(text: string): boolean;
  /** Literal characters every match starts with ('' when the pattern starts with a wildcard). */
  readonly literalPrefix: string;
  /** True when the pattern has no wildcards: it matches exactly the string `literalPrefix`. */
  readonly isLiteral: boolean;
}

/** One star-free piece of the pattern: regex source, width in code points, leading literal. */
interface Segment {
  source: string;
  width: number;
  literal: string;
  isLiteral: boolean;
}

// With the `u` flag only syntax characters (and `/`) may be escaped outside a class; inside a
// class `-` may be escaped too.
const SYNTAX_OUTSIDE = new Set(['^', '$', '\\', '.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '/']);
const SYNTAX_INSIDE = new Set([...SYNTAX_OUTSIDE, '-']);

function escapeOutside(ch: string): string {
  return SYNTAX_OUTSIDE.has(ch) ? `\\${ch}` : ch;
}

function escapeInside(ch: string): string {
  return SYNTAX_INSIDE.has(ch) ? `\\${ch}` : ch;
}

/** Splits the pattern (as code points) into star-separated segments; throws GlobSyntaxError. */
function parseSegments(pattern: string): Segment[] {
  const chars = Array.from(pattern);
  const segments: Segment[] = [];
  let current: Segment = { source: '', width: 0, literal: '', isLiteral: true };

  const addLiteral = (ch: string): void => {
    current.source += escapeOutside(ch);
    current.width += 1;
    if (current.isLiteral) current.literal += ch;
  };
  const addWildcard = (source: string): void => {
    current.source += source;
    current.width += 1;
    current.isLiteral = false;
  };

  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === '*') {
      segments.push(current);
      current = { source: '', width: 0, literal: '', isLiteral: true };
      while (chars[i + 1] === '*') i++; // `**` means the same as `*`
    } else if (ch === '?') {
      addWildcard('.');
    } else if (ch === '\\') {
      const next = chars[i + 1];
      if (next === undefined) {
        throw new GlobSyntaxError(
          `the pattern ends with a lone '\\'; write '\\\\' to match a backslash`,
        );
      }
      addLiteral(next);
      i++;
    } else if (ch === '[') {
      const parsed = parseClass(chars, i);
      addWildcard(parsed.source);
      i = parsed.end;
    } else {
      addLiteral(ch);
    }
  }
  segments.push(current);
  return segments;
}

/** Parses the class opening at chars[open]; returns its regex source and the index of its `]`. */
function parseClass(chars: string[], open: number): { source: string; end: number } {
  let i = open + 1;
  let negate = false;
  if (chars[i] === '!' || chars[i] === '^') {
    negate = true;
    i++;
  }
  const members: string[] = [];
  let first = true;
  for (;;) {
    let ch = chars[i];
    if (ch === undefined) {
      throw new GlobSyntaxError(
        `'[' at character ${open + 1} is never closed; write '[[]' or '\\[' to match a literal '['`,
      );
    }
    if (ch === ']' && !first) break;
    first = false;
    if (ch === '\\') {
      i++;
      ch = chars[i];
      if (ch === undefined) {
        throw new GlobSyntaxError(
          `'[' at character ${open + 1} is never closed; write '[[]' or '\\[' to match a literal '['`,
        );
      }
    }
    // `a-z` is a range unless the '-' is the last character of the class.
    const upper = chars[i + 2];
    if (chars[i + 1] === '-' && upper !== undefined && upper !== ']') {
      let hi = upper;
      let skip = 2;
      if (hi === '\\' && chars[i + 3] !== undefined) {
        hi = chars[i + 3] as string;
        skip = 3;
      }
      if ((ch.codePointAt(0) ?? 0) > (hi.codePointAt(0) ?? 0)) {
        throw new GlobSyntaxError(
          `range '${ch}-${hi}' in the class at character ${open + 1} is reversed; write '${hi}-${ch}'`,
        );
      }
      members.push(`${escapeInside(ch)}-${escapeInside(hi)}`);
      i += skip + 1;
      continue;
    }
    members.push(escapeInside(ch));
    i++;
  }
  return { source: `[${negate ? '^' : ''}${members.join('')}]`, end: i };
}

const HIGH_SURROGATE_MIN = 0xd800;
const HIGH_SURROGATE_MAX = 0xdbff;
const LOW_SURROGATE_MIN = 0xdc00;
const LOW_SURROGATE_MAX = 0xdfff;

/** UTF-16 index of the start of the last `count` code points of `text`, or -1 if it is shorter. */
function startOfLastCodePoints(text: string, count: number): number {
  let index = text.length;
  for (let n = 0; n < count; n++) {
    if (index === 0) return -1;
    index--;
    const unit = text.charCodeAt(index);
    if (unit >= LOW_SURROGATE_MIN && unit <= LOW_SURROGATE_MAX && index > 0) {
      const before = text.charCodeAt(index - 1);
      if (before >= HIGH_SURROGATE_MIN && before <= HIGH_SURROGATE_MAX) index--;
    }
  }
  return index;
}

/** Compiles a glob pattern once; throws GlobSyntaxError with a message saying how to fix it. */
export function compileGlob(pattern: string): CompiledGlob {
  const segments = parseSegments(pattern);
  const head = segments[0] as Segment;
  const literalPrefix = head.literal;

  if (segments.length === 1) {
    if (head.isLiteral) {
      return { test: (text) => text === literalPrefix, literalPrefix, isLiteral: true };
    }
    const whole = new RegExp(`^${head.source}$`, 'su');
    return { test: (text) => whole.test(text), literalPrefix, isLiteral: false };
  }

  const tail = segments[segments.length - 1] as Segment;
  const middles = segments.slice(1, -1).map((segment) => new RegExp(segment.source, 'gsu'));
  const headRegex = new RegExp(head.source, 'ysu');
  const tailRegex = new RegExp(`${tail.source}$`, 'ysu');

  const test = (text: string): boolean => {
    let position = 0;
    if (head.width > 0) {
      headRegex.lastIndex = 0;
      if (!headRegex.test(text)) return false;
      position = headRegex.lastIndex;
    }
    const tailStart = startOfLastCodePoints(text, tail.width);
    if (tailStart < position) return false;
    for (const middle of middles) {
      middle.lastIndex = position;
      if (!middle.test(text)) return false;
      position = middle.lastIndex;
      if (position > tailStart) return false;
    }
    if (tail.width === 0) return true;
    tailRegex.lastIndex = tailStart;
    return tailRegex.test(text);
  };
  return { test, literalPrefix, isLiteral: false };
}
