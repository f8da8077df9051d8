// What benchmarks read of the Silt processes they start, and how they get the code of another
// revision to run side by side with this one.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './data.ts';
import { tempDir } from './silt.ts';

/** A process's resident set in MiB (Linux /proc), or null once it is gone. */
export function rssMiB(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** A checkout of `rev` in a temporary directory, with this tree's node_modules. */
export async function checkout(rev: string): Promise<string> {
  const dir = await tempDir(`checkout-${rev}`);
  mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', `git -C '${ROOT}' archive '${rev}' | tar -x -C '${dir}'`]);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}
