// Shared by the config tests.

import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../src/config/index.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = path.join(REPO_ROOT, 'test/config/fixtures');

/** Runs `fn`, expects a ConfigError, and checks its message contains every fragment. Returns the message. */
export function expectConfigError(fn: () => unknown, ...fragments: (string | RegExp)[]): string {
  let caught: unknown = null;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  for (const fragment of fragments) {
    if (typeof fragment === 'string') {
      assert.ok(caught.message.includes(fragment), `message ${JSON.stringify(caught.message)} lacks ${JSON.stringify(fragment)}`);
    } else {
      assert.match(caught.message, fragment);
    }
  }
  return caught.message;
}

/** A valid distributed indexer configuration on S3, to vary one thing at a time. */
export const CLUSTER_TOML = `
[storage]
backend = "s3"
[storage.s3]
bucket = "silt-test"
[distributed]
enabled = true
node_id = "indexer-1"
[distributed.indexer_cluster]
nodes = ["indexer-1", "indexer-2"]
`;
