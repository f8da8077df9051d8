// `silt import` against a real server: JSONL and .fvecs arrive whole, an import stopped by a bad
// line or by SIGKILL goes on with --resume to the exact count, and failures exit non-zero with
// the server's code and message.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startSilt, type SiltProcess } from '../support/silt-process.ts';
import { parquetWriteFile } from 'hyparquet-writer';
import { fvecs, jsonl, silt, spawnCli, tempDir } from './support.ts';

const KEY = 'cli-test-key-0123456789';
let server: SiltProcess;
let dir: string;
let env: Record<string, string>;

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() as any };
}

async function namespace(name: string, dim = 2): Promise<void> {
  assert.equal((await api('PUT', `/v1/namespaces/${name}`, { vector_dim: dim, vector_metric: 'l2', attributes: { title: { type: 'string' } } })).status, 201);
}

const count = async (ns: string) => (await api('GET', `/v1/namespaces/${ns}`)).body.documents as number;

before(async () => {
  dir = tempDir();
  server = await startSilt({
    SILT_STORAGE_LOCAL_ROOT_PATH: join(dir, 'data'), SILT_CACHE_DISK_PATH: join(dir, 'cache'), SILT_AUTH_API_KEYS: KEY,
  });
  env = { SILT_URL: server.url, SILT_API_KEY: KEY };
});

after(async () => {
  await server.stop();
});

test('a JSONL file is imported whole; the state file is gone afterwards', async () => {
  await namespace('jl');
  const file = jsonl(join(dir, 'docs.jsonl'), 0, 3000);
  const run = await silt(['import', file, '--namespace', 'jl', '--batch', '700'], env);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /imported 3000 documents into 'jl'/);
  assert.equal(await count('jl'), 3000);
  assert.equal((await api('GET', '/v1/namespaces/jl/documents/2999')).body.attributes.title, 'doc 2999');
  assert.equal(existsSync(`${file}.silt-import.json`), false);
});

test('silt export gives back exactly what was imported, in id order, to stdout or --out', async () => {
  const file = join(dir, 'docs.jsonl'); // imported into 'jl' above
  const imported = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const run = await silt(['export', 'jl', '--page-size', '700'], env);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.stdout.trim().split('\n').map((l) => JSON.parse(l)), imported);

  // The export imports as it is: a second namespace, exported again, is the same file.
  const out = join(dir, 'export.jsonl');
  assert.equal((await silt(['export', 'jl', '--out', out], env)).code, 0);
  await namespace('jl2');
  assert.equal((await silt(['import', out, '-n', 'jl2'], env)).code, 0);
  const again = await silt(['export', 'jl2'], env);
  assert.equal(again.stdout, readFileSync(out, 'utf8'));

  const missing = await silt(['export', 'nope', '--out', join(dir, 'nope.jsonl')], env);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^silt export: 404 SILT_ERR_NAMESPACE_NOT_FOUND: .*'nope'/);
  assert.equal(existsSync(join(dir, 'nope.jsonl')) || existsSync(join(dir, 'nope.jsonl.partial')), false);
});

test('an .fvecs file becomes documents with ids from --id-offset and its vectors', async () => {
  await namespace('fv', 4);
  const file = fvecs(join(dir, 'base.fvecs'), 1234, 4);
  const run = await silt(['import', file, '-n', 'fv', '--id-offset', '10000', '--batch', '500'], env);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(await count('fv'), 1234);
  const first = (await api('GET', '/v1/namespaces/fv/documents/10000')).body;
  assert.deepEqual(first.vector, [0, 0.5, 1, 1.5]);
  const last = (await api('GET', '/v1/namespaces/fv/documents/11233')).body;
  assert.deepEqual(last.vector, [1233, 1233.5, 1234, 1234.5]);
});

test('a Parquet file: id, vector and the other columns as attributes, nulls absent', async () => {
  await namespace('pq');
  const path = join(dir, 'docs.parquet');
  const ids = Array.from({ length: 1000 }, (_, i) => BigInt(i));
  parquetWriteFile({
    filename: path,
    columnData: [
      { name: 'id', data: ids, type: 'INT64' },
      { name: 'vector', data: ids.map((i) => [Number(i), 1]) },
      { name: 'title', data: ids.map((i) => (i % 10n === 0n ? null : `doc ${i}`)), type: 'STRING' },
    ],
  });
  const run = await silt(['import', path, '-n', 'pq', '--batch', '300'], env);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /imported 1000 documents into 'pq'/);
  assert.equal(await count('pq'), 1000);
  assert.deepEqual((await api('GET', '/v1/namespaces/pq/documents/999')).body, { id: 999, vector: [999, 1], attributes: { title: 'doc 999' } });
  assert.deepEqual((await api('GET', '/v1/namespaces/pq/documents/10')).body.attributes, {});
});

test('an import stopped by a bad line names it, keeps what was written, and --resume finishes it exactly', async () => {
  await namespace('rs');
  const path = join(dir, 'half-bad.jsonl');
  // Line 2601 (id 2600) has a 3-dimensional vector in a 2-dimensional namespace.
  jsonl(path, 0, 4000, { 2600: JSON.stringify({ id: 2600, vector: [1, 2, 3] }) });
  const run = await silt(['import', path, '-n', 'rs', '--batch', '1500'], env);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /^silt import: import stopped at line 2601 of .*half-bad\.jsonl: 400 SILT_ERR_DOCUMENT_VECTOR_DIMENSION: .*\(the 2500 documents before it are imported: run again with --resume to go on\)\n$/);
  const state = JSON.parse(readFileSync(`${path}.silt-import.json`, 'utf8'));
  // Batch 2 (lines 1501-3000) was refused at its line 1101, after the server wrote its first
  // chunk of 1,000: the resume point is right after that chunk.
  assert.equal(state.documents, 2500);
  assert.equal(await count('rs'), 2500);

  // Without --resume an existing state is not silently overwritten.
  const again = await silt(['import', path, '-n', 'rs'], env);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /records an interrupted import \(2500 documents\); pass --resume/);

  jsonl(path, 0, 4000); // the line fixed
  const resumed = await silt(['import', path, '-n', 'rs', '--resume', '--batch', '1500'], env);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /imported 1500 documents into 'rs'.*2500 before resuming/);
  assert.equal(await count('rs'), 4000);
  assert.deepEqual((await api('GET', '/v1/namespaces/rs/documents/2600')).body.vector, [2600 % 97, 1]);
  assert.equal(existsSync(`${path}.silt-import.json`), false);
});

test('an import killed mid-way goes on with --resume to the exact count', async () => {
  await namespace('kill');
  const path = jsonl(join(dir, 'big.jsonl'), 0, 30_000);
  const statePath = `${path}.silt-import.json`;
  const { child, done } = spawnCli(['import', path, '-n', 'kill', '--batch', '100'], env);
  // Killed as soon as a first batch is acknowledged (its resume point saved).
  while (!existsSync(statePath) && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
  child.kill('SIGKILL');
  const killed = await done;
  assert.equal(killed.signal, 'SIGKILL', `the import was still running when killed: ${killed.stdout}`);
  const before = JSON.parse(readFileSync(statePath, 'utf8')).documents as number;
  assert.ok(before > 0 && before < 30_000);

  const resumed = await silt(['import', path, '-n', 'kill', '--resume', '--batch', '5000'], env);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(await count('kill'), 30_000);
  for (const id of [0, before - 1, before, 29_999]) {
    assert.equal((await api('GET', `/v1/namespaces/kill/documents/${id}`)).body.attributes.title, `doc ${id}`);
  }
});

test('import failures exit 1 with one clear line', async () => {
  const file = jsonl(join(dir, 'small.jsonl'), 0, 10);
  const closed = await freePort(); // nothing listens there
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [['import', file, '-n', 'missing'], env, /^silt import: import stopped: 404 SILT_ERR_NAMESPACE_NOT_FOUND: .*'missing'/],
    [['import', file, '-n', 'jl'], { SILT_URL: server.url, SILT_API_KEY: 'wrong-key-0123456789abc' }, /^silt import: import stopped: 401 SILT_ERR_AUTH_INVALID/],
    [['import', file, '-n', 'jl', '--resume'], env, /^silt import: nothing to resume: .*small\.jsonl\.silt-import\.json does not exist/],
    [['import', join(dir, 'absent.jsonl'), '-n', 'jl'], env, /^silt import: cannot read .*absent\.jsonl: ENOENT/],
    [['import', join(dir, 'data.csv'), '-n', 'jl', '--format', 'csv'], env, /^silt import: cannot read/],
    [['import', file, '-n', 'jl', '--url', `http://127.0.0.1:${closed}`], env, /^silt import: import stopped: cannot reach http:\/\/127\.0\.0\.1:\d+/],
  ];
  for (const [args, e, message] of cases) {
    const run = await silt(args, e);
    assert.equal(run.code, 1, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  }
  const unknown = await silt(['import', file, '-n', 'jl', '--format', 'csv'], env);
  assert.match(unknown.stderr, /unknown --format 'csv'; use jsonl, fvecs or parquet/);
});
