// The import direction of STYLE.md: lower layers never import higher ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

// What each top-level module may import (besides itself). A type import counts: it hides a
// dependency all the same.
const ALLOWED: Record<string, string[]> = {
  'errors.ts': [],
  config: [],
  // The node's metrics registry: prom-client only, handed to whatever observes a metric.
  'metrics.ts': [],
  schema: ['errors.ts'],
  storage: ['errors.ts', 'config'],
  // A query node's views build on the shared namespace state, never on the owner's write path.
  cluster: ['errors.ts', 'config', 'schema', 'storage', 'wal', 'manifest', 'segment', 'query', 'namespace', 'metrics.ts'],
  wal: ['errors.ts', 'storage', 'schema'],
  segment: ['errors.ts', 'schema'],
  manifest: ['errors.ts', 'storage', 'schema', 'segment'],
  query: ['errors.ts', 'schema', 'segment', 'storage'],
  // One namespace's state and reads, shared by the owner (indexer/) and the views (cluster/).
  namespace: ['errors.ts', 'schema', 'storage', 'wal', 'manifest', 'segment', 'query', 'metrics.ts', 'openapi'],
  indexer: ['errors.ts', 'config', 'schema', 'storage', 'wal', 'manifest', 'segment', 'query', 'namespace', 'metrics.ts', 'openapi'],
  compaction: ['errors.ts', 'schema', 'storage', 'wal', 'manifest', 'segment', 'namespace', 'indexer', 'metrics.ts', 'openapi'],
  cache: ['errors.ts'],
  'auth.ts': ['errors.ts', 'config', 'cluster'],
  // GET /openapi.json: the route descriptions' types are a leaf; the assembler reads errors and access.
  openapi: ['errors.ts', 'auth.ts'],
  // The command line talks to Silt over HTTP only; `silt serve` loads main.ts, the composition root.
  cli: [],
  // The console's static files and their route: @fastify/static only; the page talks to the API over HTTP.
  console: [],
  // Backup and restore copy objects between stores, on storage alone (cli/backup.ts loads it lazily).
  backup: ['errors.ts', 'config', 'storage', 'manifest'],
};

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

test('modules import only the layers below them', () => {
  const problems: string[] = [];
  for (const file of files(SRC)) {
    const rel = relative(SRC, file);
    const module = rel.includes('/') ? rel.split('/')[0]! : rel;
    const allowed = ALLOWED[module];
    if (!allowed) continue; // main.ts, server.ts, logging.ts wire everything
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^import (?:type )?[^'"]*from '(\.[^']+)'/gm)) {
      const target = relative(SRC, join(file, '..', m[1]!));
      const targetModule = target.includes('/') ? target.split('/')[0]! : target;
      if (targetModule === module) continue;
      if (!allowed.includes(targetModule)) problems.push(`${rel} imports ${target}`);
    }
  }
  assert.deepEqual(problems, []);
});
