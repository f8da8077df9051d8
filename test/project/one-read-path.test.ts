// STYLE.md "One namespace state, two wrappers": the read endpoints exist once. Cluster routing
// only chooses who answers (forward, the owner's namespace, a view); a second copy of a read
// endpoint would let a view answer differently from the owner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

function filesCalling(pattern: RegExp): string[] {
  return files(SRC).map((f) => relative(SRC, f)).filter((rel) => pattern.test(readFileSync(join(SRC, rel), 'utf8')));
}

test('queries are parsed, documents looked up and namespaces described by the read routes alone', () => {
  assert.deepEqual(filesCalling(/(?<!function )\bparseQuery\(/), ['namespace/routes.ts']);
  assert.deepEqual(filesCalling(/(?<!function )\bdocumentJson\(/), ['namespace/routes.ts']);
  assert.deepEqual(filesCalling(/schema: \w+\.schema, \.\.\.\w+\.stats\(\)/), ['namespace/routes.ts']);
});
