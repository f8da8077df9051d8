// Latency summaries. The machine is shared and noisy: benchmarks repeat a measurement in passes
// that interleave the things they compare, and report the median over passes.

export interface Latency {
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
    p50: quantile(s, 0.5),
    p99: quantile(s, 0.99),
    mean: s.length ? total / s.length : NaN,
    max: s[s.length - 1] ?? NaN,
    qps: total > 0 ? (s.length * 1000) / total : NaN,
  };
}

export function median(xs: readonly number[]): number {
  return quantile([...xs].sort((a, b) => a - b), 0.5);
}

/** The per-pass summaries folded into one: the median of each field over passes. */
export function medianOf(passes: readonly Latency[]): Latency {
  return {
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
