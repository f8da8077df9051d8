// Where a process's CPU time went: the .cpuprofile files `node --cpu-prof` writes (one per
// thread: the main thread and each worker), self time summed by function and file, so that
// HTTP parsing, JSON, the IVF scan and result building show up as separate lines.

import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Rows [self %, self ms, "function (file) [thread]"], largest first, idle excluded from the %. */
export async function summarizeProfiles(dir: string, top: number): Promise<Array<Array<string | number>>> {
  const byName = new Map<string, number>();
  let total = 0;
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort();
  for (const file of files) {
    const p = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile;
    const nodes = new Map(p.nodes.map((n) => [n.id, n]));
    // CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile: thread 0 is the main thread; the
    // workers' lines are summed together.
    const thread = file.split('.')[4] === '0' ? 'main' : 'worker';
    p.samples.forEach((id, i) => {
      const { functionName, url } = nodes.get(id)!.callFrame;
      // Idle, and a piscina worker blocked in Atomics.wait between tasks: no CPU spent.
      if (functionName === '(idle)' || functionName === 'atomicsWaitLoop') return;
      const us = p.timeDeltas[i] ?? 0;
      const key = `${functionName || '(anonymous)'} (${url ? basename(url.split('?')[0]!) : 'native'}) [${thread}]`;
      byName.set(key, (byName.get(key) ?? 0) + us);
      total += us;
    });
  }
  return [...byName.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([name, us]) => [((100 * us) / total).toFixed(1), (us / 1000).toFixed(0), name]);
}
