// npm run build: compiles src/ into dist/ with tsc (extra arguments, such as --outDir, go to tsc),
// then copies what tsc does not: the console's static files, which src/console/routes.ts serves
// from next to itself.
import { spawnSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { createRequire } from 'node:module';

const args = process.argv.slice(2);
const at = args.indexOf('--outDir');
const outDir = at >= 0 ? args[at + 1] : 'dist';
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const built = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', ...args], { stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);
cpSync('src/console/public', `${outDir}/console/public`, { recursive: true });
