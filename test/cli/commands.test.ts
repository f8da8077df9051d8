// The other `silt` commands against a real server: serve, query, namespaces, stats (export is
// tested with import); --help of every command; errors exit 1 with the server's code and message
// on one line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort, startSilt, type SiltProcess } from '../support/silt-process.ts';
import { doc, silt, spawnCli, tempDir } from './support.ts';

let server: SiltProcess;
let env: Record<string, string>;

before(async () => {
  const dir = tempDir();
  server = await startSilt({ SILT_STORAGE_LOCAL_ROOT_PATH: join(dir, 'data'), SILT_CACHE_DISK_PATH: join(dir, 'cache') });
  env = { SILT_URL: server.url };
  const put = await fetch(`${server.url}/v1/namespaces/books`, {
    method: 'PUT', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ vector_dim: 2, vector_metric: 'l2', attributes: { title: { type: 'string', full_text: true } } }),
  });
  assert.equal(put.status, 201);
  const up = await fetch(`${server.url}/v1/namespaces/books/upsert`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ documents: [doc(1), doc(2), { id: 3, vector: [50, 1], attributes: { title: 'the sea wolf' } }] }),
  });
  assert.equal(up.status, 200);
});

after(async () => {
  await server.stop();
});

test('every command has --help', async () => {
  for (const command of [[], ['serve'], ['import'], ['export'], ['query'], ['namespaces'], ['stats'], ['backup'], ['restore']]) {
    const run = await silt([...command, '--help']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^Usage: silt${command.length ? ` ${command[0]}` : ''} `));
  }
  const top = await silt(['--help']);
  for (const name of ['serve', 'import', 'export', 'query', 'namespaces', 'stats']) assert.match(top.stdout, new RegExp(`\\n  ${name} `));
});

test('silt namespaces lists them; silt stats gives a namespace and the node', async () => {
  const list = await silt(['namespaces'], env);
  assert.equal(list.code, 0, list.stderr);
  assert.equal(list.stdout, 'books\n');
  const ns = await silt(['stats', 'books'], env);
  assert.equal(ns.code, 0, ns.stderr);
  assert.equal(JSON.parse(ns.stdout).documents, 3);
  const node = await silt(['stats', '--url', server.url]);
  assert.equal(node.code, 0, node.stderr);
  assert.equal(JSON.parse(node.stdout).role, 'single');
});

test('silt query by vector and by text', async () => {
  const byVector = await silt(['query', 'books', '--vector', '[50, 1]', '--top-k', '1'], env);
  assert.equal(byVector.code, 0, byVector.stderr);
  assert.deepEqual(JSON.parse(byVector.stdout).results.map((h: { id: number }) => h.id), [3]);
  const byText = await silt(['query', 'books', '--text', 'wolf', '--field', 'title'], env);
  assert.equal(byText.code, 0, byText.stderr);
  assert.deepEqual(JSON.parse(byText.stdout).results.map((h: { id: number }) => h.id), [3]);
});

test('errors exit 1 with one line: the server code and message, or what to fix', async () => {
  const closed = await freePort(); // nothing listens there
  const cases: Array<[string[], RegExp]> = [
    [['stats', 'nope'], /^silt stats: 404 SILT_ERR_NAMESPACE_NOT_FOUND: .*'nope'/],
    [['query', 'books', '--vector', '[1, 2, 3]'], /^silt query: 400 SILT_ERR_\w+: .*3 dimensions/],
    [['query', 'books', '--vector', '[1,'], /--vector must be JSON/],
    [['query', 'books'], /^silt query: give --vector, --text \(with --field\), or both/],
    [['query', 'books', '--text', 'wolf'], /^silt query: --text and --field go together/],
    [['namespaces', '--url', `http://127.0.0.1:${closed}`], /^silt namespaces: cannot reach http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/],
    [['import', 'x.jsonl'], /required option '-n, --namespace <ns>' not specified/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ];
  for (const [args, message] of cases) {
    const run = await silt(args, env);
    assert.equal(run.code, 1, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
    assert.match(run.stderr, message);
    assert.equal(run.stdout, '');
  }
});

test('silt serve runs the server (as npm start does) and stops on SIGTERM', async () => {
  const dir = tempDir();
  const { child, done } = spawnCli(['serve'], {
    SILT_SERVER_HOST: '127.0.0.1', SILT_SERVER_PORT: '0',
    SILT_STORAGE_LOCAL_ROOT_PATH: join(dir, 'data'), SILT_CACHE_DISK_PATH: join(dir, 'cache'),
  });
  let address = '';
  for await (const line of createInterface({ input: child.stdout! })) {
    const rec = JSON.parse(line) as { msg?: string; address?: string };
    if (rec.msg === 'silt listening') {
      address = rec.address!;
      break;
    }
  }
  const health = await fetch(`${address}/health`);
  assert.equal(health.status, 200);
  child.kill('SIGTERM');
  assert.equal((await done).code, 0);
});
