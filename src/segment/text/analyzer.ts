// Text analysis for full-text attributes: text → the terms that are indexed and searched.
//
// language 'english' is Lucene's EnglishAnalyzer:
//   StandardTokenizer → EnglishPossessiveFilter → LowerCaseFilter → StopFilter → PorterStemFilter
// with the lower-casing, stop words and stemming each switchable (case_sensitive,
// remove_stopwords, stemming). language 'none' is StandardTokenizer → LowerCaseFilter (Lucene's
// StandardAnalyzer without a stop set): no possessive stripping, no stop words, no stemming;
// asking for stemming or stop words with 'none' is a configuration error
// (validateFullTextOptions), not something silently ignored.
//
// Choices that differ from Lucene, on purpose:
// - Lower-casing is String.prototype.toLowerCase on the whole text (one call instead of one per
//   token); Lucene lower-cases code point by code point. They differ only for final sigma and
//   dotted capital I.
// - With case_sensitive and remove_stopwords, stop words are matched case-insensitively ("The" is
//   a stop word); Lucene's EnglishAnalyzer always lower-cases, so it has no such case.

import type { FullTextOptions } from '../../schema/types.ts';
import { porterStem } from './porter.ts';
import { tokenizerFor, type TokenizerName } from './tokenizer.ts';

/** EnglishAnalyzer.ENGLISH_STOP_WORDS_SET (Lucene 9), 33 words. */
export const ENGLISH_STOP_WORDS: ReadonlySet<string> = new Set([
  'a', 'an', 'and', 'are', 'as', 'at', 'be', 'but', 'by', 'for', 'if', 'in', 'into', 'is', 'it',
  'no', 'not', 'of', 'on', 'or', 'such', 'that', 'the', 'their', 'then', 'there', 'these',
  'they', 'this', 'to', 'was', 'will', 'with',
]);

export type Analyzer = (text: string) => string[];

export interface AnalyzerTuning {
  /** Which UAX#29 implementation splits words (default 'scan'; see tokenizer.ts). */
  tokenizer?: TokenizerName;
  /** Entries in the per-analyzer cache of filtered tokens (default 100,000). */
  termCacheSize?: number;
}

/**
 * Returns an error message for options that cannot work together, or null when they are valid.
 * The message says what is wrong and how to fix it.
 */
export function validateFullTextOptions(opts: FullTextOptions): string | null {
  if (opts.language !== 'english' && opts.language !== 'none') {
    return `full_text.language is '${String(opts.language)}'; expected 'english' or 'none'`;
  }
  for (const key of ['stemming', 'remove_stopwords', 'case_sensitive'] as const) {
    if (typeof opts[key] !== 'boolean') return `full_text.${key} must be true or false`;
  }
  if (opts.language === 'none' && opts.stemming) {
    return "full_text.stemming needs language 'english' (there is no stemmer for language 'none'); " +
      "set language to 'english' or stemming to false";
  }
  if (opts.language === 'none' && opts.remove_stopwords) {
    return "full_text.remove_stopwords needs language 'english' (there is no stop word list for " +
      "language 'none'); set language to 'english' or remove_stopwords to false";
  }
  if (typeof opts.k1 !== 'number' || !Number.isFinite(opts.k1) || opts.k1 < 0) {
    return `full_text.k1 is ${String(opts.k1)}; it must be a finite number >= 0 (default 1.2)`;
  }
  if (typeof opts.b !== 'number' || Number.isNaN(opts.b) || opts.b < 0 || opts.b > 1) {
    return `full_text.b is ${String(opts.b)}; it must be between 0 and 1 (default 0.75)`;
  }
  return null;
}

/** Strips a trailing 's / ’s / ＇s (EnglishPossessiveFilter); the s may be upper case. */
export function stripPossessive(token: string): string {
  const n = token.length;
  if (n < 2) return token;
  const s = token.charCodeAt(n - 1);
  if (s !== 0x73 && s !== 0x53) return token;
  const q = token.charCodeAt(n - 2);
  return q === 0x27 || q === 0x2019 || q === 0xff07 ? token.slice(0, n - 2) : token;
}

/**
 * Builds the analyzer for one full-text attribute. Throws when the options are invalid (see
 * validateFullTextOptions); validate at schema time to report it as a 400 instead.
 */
export function createAnalyzer(opts: FullTextOptions, tuning: AnalyzerTuning = {}): Analyzer {
  const error = validateFullTextOptions(opts);
  if (error !== null) throw new Error(error);
  const tokenize = tokenizerFor(tuning.tokenizer ?? 'scan');
  const lower = !opts.case_sensitive;

  if (opts.language === 'none') {
    return (text) => tokenize(lower ? text.toLowerCase() : text);
  }

  const stopWords = opts.remove_stopwords;
  const stemming = opts.stemming;
  const filter = (token: string): string | null => {
    const t = stripPossessive(token);
    if (t.length === 0) return null;
    if (stopWords && ENGLISH_STOP_WORDS.has(lower ? t : t.toLowerCase())) return null;
    return stemming ? porterStem(t) : t;
  };
  const filterCached = cached(filter, tuning.termCacheSize ?? 100_000);
  return (text) => {
    const tokens = tokenize(lower ? text.toLowerCase() : text);
    let w = 0;
    for (let r = 0; r < tokens.length; r++) {
      const t = filterCached(tokens[r]!);
      if (t !== null) tokens[w++] = t;
    }
    tokens.length = w;
    return tokens;
  };
}

/**
 * The token filters (possessive, stop words, stemming) are a pure function of the token, and a
 * corpus repeats a small vocabulary (SciFact: 1.16M tokens, ~30k distinct words), so their
 * result is cached per token: one Map lookup instead of a Set lookup plus a stem. The cache is
 * cleared when full rather than tracked as an LRU; refilling is cheap.
 */
function cached(f: (token: string) => string | null, capacity: number): (token: string) => string | null {
  const cache = new Map<string, string | null>();
  return (token) => {
    let t = cache.get(token);
    if (t === undefined) {
      t = f(token);
      if (cache.size >= capacity) cache.clear();
      cache.set(token, t);
    }
    return t;
  };
}
