// Latency summaries. The machine is shared and noisy: benchmarks repeat a measurement in passes
// that interleave the things they compare, and report the median over passes.

export interface Latency {
  count: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
  /** Operations per second over the summed latencies (sequential, one at a time). */
  qps: number;
}

/** Nearest-rank quantile of an ascending array. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

export function summarize(ms: readonly number[]): Latency {
  const s = [...ms].sort((a, b) => a - b);
  const total = s.reduce((a, x) => a + x, 0);
  return {
    count: s.length,
    p50: quantile(s, 0.5),
    p99: quantile(s, 0.99),
    mean: s.length ? total / s.length : NaN,
    max: s[s.length - 1] ?? NaN,
    qps: total > 0 ? (s.length * 1000) / total : NaN,
  };
}

/** The middle value; the mean of the two middle ones for an even count. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The per-pass summaries folded into one: the median of each field over passes. */
export function medianOf(passes: readonly Latency[]): Latency {
  return {
    count: median(passes.map((p) => p.count)),
    p50: median(passes.map((p) => p.p50)),
    p99: median(passes.map((p) => p.p99)),
    mean: median(passes.map((p) => p.mean)),
    max: median(passes.map((p) => p.max)),
    qps: median(passes.map((p) => p.qps)),
  };
}

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, x) => a + x, 0) / xs.length : NaN;
}

/** Milliseconds since `t0` (performance.now()). */
export function since(t0: number): number {
  return performance.now() - t0;
}
