// STYLE.md "One owner of the segment list": flush and merge hand their result to the segment
// updater, which commits the manifest and swaps readers. A second place that changes a
// namespace's segments could let the served list drift from the committed manifest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const OWNER = 'indexer/segment-updater.ts';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

test('only the segment updater changes a namespace\'s segment list', () => {
  // A constructor's `this.segments = …` initialises a state; any other assignment or in-place
  // change of a `.segments` list is a change of the list.
  const change = /(?<!this)\.segments\s*=(?!=)|\.segments\.(push|splice|pop|shift|unshift|length\s*=)\(?/;
  const changers = files(SRC).map((f) => relative(SRC, f)).filter((rel) => change.test(readFileSync(join(SRC, rel), 'utf8')));
  assert.deepEqual(changers, [OWNER]);
});
