// The console's files: served at /console/ without a key (they hold no data), with their content
// types, revalidated on every load, under a policy that lets only the page's own files run;
// everything the page loads is there, and nothing else of uPlot's package or of the disk is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp } from '../support/app.ts';

const KEY = 'console-test-key-0123456789';
const keyed = () => testApp({ auth: { apiKeys: [KEY], readOnlyKeys: [], clusterToken: '', metricsPublic: true } });

test('GET /console redirects to /console/, which serves the page without a key while the API refuses', async () => {
  const t = keyed();
  const redirect = await t.call('GET', '/console');
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.location, '/console/');

  const page = await t.call('GET', '/console/');
  assert.equal(page.status, 200);
  assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
  assert.match(String(page.body), /<title>Silt console<\/title>/);
  assert.equal(page.headers['cache-control'], 'no-cache');
  assert.match(String(page.headers['content-security-policy']), /script-src 'self'.*connect-src 'self'.*frame-ancestors 'none'/);
  assert.equal(page.headers['x-content-type-options'], 'nosniff');

  const again = await t.call('GET', '/console/', undefined, { 'if-none-match': String(page.headers.etag) });
  assert.equal(again.status, 304, 'an unchanged file is revalidated, not sent again');

  const api = await t.call('GET', '/v1/namespaces');
  assert.equal(api.status, 401);
  assert.equal(api.body.error.code, 'SILT_ERR_AUTH_MISSING');
});

test('every module and stylesheet the page loads is served with its content type', async () => {
  const t = keyed();
  const page = String((await t.call('GET', '/console/')).body);
  const pending = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  const seen = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const res = await t.call('GET', `/console/${file}`);
    assert.equal(res.status, 200, `${file} is served`);
    const type = file.endsWith('.css') ? 'text/css; charset=utf-8' : 'application/javascript; charset=utf-8';
    assert.equal(res.headers['content-type'], type, file);
    // A module's own imports: `from './x.js'`.
    for (const m of String(res.body).matchAll(/^import [^'"]*from '\.\/([^']+)'/gm)) pending.push(m[1]!);
  }
  for (const file of ['main.js', 'api.js', 'charts.js', 'metrics.js', 'query.js', 'recall.js', 'namespaces.js', 'uPlot.esm.js', 'uPlot.min.css']) {
    assert.ok(seen.has(file), `the page loads ${file}`);
  }
});

test('only the console files and uPlot\'s browser build are served under /console/', async () => {
  const t = keyed();
  for (const path of ['/console/uPlot.d.ts', '/console/uPlot.cjs.js', '/console/nothing.js', '/console/../package.json', '/console/%2e%2e/package.json', '/console/%2e%2e/routes.ts']) {
    const res = await t.call('GET', path, undefined, { authorization: `Bearer ${KEY}` });
    assert.ok(res.status === 404 || res.status === 403, `${path}: ${res.status}`);
    assert.doesNotMatch(String(res.body), /"name": "silt"|registerConsole/);
  }
});
