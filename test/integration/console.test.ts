// The console in a real browser against a real Silt with an API key: without a key the page says
// the API refused it; with the key it lists the namespace with its count, answers a full-text and
// a vector-by-document query with the expected ids, draws the request chart, and shows the error
// envelope of a refused recall check. Saves a screenshot (to $SILT_CONSOLE_SCREENSHOT when set,
// which is how docs/console.png is made).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startSilt } from '../support/silt-process.ts';
import { startBrowser } from '../support/browser.ts';

const KEY = 'console-browser-key-0123456789';
const WAIT = { timeout: 20_000 };

const DOCS = [
  { id: 1, vector: [1, 0, 0], attributes: { title: 'The river and the sea', year: 2001 } },
  { id: 2, vector: [0.9, 0.1, 0], attributes: { title: 'Mountains of silt', year: 2010 } },
  { id: 3, vector: [0, 1, 0], attributes: { title: 'River, river of stars', year: 2020 } },
  { id: 4, vector: [0, 0, 1], attributes: { title: 'Deserts', year: 2021 } },
  { id: 'no-vector', attributes: { title: 'Words only', year: 2022 } },
];

async function api(url: string, method: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(url + path, { method, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.text()}`);
}

const resultIds = (page: Page) => page.$$eval('#results tbody td.id', (cells) => cells.map((c) => c.textContent));

async function query(page: Page, fill: () => Promise<void>): Promise<void> {
  await page.evaluate(() => document.querySelector('#results tbody')!.replaceChildren());
  await fill();
  await page.click('#query-form button[type=submit]');
  await page.waitForSelector('#results tbody tr, #query-error:not([hidden])', WAIT);
  assert.equal(await page.isHidden('#query-error'), true, await page.textContent('#query-error') ?? '');
}

test('the console in Chromium: key, namespaces, queries, chart, refused calls', { timeout: 180_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'silt-console-'));
  const silt = await startSilt({ SILT_STORAGE_LOCAL_ROOT_PATH: join(dir, 'data'), SILT_CACHE_DISK_PATH: join(dir, 'cache'), SILT_AUTH_API_KEYS: KEY });
  const browser = await startBrowser();
  try {
    await api(silt.url, 'PUT', '/v1/namespaces/books', { vector_dim: 3, attributes: { title: { type: 'string', full_text: true }, year: 'integer' } });
    await api(silt.url, 'POST', '/v1/namespaces/books/upsert', { documents: DOCS });

    const page = await browser.context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    // The refused calls log their 401s; a Content-Security-Policy violation would be a broken page.
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) pageErrors.push(m.text()); });

    // No key: the page loads, the API refuses, and the page says why.
    await page.goto(`${silt.url}/console`);
    await page.waitForSelector('#banner:not([hidden])', WAIT);
    assert.match(await page.textContent('#banner') ?? '', /needs an API key.*401 SILT_ERR_AUTH_MISSING/);
    assert.equal(await page.$$eval('#namespaces tbody tr', (rows) => rows.length), 0);

    // A wrong key is refused as such.
    await page.fill('#key', 'not-the-key-0123456789');
    await page.click('#key-form button[type=submit]');
    await page.waitForFunction(() => /SILT_ERR_AUTH_INVALID/.test(document.querySelector('#banner')!.textContent ?? ''), null, WAIT);
    assert.match(await page.textContent('#banner') ?? '', /key was refused/);

    // The key: the namespace and its document count.
    await page.fill('#key', KEY);
    await page.click('#key-form button[type=submit]');
    await page.waitForSelector('#namespaces tr[data-ns="books"]', WAIT);
    assert.equal(await page.textContent('#namespaces tr[data-ns="books"] td.documents'), '5');
    assert.equal(await page.isHidden('#banner'), true);

    // Full text: both river titles, the one that says it twice first.
    await query(page, async () => {
      await page.selectOption('#q-field', 'title');
      await page.fill('#q-text', 'river');
    });
    assert.deepEqual(await resultIds(page), ['3', '1']);

    // A vector query with document 2's own vector: itself, then its nearest neighbour.
    await query(page, async () => {
      await page.fill('#q-text', '');
      await page.fill('#q-doc', '2');
      await page.fill('#q-topk', '2');
    });
    assert.deepEqual(await resultIds(page), ['2', '1']);
    assert.match(await page.textContent('#query-summary') ?? '', /2 hits \(vector\)/);

    // The recall check: the namespace is all tail, searched exactly, so the index finds every hit.
    await page.selectOption('#r-ns', 'books');
    await page.fill('#r-num', '3');
    await page.fill('#r-topk', '2');
    await page.click('#recall-form button[type=submit]');
    await page.waitForSelector('#recall-result:not([hidden])', WAIT);
    assert.match(await page.textContent('#recall-result') ?? '', /Average recall\s*100\.0%/);
    assert.equal(await page.isHidden('#recall-error'), true, await page.textContent('#recall-error') ?? '');

    // The request-rate chart has points and its line is drawn on the canvas.
    await page.waitForFunction(() => Number((document.querySelector('#charts-panel') as HTMLElement).dataset.points ?? 0) >= 2, null, WAIT);
    const linePixels = await page.$eval('#rate-chart canvas', (canvas) => {
      const c = canvas as HTMLCanvasElement;
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i]! < 80 && data[i + 1]! > 90 && data[i + 1]! < 130 && data[i + 2]! > 200) n++;
      return n; // pixels of the requests/s line's colour, #2a6fdb
    });
    assert.ok(linePixels > 20, `the requests/s line is drawn (${linePixels} pixels)`);

    const shot = process.env.SILT_CONSOLE_SCREENSHOT ?? join(dir, 'console.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.deepEqual([...(await readFile(shot)).subarray(1, 4)], [...Buffer.from('PNG')]);

    // A document without a vector says so, before anything is queried.
    await page.fill('#q-doc', 'no-vector');
    await page.click('#query-form button[type=submit]');
    await page.waitForSelector('#query-error:not([hidden])', WAIT);
    assert.match(await page.textContent('#query-error') ?? '', /Document no-vector of 'books' has no vector/);

    // Without the key every API call is refused, and the page says so; so is the recall check.
    await page.click('#forget-key');
    await page.waitForSelector('#banner:not([hidden])', WAIT);
    assert.match(await page.textContent('#banner') ?? '', /needs an API key.*401 SILT_ERR_AUTH_MISSING/);
    await page.click('#recall-form button[type=submit]');
    await page.waitForSelector('#recall-error:not([hidden])', WAIT);
    assert.match(await page.textContent('#recall-error') ?? '', /^This node needs an API key: enter it above\. \(401 SILT_ERR_AUTH_MISSING: /);
    assert.equal(await page.isHidden('#recall-result'), true);

    assert.deepEqual(pageErrors, [], 'no script error or policy violation on the page');
  } finally {
    await browser.close();
    await silt.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
