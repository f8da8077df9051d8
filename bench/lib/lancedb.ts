// LanceDB for side-by-side figures in benchmarks (the issues compare Silt with it "in the same
// run"). It is not a dependency of Silt: its native package is ~190 MB, so `npm ci` does not
// fetch it; a benchmark that compares installs it once, pinned, under bench/.deps/ (ignored by
// git), and runs without it when the registry cannot be reached.
//
// 0.31.0 is the release tested here (.library/env/packages: newer releases' lock files name
// builds for other platforms that this registry does not serve). apache-arrow is its peer
// dependency (≤ 18.1.0).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT } from './data.ts';

export const LANCEDB_VERSION = '0.31.0';
const ARROW_VERSION = '18.1.0';
const DEPS = join(ROOT, 'bench/.deps');

/** The subset of @lancedb/lancedb the benchmarks call. */
export interface LanceDb {
  connect(uri: string, options?: { storageOptions?: Record<string, string> }): Promise<LanceConnection>;
  Index: { ivfFlat(options: { distanceType: 'cosine' | 'l2' | 'dot'; numPartitions?: number }): unknown };
}
export interface LanceConnection {
  createTable(name: string, rows: Array<Record<string, unknown>>, options?: { mode: 'create' | 'overwrite' }): Promise<LanceTable>;
  openTable(name: string): Promise<LanceTable>;
  close(): void;
}
export interface LanceTable {
  createIndex(column: string, options: { config: unknown }): Promise<void>;
  search(vector: number[]): LanceQuery;
}
export interface LanceQuery {
  distanceType(d: 'cosine' | 'l2' | 'dot'): LanceQuery;
  nprobes(n: number): LanceQuery;
  limit(k: number): LanceQuery;
  select(columns: string[]): LanceQuery;
  toArray(): Promise<Array<Record<string, unknown>>>;
}

/** @lancedb/lancedb, installed under bench/.deps/ on first use; null (with the reason printed) when it cannot be. */
export function loadLanceDb(): LanceDb | null {
  const entry = join(DEPS, 'node_modules/@lancedb/lancedb/package.json');
  try {
    if (!existsSync(entry)) {
      console.log(`installing @lancedb/lancedb@${LANCEDB_VERSION} into bench/.deps (once; ~190 MB)`);
      execFileSync('npm', ['install', '--prefix', DEPS, '--save-exact', '--no-audit', '--no-fund',
        `@lancedb/lancedb@${LANCEDB_VERSION}`, `apache-arrow@${ARROW_VERSION}`], { stdio: ['ignore', 'ignore', 'inherit'] });
    }
    const require = createRequire(join(DEPS, 'package.json'));
    const version = (JSON.parse(readFileSync(entry, 'utf8')) as { version: string }).version;
    if (version !== LANCEDB_VERSION) throw new Error(`bench/.deps holds @lancedb/lancedb ${version}, not ${LANCEDB_VERSION}: delete bench/.deps`);
    return require('@lancedb/lancedb') as LanceDb;
  } catch (e) {
    console.log(`LanceDB is left out of this run: ${(e as Error).message}`);
    return null;
  }
}

/** The storage options that point LanceDB (its object_store client) at an S3 endpoint over plain HTTP, path-style. */
export function lanceS3Options(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }): Record<string, string> {
  return {
    aws_endpoint: endpoint, aws_access_key_id: credentials.accessKeyId, aws_secret_access_key: credentials.secretAccessKey,
    aws_region: 'us-east-1', allow_http: 'true', aws_virtual_hosted_style_request: 'false',
  };
}
