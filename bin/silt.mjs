#!/usr/bin/env node
// The `silt` command (src/cli/main.ts). Loaded through tsx's scoped import API, like
// src/segment/build-worker.mjs, so it runs under plain node after `npm ci`, with no build step.
import { tsImport } from 'tsx/esm/api';

await tsImport(new URL('../src/cli/main.ts', import.meta.url).href, import.meta.url);
