// The S3 test server (test/support/s3-server.ts: s3rver with conditional writes and ranges
// fixed) as its own process, through test/support/s3-server-main.ts, so that its request
// handling does not share the benchmark's event loop; and an S3ObjectStore pointed at it.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { S3ObjectStore } from '../../src/storage/s3.ts';
import { ROOT } from './data.ts';

export const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface S3Process {
  endpoint: string;
  bucket: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startS3Process(directory: string): Promise<S3Process> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/s3-server-main.ts'), '--dir', directory], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  const ready = await new Promise<{ endpoint: string; bucket: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s3 test server did not start in 30 s: ${stderr.join('\n')}`)), 30_000);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as { endpoint: string; bucket: string });
    });
    void exited.then(() => reject(new Error(`s3 test server exited: ${stderr.join('\n')}`)));
  });
  return {
    ...ready,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export function s3Store(server: { endpoint: string; bucket: string }): S3ObjectStore {
  // The SDK warns on every run that releases after January 2027 will need Node 22; Silt is on 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3ObjectStore({
    bucket: server.bucket,
    region: 'us-east-1',
    endpoint: server.endpoint,
    requestTimeoutMs: 10_000,
    credentials: S3_CREDENTIALS,
  });
}
