// Event-loop delay by phase (perf_hooks.monitorEventLoopDelay at 1 ms resolution), with the
// garbage-collector pauses of the same phase, and the same histogram taken at the same time in
// an idle control process: on a shared 2-core machine a stall can be the scheduler's, not ours.

import { spawn } from 'node:child_process';
import { monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

export interface DelayMs {
  max: number;
  p99: number;
  p50: number;
  mean: number;
}

export interface PhaseStats {
  delayMs: DelayMs;
  /** Garbage-collection pauses of this process during the phase. */
  gc: { count: number; maxMs: number; totalMs: number };
  /** An idle Node process's own event-loop delay over the same interval. */
  controlMs: DelayMs | null;
}

function delayOf(h: IntervalHistogram): DelayMs {
  return { max: h.max / 1e6, p99: h.percentile(99) / 1e6, p50: h.percentile(50) / 1e6, mean: h.mean / 1e6 };
}

const CONTROL = `
const { monitorEventLoopDelay } = require('node:perf_hooks');
const h = monitorEventLoopDelay({ resolution: 1 });
h.enable();
const ms = (x) => x / 1e6;
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  process.stdout.write(JSON.stringify({ max: ms(h.max), p99: ms(h.percentile(99)), p50: ms(h.percentile(50)), mean: ms(h.mean) }) + '\\n');
  h.reset();
  if (line === 'quit') process.exit(0);
});
process.stdout.write('ready\\n');
`;

/** Measures phases one after another: start('a'), start('b') ends 'a', finish() ends the last. */
export class LoopMonitor {
  private readonly results = new Map<string, PhaseStats>();
  private current: { name: string; h: IntervalHistogram; gc: number[] } | null = null;
  private readonly observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) this.current?.gc.push(e.duration);
  });
  private control: { ask(last: boolean): Promise<DelayMs> } | null = null;

  /** Starts the control process (and waits until it is sampling). */
  async open(): Promise<void> {
    const child = spawn(process.execPath, ['-e', CONTROL], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const first = await lines.next();
    if (first.value !== 'ready') throw new Error('control process did not start');
    this.control = {
      async ask(last) {
        child.stdin!.write(last ? 'quit\n' : 'next\n');
        const { value } = await lines.next();
        return JSON.parse(String(value)) as DelayMs;
      },
    };
    this.observer.observe({ entryTypes: ['gc'] });
  }

  async start(name: string): Promise<void> {
    await this.end(false);
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    this.current = { name, h, gc: [] };
  }

  async finish(): Promise<Record<string, PhaseStats>> {
    await this.end(true);
    this.observer.disconnect();
    return Object.fromEntries(this.results);
  }

  private async end(last: boolean): Promise<void> {
    const cur = this.current;
    this.current = null;
    if (cur) cur.h.disable();
    // The control's histogram is read and reset at every boundary, so it covers the same span.
    const control = this.control ? await this.control.ask(last) : null;
    if (!cur) return;
    this.results.set(cur.name, {
      delayMs: delayOf(cur.h),
      gc: { count: cur.gc.length, maxMs: Math.max(0, ...cur.gc), totalMs: cur.gc.reduce((a, x) => a + x, 0) },
      controlMs: control,
    });
  }
}
