// Word tokenizers in the manner of Lucene's StandardTokenizer (Unicode UAX#29 word boundaries,
// keeping only segments that contain a letter or a digit).
//
// Two implementations, measured on BEIR SciFact (5,183 docs, title + text lower-cased,
// ≈1.155M tokens, Node 20.20, this machine):
//   Intl.Segmenter('word'), isWordLike segments   3,400–4,000 ms   ≈0.3M tokens/s
//   UAX29_WORD regex below                          106–178 ms      ≈6–11M tokens/s
// The two agree on 5,182 of the 5,183 documents (the one difference: ICU calls a lone "_" inside
// "}_{" not word-like while it calls "__" word-like; the regex never emits pure connector runs).
// SciFact nDCG@10 is identical with either (see bench/scifact.ts, docs/full-text.md), so the
// regex is the default: the segmenter costs ~30× more CPU per indexed token.
//
// Where the regex follows Lucene rather than ICU: every Han ideograph and Hiragana character is
// its own token (Lucene's IDEOGRAPHIC/HIRAGANA types; ICU segments Chinese/Japanese with a
// dictionary), and Thai/Lao/Khmer runs stay whole (Lucene's SOUTHEAST_ASIAN type).

/** Lucene's StandardTokenizer default maxTokenLength: longer tokens are split at this length. */
export const MAX_TOKEN_LENGTH = 255;

// Word_Break classes of UAX#29, approximated with Unicode properties:
//   ALetter ≈ Alphabetic (minus Han/Hiragana, handled as single-character tokens),
//   Numeric ≈ Nd, ExtendNumLet ≈ Pc, Extend/Format ≈ M + soft hyphen + ZWNJ/ZWJ (WB4).
// MidLetter/MidNumLet join letters (WB6/7: "u.s.a", "don't", "a:b"); MidNum/MidNumLet join
// digits (WB11/12: "3.14", "1,000"). Letters and digits join each other (WB9/10: "cd4", "3d").
const WORD_CHAR = '\\p{Alphabetic}\\p{Nd}\\p{Pc}';
const EXTEND = '\\p{M}\\u00AD\\u200C\\u200D';
const MID_LETTER = ":\\u00B7\\u0387\\u2027\\uFE13\\uFE55\\uFF1A";
const MID_NUM_LET = ".'\\u2018\\u2019\\u2024\\uFE52\\uFF07\\uFF0E";
const MID_NUM = ',;\\u037E\\u0589\\u060C\\u060D\\u066C\\u07F8\\u2044\\uFE10\\uFE14\\uFE50\\uFE54\\uFF0C\\uFF1B';
const SINGLE = '\\p{Script=Han}\\p{Script=Hiragana}';

const UAX29_WORD = new RegExp(
  `[${SINGLE}]` +
    `|\\p{Pc}*(?:[^\\P{Alphabetic}${SINGLE}]|\\p{Nd})` +
    `(?:[^${SINGLE}\\P{Alphabetic}]|[\\p{Nd}\\p{Pc}${EXTEND}]` +
    `|(?<=[\\p{Alphabetic}\\p{M}])[${MID_LETTER}${MID_NUM_LET}](?=[^\\P{Alphabetic}${SINGLE}])` +
    `|(?<=\\p{Nd})[${MID_NUM}${MID_NUM_LET}](?=\\p{Nd}))*`,
  'gu',
);

export type TokenizerName = 'regex' | 'segmenter';

/** Splits text into word tokens (UAX#29, regex implementation; see the measurement above). */
export function tokenizeRegex(text: string, out: string[] = []): string[] {
  UAX29_WORD.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = UAX29_WORD.exec(text)) !== null) pushLimited(out, m[0]);
  return out;
}

let segmenter: Intl.Segmenter | undefined;

/** Splits text into word tokens with ICU's UAX#29 word segmentation (Intl.Segmenter). */
export function tokenizeSegmenter(text: string, out: string[] = []): string[] {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'word' });
  for (const s of segmenter.segment(text)) {
    if (s.isWordLike && HAS_LETTER_OR_DIGIT.test(s.segment)) pushLimited(out, s.segment);
  }
  return out;
}

const HAS_LETTER_OR_DIGIT = /[\p{L}\p{Nd}]/u;

function pushLimited(out: string[], token: string): void {
  if (token.length <= MAX_TOKEN_LENGTH) {
    out.push(token);
    return;
  }
  for (let i = 0; i < token.length; i += MAX_TOKEN_LENGTH) {
    out.push(token.slice(i, i + MAX_TOKEN_LENGTH));
  }
}

export function tokenizerFor(name: TokenizerName): (text: string, out?: string[]) => string[] {
  return name === 'segmenter' ? tokenizeSegmenter : tokenizeRegex;
}
