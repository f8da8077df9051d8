import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Errors } from '../../src/errors.ts';

test('every error code is unique, well-formed and documented in docs/errors.md', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const codes = Object.values(Errors).map((e) => e.code);
  assert.equal(new Set(codes).size, codes.length, 'codes are never reused');
  for (const e of Object.values(Errors)) {
    assert.match(e.code, /^SILT_ERR_[A-Z_]+$/);
    assert.ok([400, 401, 403, 404, 408, 409, 410, 413, 414, 415, 421, 429, 431, 500, 503, 504].includes(e.statusCode), e.code);
    assert.ok(doc.includes(`\`${e.code}\` | ${e.statusCode} |`), `${e.code} (${e.statusCode}) is not in docs/errors.md`);
  }
});
