// The console's charts read /metrics in the browser (src/console/public/metrics.js): the request
// histogram summed over routes, probes and scrapes left out, and the rate and latency between two
// scrapes, p99 interpolated as Prometheus' histogram_quantile does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp } from '../support/app.ts';

interface Totals { count: number; errors: number; sum: number; buckets: Map<string, number> }
interface MetricsModule {
  parseMetrics(text: string): Array<{ name: string; labels: Record<string, string>; value: number }>;
  requestTotals(samples: ReturnType<MetricsModule['parseMetrics']>): Totals;
  interval(before: Totals, after: Totals, seconds: number): { rate: number; errorRate: number; meanMs: number | null; p99Ms: number | null } | null;
}
// A browser module without type declarations: its shape is stated here.
const { parseMetrics, requestTotals, interval } = (await import('../../src/console/public/metrics.js' as string)) as MetricsModule;

test('the request totals of a real /metrics page count the API requests, not probes or scrapes', async () => {
  const t = testApp();
  assert.equal((await t.call('PUT', '/v1/namespaces/c', { vector_dim: 2 })).status, 201);
  const first = requestTotals(parseMetrics(String((await t.call('GET', '/metrics')).body)));
  assert.equal(first.count, 1);
  for (let i = 0; i < 3; i++) assert.equal((await t.call('POST', '/v1/namespaces/c/query', { vector: [1, 0] })).status, 200);
  await t.call('GET', '/health');
  await t.call('GET', '/ready');
  assert.equal((await t.call('GET', '/v1/namespaces/missing')).status, 404);
  const second = requestTotals(parseMetrics(String((await t.call('GET', '/metrics')).body)));
  assert.equal(second.count, 5, 'the three queries, the 404 and the create; not the probes nor the scrapes');
  assert.equal(second.buckets.get('+Inf'), 5);
  const change = interval(first, second, 2)!;
  assert.equal(change.rate, 2, '4 requests in 2 s');
  assert.equal(change.errorRate, 0);
  assert.ok(change.meanMs! > 0 && change.p99Ms! >= 0);
});

const histogram = (buckets: Record<string, number>, sum: number, status = '200') =>
  Object.entries(buckets).map(([le, n]) => `silt_http_request_duration_seconds_bucket{le="${le}",route="/v1/namespaces/:ns/query",method="POST",status="${status}"} ${n}`)
    .concat(`silt_http_request_duration_seconds_sum{route="/v1/namespaces/:ns/query",method="POST",status="${status}"} ${sum}`,
      `silt_http_request_duration_seconds_count{route="/v1/namespaces/:ns/query",method="POST",status="${status}"} ${buckets['+Inf']}`)
    .join('\n');

test('p99 is interpolated within its bucket, mean is sum over count, 5xx counted apart', () => {
  const before = requestTotals(parseMetrics(histogram({ '0.001': 0, '0.01': 0, '0.1': 0, '+Inf': 0 }, 0)));
  const after = requestTotals(parseMetrics(`# HELP x\n${histogram({ '0.001': 0, '0.01': 50, '0.1': 100, '+Inf': 100 }, 2)}\n` +
    histogram({ '0.001': 0, '0.01': 0, '0.1': 0, '+Inf': 0 }, 0, '503')));
  const change = interval(before, after, 10)!;
  assert.equal(change.rate, 10);
  assert.equal(change.meanMs, 20);
  // Rank 99 of 100 falls in (10 ms, 100 ms], 49 of the bucket's 50 past its lower bound.
  assert.ok(Math.abs(change.p99Ms! - (10 + (90 * 49) / 50)) < 1e-9, String(change.p99Ms));

  const failing = requestTotals(parseMetrics(histogram({ '0.1': 4, '+Inf': 4 }, 0.1, '503')));
  assert.equal(interval(before, failing, 2)!.errorRate, 2);
  assert.equal(interval(after, before, 2), null, 'counters that went back (a restart) give no point');
  assert.equal(interval(before, before, 2)!.meanMs, null, 'no requests, no latency');
});

test('label values with escaped quotes and backslashes are read whole', () => {
  const [s] = parseMetrics('m{a="x\\"y",b="c\\\\d",c="e\\nf"} 3 1700000000');
  assert.deepEqual(s, { name: 'm', labels: { a: 'x"y', b: 'c\\d', c: 'e\nf' }, value: 3 });
});
