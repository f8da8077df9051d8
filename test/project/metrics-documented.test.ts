// docs/deployment.md's metrics table lists exactly the metrics Silt exposes (test/support/metrics.ts,
// which the /metrics scrape test holds the server to), each with the type it is exposed as.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CLUSTER_METRICS, SILT_METRICS } from '../support/metrics.ts';

test('docs/deployment.md lists every silt_ metric with its type, and no other', () => {
  const docs = readFileSync(new URL('../../docs/deployment.md', import.meta.url), 'utf8');
  const rows = new Map([...docs.matchAll(/^\| `(silt_[a-z0-9_]+)` \| (counter|gauge|histogram) \|/gm)].map((m) => [m[1]!, m[2]!]));
  assert.deepEqual(Object.fromEntries([...rows].sort()), Object.fromEntries(Object.entries({ ...SILT_METRICS, ...CLUSTER_METRICS }).sort()));
});
