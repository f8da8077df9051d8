// Runs the real `silt` command (bin/silt.mjs, as `npx silt` does) against a real server.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'silt.mjs');

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function spawnCli(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const done = new Promise<Run>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export function silt(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return spawnCli(args, env).done;
}

const made: string[] = [];

/** A fresh directory under the system's temp directory, removed when this test file's process exits. */
export function tempDir(): string {
  if (made.length === 0) process.once('exit', () => { for (const d of made) rmSync(d, { recursive: true, force: true }); });
  const dir = mkdtempSync(join(tmpdir(), 'silt-cli-'));
  made.push(dir);
  return dir;
}

export const doc = (id: number) => ({ id, vector: [id % 97, 1], attributes: { title: `doc ${id}` } });

/** A JSONL file of documents from..to-1; `bad` replaces some lines with whatever they map to. */
export function jsonl(path: string, from: number, to: number, bad: Record<number, string> = {}): string {
  const lines: string[] = [];
  for (let id = from; id < to; id++) lines.push(bad[id] ?? JSON.stringify(doc(id)));
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

/** An .fvecs file of `rows` vectors of `dim` float32: row r is [r, r + 0.5, …]. */
export function fvecs(path: string, rows: number, dim: number): string {
  const buf = Buffer.alloc(rows * (4 + 4 * dim));
  for (let r = 0; r < rows; r++) {
    const at = r * (4 + 4 * dim);
    buf.writeInt32LE(dim, at);
    for (let i = 0; i < dim; i++) buf.writeFloatLE(r + i * 0.5, at + 4 + 4 * i);
  }
  writeFileSync(path, buf);
  return path;
}
