// How Silt runs outside the test harness: the compiled build (`npm run build`, `node dist/main.js`,
// what the image runs) with no tsx to fall back on, and `npm start`, whose SIGTERM must reach
// the server. Both start real processes on 127.0.0.1 and check their output for deprecation
// warnings (fastify's FSTDEP… and Node's), which would otherwise go unnoticed in the log.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { http, startSilt } from '../support/silt-process.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** What the image leaves out: tsx and the esbuild it runs on. */
const DEV_ONLY = new Set(['tsx', 'esbuild', '@esbuild', '.bin', '.cache', '.package-lock.json']);

const scratch = mkdtempSync(path.join(tmpdir(), 'silt-runtime-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function dataEnv(name: string): Record<string, string> {
  return {
    SILT_STORAGE_LOCAL_ROOT_PATH: path.join(scratch, name, 'data'),
    SILT_CACHE_DISK_PATH: path.join(scratch, name, 'cache'),
  };
}

function warnings(logs: string[]): string[] {
  return logs.filter((line) => /Warning|FSTDEP/.test(line));
}

describe('the compiled build', () => {
  it('builds with npm run build and serves from dist/ with no tsx installed, build worker included', async () => {
    // An app directory like the image's: dist/ beside a node_modules without tsx or esbuild.
    const app = path.join(scratch, 'app');
    mkdirSync(path.join(app, 'node_modules'), { recursive: true });
    for (const entry of readdirSync(path.join(ROOT, 'node_modules'))) {
      if (!DEV_ONLY.has(entry)) symlinkSync(path.join(ROOT, 'node_modules', entry), path.join(app, 'node_modules', entry));
    }
    copyFileSync(path.join(ROOT, 'package.json'), path.join(app, 'package.json')); // the image has it too (the version)
    const dist = path.join(app, 'dist');
    const build = spawnSync('npm', ['run', 'build', '--', '--outDir', dist], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(build.status, 0, `npm run build failed:\n${build.stdout}\n${build.stderr}`);
    const files = readdirSync(dist, { recursive: true }).map(String).filter((f) => f.endsWith('.js'));
    assert.ok(files.includes('main.js') && files.includes(path.join('segment', 'build-worker.js')));
    for (const f of files) {
      assert.doesNotMatch(readFileSync(path.join(dist, f), 'utf8'), /from ['"]tsx|import\(['"]tsx|\.ts['"]\)?;?$/m, `${f} still needs tsx`);
    }

    const silt = await startSilt(dataEnv('dist'), [], { command: [process.execPath, path.join(dist, 'main.js')] });
    try {
      assert.equal((await http(silt.url, 'GET', '/health')).body.status, 'ok');
      // The console's static files are part of the build.
      const page = await fetch(`${silt.url}/console/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /Silt console/);
      assert.equal((await http(silt.url, 'PUT', '/v1/namespaces/built', { vector_dim: 2 })).status, 201);
      assert.equal((await http(silt.url, 'POST', '/v1/namespaces/built/upsert', { documents: [{ id: 1, vector: [1, 0] }] })).status, 200);
      // A flush builds the segment on the piscina pool: the compiled worker, not the tsx one.
      assert.equal((await http(silt.url, 'POST', '/v1/namespaces/built/flush')).body.flushed, true);
      assert.deepEqual((await http(silt.url, 'GET', '/stats')).body.builds.completed, 1);
      const hits = (await http(silt.url, 'POST', '/v1/namespaces/built/query', { vector: [1, 0] })).body.results;
      assert.deepEqual(hits.map((h: { id: number }) => h.id), [1]);
    } finally {
      const closed = once(silt.child, 'close'); // every log line read
      assert.equal(await silt.stop(), 0);
      await closed;
    }
    assert.ok(silt.logs.some((l) => l.includes('"shutdown complete"')));
    assert.deepEqual(warnings(silt.logs), []);
  });
});

describe('npm start', () => {
  it('passes SIGTERM on to the server, which shuts down cleanly', async () => {
    const env = { ...dataEnv('npm'), HOME: process.env.HOME ?? scratch };
    // detached: the whole group can be cleaned up if a server outlives npm (what this test catches).
    const silt = await startSilt(env, [], { command: ['npm', 'start', '--silent'], detached: true });
    try {
      assert.equal((await http(silt.url, 'GET', '/health')).body.status, 'ok');
      const closed = once(silt.child, 'close'); // every log line read, once nothing holds the pipe
      // `kill <npm pid>`: the signal goes to npm alone, as an operator or a supervisor sends it.
      await silt.stop();
      const answers = await fetch(`${silt.url}/health`).then(() => true, () => false);
      assert.equal(answers, false, 'the server still answers after npm exited: SIGTERM did not reach it');
      await closed;
      assert.ok(silt.logs.some((l) => l.includes('"shutdown complete"')), `the server never shut down:\n${silt.logs.join('\n')}`);
    } finally {
      try {
        process.kill(-silt.child.pid!, 'SIGKILL');
      } catch {
        // the group is gone: nothing outlived npm
      }
    }
    assert.deepEqual(warnings(silt.logs), []);
  });
});
