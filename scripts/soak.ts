// The SIGKILL loop of test/integration/kill-loop.test.ts, for longer:
//   npm run soak -- [--rounds 30] [--seed N] [--backend local|s3] [--max-ingest-ms 4000]
// Prints one line per round and a summary; exits 1 on the first lost write or wedged namespace.
import { parseArgs } from 'node:util';
import { runKillLoop } from '../test/support/kill-loop.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '30' },
    seed: { type: 'string', default: String(Date.now() % 100_000) },
    backend: { type: 'string', default: 'local' },
    'max-ingest-ms': { type: 'string', default: '4000' },
  },
});
const rounds = Number(values.rounds);
const seed = Number(values.seed);
const maxIngestMs = Number(values['max-ingest-ms']);
const backend = values.backend;
if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(seed) || !(maxIngestMs > 200) || (backend !== 'local' && backend !== 's3')) {
  process.stderr.write('usage: npm run soak -- [--rounds N≥1] [--seed N] [--backend local|s3] [--max-ingest-ms MS>200]\n');
  process.exit(2);
}
const started = Date.now();
process.stdout.write(`soak: ${rounds} rounds, seed ${seed}, ${backend} storage\n`);
try {
  const result = await runKillLoop({ rounds, seed, backend, maxIngestMs, finalFullCheck: true, log: (line) => process.stdout.write(`${line}\n`) });
  process.stdout.write(`soak passed in ${Math.round((Date.now() - started) / 1000)} s: ${JSON.stringify(result)}\n`);
} catch (e) {
  process.stderr.write(`soak failed (seed ${seed}): ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
}
