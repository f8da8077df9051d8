// The leaves only turbopuffer's filter syntax produces (ast.ts ExtendedLeaf): their compiled
// predicates and their segment-pruning answers. Kept apart so Silt's own syntax, its parser and
// its compiler read exactly as before.
import { createAnalyzer } from '../../segment/text/analyzer.ts';
import type { FullTextOptions } from '../../schema/types.ts';
import type { ExtendedLeaf, TokenLeaf } from './ast.ts';
import { compileGlob } from './glob.ts';
import type { FilterableDoc, Predicate } from './compile.ts';

type Read = (doc: FilterableDoc) => unknown;

export function compileExtended(leaf: ExtendedLeaf, read: Read): Predicate {
  switch (leaf.op) {
    case 'anygt':
    case 'anygte':
    case 'anylt':
    case 'anylte': {
      const bound = leaf.value;
      const type = typeof bound;
      const test = {
        anygt: (x: number | string) => x > bound,
        anygte: (x: number | string) => x >= bound,
        anylt: (x: number | string) => x < bound,
        anylte: (x: number | string) => x <= bound,
      }[leaf.op];
      return (doc) => {
        const value = read(doc);
        if (!Array.isArray(value)) return false;
        for (const x of value) if (typeof x === type && test(x as number | string)) return true;
        return false;
      };
    }
    case 'iglob': {
      const glob = compileGlob(leaf.value.toLowerCase());
      return (doc) => {
        const value = read(doc);
        return typeof value === 'string' && glob.test(value.toLowerCase());
      };
    }
    case 'regex': {
      const re = new RegExp(leaf.value, 'u');
      return (doc) => {
        const value = read(doc);
        return typeof value === 'string' && re.test(value);
      };
    }
    case 'tokens_all':
    case 'tokens_any':
    case 'token_seq':
      return compileTokens(leaf, read);
  }
}

const analyzers = new WeakMap<FullTextOptions, (text: string) => string[]>();

/** The analyzer of a full-text attribute, created once per options object. */
export function analyzerOf(options: FullTextOptions): (text: string) => string[] {
  let a = analyzers.get(options);
  if (!a) analyzers.set(options, (a = createAnalyzer(options)));
  return a;
}

/**
 * Token tests analyze the stored text per document: segments keep no positions, and a sequence
 * needs them. They are exact, and cost one analysis per row the filter reaches.
 */
function compileTokens(leaf: TokenLeaf, read: Read): Predicate {
  const analyze = analyzerOf(leaf.options);
  const wanted = leaf.value;
  const last = wanted.length - 1;
  const matches = (token: string, i: number) => (leaf.prefix && i === last ? token.startsWith(wanted[i]!) : token === wanted[i]);
  const tokensOf = (value: unknown): string[] | null => {
    if (typeof value === 'string') return analyze(value);
    if (Array.isArray(value)) return value.flatMap((v) => (typeof v === 'string' ? analyze(v) : []));
    return null;
  };
  if (wanted.length === 0) return () => leaf.op !== 'tokens_any';
  if (leaf.op === 'token_seq') {
    return (doc) => {
      const tokens = tokensOf(read(doc));
      if (!tokens) return false;
      for (let start = 0; start + wanted.length <= tokens.length; start++) {
        let i = 0;
        while (i < wanted.length && matches(tokens[start + i]!, i)) i++;
        if (i === wanted.length) return true;
      }
      return false;
    };
  }
  const all = leaf.op === 'tokens_all';
  return (doc) => {
    const tokens = tokensOf(read(doc));
    if (!tokens) return false;
    for (let i = 0; i < wanted.length; i++) {
      const found = tokens.some((t) => matches(t, i));
      if (found && !all) return true;
      if (!found && all) return false;
    }
    return all;
  };
}
