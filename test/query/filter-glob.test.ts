import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGlob, GlobSyntaxError } from '../../src/query/filter/index.ts';

function matches(pattern: string, text: string): boolean {
  return compileGlob(pattern).test(text);
}

test('a pattern without wildcards matches only itself, case-sensitively', () => {
  assert.equal(matches('abc', 'abc'), true);
  assert.equal(matches('abc', 'ABC'), false);
  assert.equal(matches('abc', 'xabc'), false);
  assert.equal(matches('abc', 'abcx'), false);
  assert.equal(matches('', ''), true);
  assert.equal(matches('', 'a'), false);
});

test('* matches any run of characters, including none and newlines', () => {
  assert.equal(matches('*', ''), true);
  assert.equal(matches('*', 'line\nbreak'), true);
  assert.equal(matches('a*', 'a'), true);
  assert.equal(matches('a*', 'ba'), false);
  assert.equal(matches('*.png', 'img/cat.png'), true);
  assert.equal(matches('*.png', 'cat.png.bak'), false);
  assert.equal(matches('a**b', 'ab'), true);
  assert.equal(matches('*a*b*c*', 'xxaxxbxxcxx'), true);
  assert.equal(matches('*a*b*c*', 'xxcxxbxxaxx'), false);
});

test('the ends of a pattern with stars never overlap', () => {
  assert.equal(matches('ab*ba', 'aba'), false);
  assert.equal(matches('ab*ba', 'abba'), true);
  assert.equal(matches('a*a', 'a'), false);
  assert.equal(matches('a*a', 'aa'), true);
  assert.equal(matches('*ab*ab', 'abab'), true);
  assert.equal(matches('*ab*ab', 'ab'), false);
});

test('? matches exactly one character (a code point, so one emoji)', () => {
  assert.equal(matches('?', ''), false);
  assert.equal(matches('?', 'a'), true);
  assert.equal(matches('?', 'ab'), false);
  assert.equal(matches('?', '😀'), true);
  assert.equal(matches('??', '😀'), false);
  assert.equal(matches('*?', '😀'), true);
  assert.equal(matches('*??', '😀'), false);
  assert.equal(matches('x*?', 'x😀'), true);
  assert.equal(matches('?', '\n'), true);
});

test('character classes, ranges and negation', () => {
  assert.equal(matches('[abc]', 'b'), true);
  assert.equal(matches('[abc]', 'd'), false);
  assert.equal(matches('[a-z]1', 'q1'), true);
  assert.equal(matches('[a-z]1', 'Q1'), false);
  assert.equal(matches('[!x]', 'y'), true);
  assert.equal(matches('[!x]', 'x'), false);
  assert.equal(matches('[^x]', 'x'), false);
  assert.equal(matches('[!x]', ''), false);
  assert.equal(matches('[]]', ']'), true);
  assert.equal(matches('[!]]', ']'), false);
  assert.equal(matches('[!]]', 'a'), true);
  assert.equal(matches('[a-]', '-'), true);
  assert.equal(matches('[-a]', '-'), true);
  assert.equal(matches('[-a]', 'b'), false);
  assert.equal(matches('[*?[]', '*'), true);
  assert.equal(matches('[*?[]', '['), true);
  assert.equal(matches('[\\]]', ']'), true);
  assert.equal(matches('[😀-😂]', '😁'), true);
  assert.equal(matches('[a\\-z]', 'b'), false);
  assert.equal(matches('[a\\-z]', '-'), true);
});

test('everything else is literal, including RegExp syntax', () => {
  assert.equal(matches('a.c', 'abc'), false);
  assert.equal(matches('a.c', 'a.c'), true);
  assert.equal(matches('(a|b)+$^{1}/', '(a|b)+$^{1}/'), true);
  assert.equal(matches('a|b', 'a'), false);
  assert.equal(matches('[.]', 'x'), false);
  assert.equal(matches('\\*', '*'), true);
  assert.equal(matches('\\*', 'x'), false);
  assert.equal(matches('\\?\\[\\\\', '?[\\'), true);
  assert.equal(matches('\\a', 'a'), true);
});

test('malformed patterns are errors that say how to fix them', () => {
  assert.throws(() => compileGlob('a[bc'), { name: 'GlobSyntaxError', message: /'\[' at character 2 is never closed; write '\[\[\]'/ });
  assert.throws(() => compileGlob('[]'), GlobSyntaxError);
  assert.throws(() => compileGlob('[!]'), GlobSyntaxError);
  assert.throws(() => compileGlob('abc\\'), /ends with a lone '\\'/);
  assert.throws(() => compileGlob('[z-a]'), /range 'z-a' .* is reversed; write 'a-z'/);
});

test('literal prefix and literal patterns (used for segment pruning)', () => {
  assert.deepEqual(pick(compileGlob('img_*.png')), { literalPrefix: 'img_', isLiteral: false });
  assert.deepEqual(pick(compileGlob('a\\*b?')), { literalPrefix: 'a*b', isLiteral: false });
  assert.deepEqual(pick(compileGlob('[ab]c')), { literalPrefix: '', isLiteral: false });
  assert.deepEqual(pick(compileGlob('exact\\?')), { literalPrefix: 'exact?', isLiteral: true });
});

function pick(glob: { literalPrefix: string; isLiteral: boolean }) {
  return { literalPrefix: glob.literalPrefix, isLiteral: glob.isLiteral };
}

test('many stars stay fast on long strings (no catastrophic backtracking)', () => {
  const glob = compileGlob('*a*a*a*a*a*a*a*a*b');
  const text = 'a'.repeat(20_000);
  const start = performance.now();
  assert.equal(glob.test(text), false);
  assert.equal(glob.test(`${text}b`), true);
  const elapsed = performance.now() - start;
  assert.ok(elapsed < 250, `took ${elapsed.toFixed(0)} ms`);
});

// A slow but obviously correct matcher over a small pattern language, for the property test.
type Token = { kind: 'star' } | { kind: 'one'; accepts: (ch: string) => boolean };

function reference(tokens: Token[], text: string[]): boolean {
  const memo = new Map<string, boolean>();
  const go = (t: number, s: number): boolean => {
    const key = `${t},${s}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    const token = tokens[t];
    if (token === undefined) result = s === text.length;
    else if (token.kind === 'star') result = go(t + 1, s) || (s < text.length && go(t, s + 1));
    else result = s < text.length && token.accepts(text[s] as string) && go(t + 1, s + 1);
    memo.set(key, result);
    return result;
  };
  return go(0, 0);
}

test('agrees with a brute-force matcher on random patterns and texts', () => {
  let seed = 12345;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const pieces: [string, Token][] = [
    ['a', { kind: 'one', accepts: (c) => c === 'a' }],
    ['b', { kind: 'one', accepts: (c) => c === 'b' }],
    ['😀', { kind: 'one', accepts: (c) => c === '😀' }],
    ['*', { kind: 'star' }],
    ['?', { kind: 'one', accepts: () => true }],
    ['[ab]', { kind: 'one', accepts: (c) => c === 'a' || c === 'b' }],
    ['[!a]', { kind: 'one', accepts: (c) => c !== 'a' }],
  ];
  const alphabet = ['a', 'b', 'c', '😀'];
  for (let round = 0; round < 3000; round++) {
    const chosen = Array.from({ length: random(7) }, () => pieces[random(pieces.length)] as [string, Token]);
    const pattern = chosen.map(([source]) => source).join('');
    const tokens = chosen.map(([, token]) => token);
    const glob = compileGlob(pattern);
    for (let k = 0; k < 5; k++) {
      const text = Array.from({ length: random(8) }, () => alphabet[random(alphabet.length)] as string);
      assert.equal(glob.test(text.join('')), reference(tokens, text), `pattern ${pattern} on ${text.join('')}`);
    }
  }
});
