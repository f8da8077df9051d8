// indexing.build_nice: an operator who sets it expects the build threads, and only them, to run
// at that niceness (so queries and writes keep the cores under a build backlog).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { getPriority } from 'node:os';
import { BuildPool } from '../../src/segment/index.ts';
import { randomInput } from './helpers.ts';

/** Niceness of each thread of this process (field 19 of /proc/self/task/<tid>/stat). */
async function threadNiceness(): Promise<number[]> {
  const out: number[] = [];
  for (const tid of await readdir('/proc/self/task')) {
    const stat = await readFile(`/proc/self/task/${tid}/stat`, 'utf8').catch(() => null);
    if (stat === null) continue; // the thread ended meanwhile
    // comm (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.push(Number(fields[16]));
  }
  return out;
}

test('build threads run at the configured niceness; the rest of the process does not', { skip: process.platform !== 'linux' }, async () => {
  const before = getPriority();
  const pool = new BuildPool({ threads: 1, nice: before + 7 > 19 ? 19 : before + 7, idleTimeoutMs: 60_000 });
  try {
    await pool.build(() => randomInput({ rows: 300, dim: 8, metric: 'l2', seed: 3 }));
    const nice = await threadNiceness();
    const target = Math.min(19, before + 7);
    assert.ok(nice.includes(target), `a thread at niceness ${target}: ${nice.join(' ')}`);
    assert.equal(getPriority(), before, 'the main thread keeps its priority');
  } finally {
    await pool.close();
  }
});
