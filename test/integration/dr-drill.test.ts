// The DR drill (examples/distributed/dr-drill.sh) on real processes: it checks itself and exits
// non-zero on the first failed check; here its verdict and its RPO line are asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../examples/distributed/dr-drill.sh', import.meta.url));

test('the DR drill passes: no acknowledged write lost, queries answer without the owner, both restores check out', { timeout: 300_000 }, async () => {
  const child = spawn('bash', [SCRIPT], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DRILL_DOCS: '200' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  assert.equal(code, 0, out);
  assert.match(out, /^DR drill passed$/m);
  assert.match(out, /^RPO: 0 acknowledged writes lost/m);
  assert.match(out, /^RTO: queries answered \d+ ms after the owner was killed/m);
  assert.match(out, /^RTO: the killed owner took writes again \d+ ms/m);
});
