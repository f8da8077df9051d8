// Starts Silt as a real process (the same entry point as `npm start`) on 127.0.0.1 with an
// ephemeral port, and stops or kills it. Used by tests that need real HTTP and real crashes.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createServer } from 'node:net';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface SiltProcess {
  url: string;
  child: ChildProcess;
  logs: string[];
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

/** How the server is started: the sources through tsx unless a test runs another entry (dist/, npm start). */
export interface StartOptions {
  command?: [string, ...string[]];
  /** Its own process group, so that a test can clean up whatever the command left behind. */
  detached?: boolean;
}

export async function startSilt(env: Record<string, string>, args: string[] = [], opts: StartOptions = {}): Promise<SiltProcess> {
  const [command, ...commandArgs] = opts.command ?? [process.execPath, '--import', 'tsx', join(ROOT, 'src/main.ts')];
  const child = spawn(command, [...commandArgs, ...args], {
    cwd: ROOT,
    detached: opts.detached ?? false,
    // MALLOC_ARENA_MAX as `npm start` and the image set it (package.json, Dockerfile)
    env: { PATH: process.env.PATH ?? '', MALLOC_ARENA_MAX: '2', SILT_SERVER_HOST: '127.0.0.1', SILT_SERVER_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // not left running when the caller never gets it to stop
      reject(new Error(`silt did not start in 30 s:\n${logs.join('\n')}`));
    }, 30_000);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      logs.push(line);
      try {
        const rec = JSON.parse(line) as { msg?: string; address?: string };
        if (rec.msg === 'silt listening' && rec.address) {
          clearTimeout(timer);
          resolve(rec.address);
        }
      } catch {
        // not a JSON log line
      }
    });
    createInterface({ input: child.stderr! }).on('line', (line) => logs.push(line));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`silt exited with ${code} before listening:\n${logs.join('\n')}`));
    });
  });
  return {
    url,
    child,
    logs,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function http(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

/** A port free on 127.0.0.1 right now, for processes that must know each other's ports up front. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
