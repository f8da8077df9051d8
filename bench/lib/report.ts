// Printing tables and writing bench/results/<name>.json, with what is needed to read the numbers
// later: date, Node version, CPU, and the command.

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './data.ts';

export const RESULTS_DIR = join(ROOT, 'bench/results');

export function printTable(title: string, header: string[], rows: Array<Array<string | number>>): void {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells) console.log(line(r));
}

/** Fixed decimals; '-' for a missing value. */
export function fmt(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(digits);
}

export function verdict(met: boolean): string {
  return met ? 'met' : 'MISSED';
}

/** The commit measured, and whether src/ had uncommitted changes at the time. */
function revision(): { commit: string | null; srcModified: boolean | null } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' });
    return { commit, srcModified: status.trim() !== '' };
  } catch {
    return { commit: null, srcModified: null };
  }
}

export function environment() {
  const cpu = cpus();
  return {
    ...revision(),
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
  };
}

/** Writes bench/results/<name>.json and returns its path. */
export function writeResult(name: string, body: Record<string, unknown>): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}.json`);
  writeFileSync(path, JSON.stringify({ benchmark: name, command: `npm run bench -- ${name}`, ...environment(), ...body }, null, 2) + '\n');
  console.log(`\nwrote ${path}`);
  return path;
}
