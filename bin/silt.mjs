#!/usr/bin/env node
// The `silt` command (src/cli/main.ts). It runs the compiled JavaScript of `npm run build` (dist/)
// when that is there and no source file is newer, so the container image (dist/ only) needs no
// tsx. Otherwise it loads the TypeScript sources through tsx's scoped import API, like
// src/segment/build-worker.mjs: a checkout runs under plain node after `npm ci` with no build,
// and an edit to src/ is never hidden by an old dist/. Walking src/ for the newest mtime costs
// about 2 ms (112 files).
import { existsSync, readdirSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const built = new URL('dist/cli/main.js', root);
const sources = new URL('src/', root);

function newestSourceMs(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(`${entry.parentPath}/${entry.name}`).mtimeMs);
  }
  return newest;
}

const useBuilt = existsSync(built) && (!existsSync(sources) || newestSourceMs(sources) <= statSync(built).mtimeMs);
if (useBuilt) {
  await import(built.href);
} else {
  const tsx = await import('tsx/esm/api').catch(() => {
    process.stderr.write('silt: dist/ is missing or older than src/, and tsx (a dev dependency) is not installed to run the sources: run npm run build, or npm ci\n');
    process.exit(1);
  });
  await tsx.tsImport(new URL('src/cli/main.ts', root).href, import.meta.url);
}
