import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FullTextOptions } from '../../../src/schema/types.ts';
import {
  createAnalyzer, ENGLISH_STOP_WORDS, stripPossessive, validateFullTextOptions,
} from '../../../src/segment/text/analyzer.ts';
import { porterStem } from '../../../src/segment/text/porter.ts';
import {
  MAX_TOKEN_LENGTH, tokenizeRegex, tokenizeScan, tokenizeSegmenter,
} from '../../../src/segment/text/tokenizer.ts';

const ENGLISH: FullTextOptions = {
  language: 'english', stemming: true, remove_stopwords: true, case_sensitive: false, k1: 1.2, b: 0.75,
};
const NONE: FullTextOptions = { ...ENGLISH, language: 'none', stemming: false, remove_stopwords: false };

// Expected stems: the Porter paper's examples and words checked against an independent
// implementation (Snowball's 'porter', which agrees with Lucene on all 29,414 SciFact words of
// three letters or more except the two departures below).
const PORTER_PAIRS: Array<[string, string]> = [
  ['caresses', 'caress'], ['ponies', 'poni'], ['ties', 'ti'], ['caress', 'caress'], ['cats', 'cat'],
  ['feed', 'feed'], ['agreed', 'agre'], ['plastered', 'plaster'], ['bled', 'bled'],
  ['motoring', 'motor'], ['sing', 'sing'], ['conflated', 'conflat'], ['troubled', 'troubl'],
  ['sized', 'size'], ['hopping', 'hop'], ['tanned', 'tan'], ['falling', 'fall'],
  ['hissing', 'hiss'], ['fizzed', 'fizz'], ['failing', 'fail'], ['filing', 'file'],
  ['happy', 'happi'], ['sky', 'sky'], ['relational', 'relat'], ['conditional', 'condit'],
  ['rational', 'ration'], ['valenci', 'valenc'], ['hesitanci', 'hesit'], ['digitizer', 'digit'],
  ['radicalli', 'radic'], ['differentli', 'differ'], ['vileli', 'vile'], ['analogousli', 'analog'],
  ['vietnamization', 'vietnam'], ['predication', 'predic'], ['operator', 'oper'],
  ['feudalism', 'feudal'], ['decisiveness', 'decis'], ['hopefulness', 'hope'],
  ['callousness', 'callous'], ['formaliti', 'formal'], ['sensitiviti', 'sensit'],
  ['sensibiliti', 'sensibl'], ['triplicate', 'triplic'], ['formative', 'form'],
  ['formalize', 'formal'], ['electriciti', 'electr'], ['electrical', 'electr'], ['hopeful', 'hope'],
  ['goodness', 'good'], ['revival', 'reviv'], ['allowance', 'allow'], ['inference', 'infer'],
  ['airliner', 'airlin'], ['gyroscopic', 'gyroscop'], ['adjustable', 'adjust'],
  ['defensible', 'defens'], ['irritant', 'irrit'], ['replacement', 'replac'],
  ['adjustment', 'adjust'], ['dependent', 'depend'], ['adoption', 'adopt'],
  ['homologous', 'homolog'], ['communism', 'commun'], ['activate', 'activ'],
  ['angulariti', 'angular'], ['effective', 'effect'], ['bowdlerize', 'bowdler'],
  ['probate', 'probat'], ['rate', 'rate'], ['cease', 'ceas'], ['controll', 'control'],
  ['roll', 'roll'], ['generalization', 'gener'], ['generalizations', 'gener'],
  ['oscillators', 'oscil'], ['running', 'run'], ['abilities', 'abil'],
  // Lucene's (and Porter's reference code's) departures from the paper.
  ['archaeology', 'archaeolog'], ['ecology', 'ecolog'], ['biology', 'biologi'], ['analogies', 'analog'],
  ['assembly', 'assembl'], ['conformabli', 'conform'],
  // One- and two-letter words are left alone.
  ['as', 'as'], ['is', 'is'], ['s', 's'],
];

test('Porter stemmer matches known pairs', () => {
  const wrong = PORTER_PAIRS.filter(([w, s]) => porterStem(w) !== s)
    .map(([w, s]) => `${w}: expected ${s}, got ${porterStem(w)}`);
  assert.deepEqual(wrong, []);
  assert.ok(PORTER_PAIRS.length >= 30);
});

for (const [name, tokenize] of [['scan', tokenizeScan], ['regex', tokenizeRegex]] as const) {
  test(`${name} tokenizer follows UAX#29 word boundaries`, () => {
    assert.deepEqual(
      tokenize("U.S.A. 3.14 1,000 don't e-mail wi-fi foo_bar CD4+ T-cells p<0.05 x.y.z 1.a"),
      ['U.S.A', '3.14', '1,000', "don't", 'e', 'mail', 'wi', 'fi', 'foo_bar', 'CD4', 'T', 'cells',
        'p', '0.05', 'x.y.z', '1', 'a'],
    );
    // Punctuation, symbols, emoji and lone connectors are not tokens.
    assert.deepEqual(tokenize('— !!! 😀 ¼ ² _ ___ …'), []);
    // Decomposed accents stay inside the word (WB4); superscripts split like ICU does.
    assert.deepEqual(tokenize('cafe\u0301 km² naïve'), ['cafe\u0301', 'km', 'naïve']);
    // Astral letters and digits are word characters.
    assert.deepEqual(tokenize('𝐀𝐁 𝟏𝟐'), ['𝐀𝐁', '𝟏𝟐']);
  });

  test(`${name} tokenizer splits CJK ideographs one per token, as Lucene does`, () => {
    assert.deepEqual(tokenize('中文分词'), ['中', '文', '分', '词']);
    assert.deepEqual(tokenize('한국어 텍스트'), ['한국어', '텍스트']);
  });
}

test('the scanner produces exactly the regex tokens (random strings of tricky characters)', () => {
  const palette = ['a', 'Z', 'é', '1', '9', '_', '.', "'", '’', ':', ',', ';', ' ', '-', '中', 'ひ',
    'カ', '한', '\u0301', '\u00AD', '\u200D', '·', '²', '😀', '𝐀', '𝟏', '\uD800', 'Ⅻ', '٣', 'ـ', 'ก'];
  let seed = 1;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let k = 0; k < 50_000; k++) {
    let s = '';
    const len = 1 + Math.floor(rand() * 12);
    for (let j = 0; j < len; j++) s += palette[Math.floor(rand() * palette.length)];
    assert.deepEqual(tokenizeScan(s), tokenizeRegex(s), JSON.stringify(s));
  }
});

test('regex tokenizer agrees with Intl.Segmenter on Latin text', () => {
  const samples = [
    "The patient's IL-6 levels (p = 0.003) rose 2.5-fold in U.S. trials; TNF-α didn't.",
    'Résumé: naïve Bayes, 1,024 samples, x86_64 builds, e.g. 12:30, ratio 3:1.',
    'O’Neill’s data — 10% vs. 20%; CO2/H2O exchange at 37°C.',
  ];
  for (const s of samples) {
    assert.deepEqual(tokenizeRegex(s), tokenizeSegmenter(s), s);
    assert.deepEqual(tokenizeScan(s), tokenizeSegmenter(s), s);
  }
});

test('tokens longer than 255 characters are split', () => {
  const long = 'a'.repeat(600);
  for (const tokenize of [tokenizeScan, tokenizeRegex]) {
    assert.deepEqual(tokenize(long).map((p) => p.length), [MAX_TOKEN_LENGTH, MAX_TOKEN_LENGTH, 90]);
  }
});

test('English analyzer: possessives, lower case, stop words, stemming', () => {
  const analyze = createAnalyzer(ENGLISH);
  assert.deepEqual(
    analyze("The Doctor's patients AREN'T responding to the treatments of James’s clinic."),
    ['doctor', 'patient', "aren't", 'respond', 'treatment', 'jame', 'clinic'],
  );
  assert.deepEqual(analyze(''), []);
  assert.deepEqual(analyze('the and of'), []);
});

test('English stop set is Lucene\'s 33 words', () => {
  assert.equal(ENGLISH_STOP_WORDS.size, 33);
  for (const w of ['a', 'the', 'with', 'will', 'such', 'into']) assert.ok(ENGLISH_STOP_WORDS.has(w));
  for (const w of ['he', 'she', 'we', 'have', 'from']) assert.ok(!ENGLISH_STOP_WORDS.has(w));
});

test('possessive filter strips only a trailing \'s', () => {
  assert.equal(stripPossessive("john's"), 'john');
  assert.equal(stripPossessive('JOHN\u2019S'), 'JOHN');
  assert.equal(stripPossessive('john\uFF07s'), 'john');
  assert.equal(stripPossessive("students'"), "students'");
  assert.equal(stripPossessive("it's"), 'it');
  assert.equal(stripPossessive('is'), 'is');
});

test('each English filter can be switched off', () => {
  const text = "The Runner's Shoes";
  assert.deepEqual(createAnalyzer({ ...ENGLISH, stemming: false })(text), ['runner', 'shoes']);
  assert.deepEqual(createAnalyzer({ ...ENGLISH, remove_stopwords: false })(text), ['the', 'runner', 'shoe']);
  // case_sensitive keeps case; stop words still match whatever their case.
  assert.deepEqual(createAnalyzer({ ...ENGLISH, case_sensitive: true, stemming: false })(text), ['Runner', 'Shoes']);
});

test('language none: tokenize and lower-case only', () => {
  const analyze = createAnalyzer(NONE);
  assert.deepEqual(analyze("The Runner's Shoes"), ['the', "runner's", 'shoes']);
  assert.deepEqual(createAnalyzer({ ...NONE, case_sensitive: true })('The ÉCOLE'), ['The', 'ÉCOLE']);
});

test('unicode text is lower-cased and kept', () => {
  const analyze = createAnalyzer(NONE);
  assert.deepEqual(analyze('ÉCOLE Straße ΑΘΗΝΑ Москва'), ['école', 'straße', 'αθηνα', 'москва']);
  assert.deepEqual(createAnalyzer(ENGLISH)('Große Häuser'), ['große', 'häuser']);
});

test('validateFullTextOptions rejects combinations that cannot work', () => {
  assert.equal(validateFullTextOptions(ENGLISH), null);
  assert.equal(validateFullTextOptions(NONE), null);
  assert.match(validateFullTextOptions({ ...NONE, stemming: true }) ?? '', /stemming needs language 'english'/);
  assert.match(validateFullTextOptions({ ...NONE, remove_stopwords: true }) ?? '', /remove_stopwords needs/);
  assert.match(validateFullTextOptions({ ...ENGLISH, k1: -1 }) ?? '', /k1/);
  assert.match(validateFullTextOptions({ ...ENGLISH, b: 1.5 }) ?? '', /between 0 and 1/);
  const bad = { ...ENGLISH, language: 'french' } as unknown as FullTextOptions;
  assert.match(validateFullTextOptions(bad) ?? '', /expected 'english' or 'none'/);
  assert.throws(() => createAnalyzer({ ...NONE, stemming: true }), /stemming needs/);
});
