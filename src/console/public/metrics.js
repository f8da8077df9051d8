// Request rate and latency from two scrapes of /metrics. The exposition format is a line per
// sample, `name{label="value",…} value`; the few lines of parsing here replace a dependency:
// the npm parsers for it target Node or are unmaintained, and the page needs one histogram.
const HISTOGRAM = 'silt_http_request_duration_seconds';
/** The console's own scrapes and orchestrator probes would otherwise be most of the traffic. */
const LEFT_OUT = new Set(['/metrics', '/health', '/ready']);

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Every sample of an exposition text: [{ name, labels, value }]. */
export function parseMetrics(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) continue;
    const labels = {};
    for (const [, name, value] of (m[2] ?? '').matchAll(LABEL)) labels[name] = value.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** The request histogram summed over routes (probes and scrapes left out): counts are cumulative. */
export function requestTotals(samples) {
  const totals = { count: 0, errors: 0, sum: 0, buckets: new Map() };
  for (const s of samples) {
    if (!s.name.startsWith(HISTOGRAM) || LEFT_OUT.has(s.labels.route)) continue;
    const part = s.name.slice(HISTOGRAM.length);
    if (part === '_count') {
      totals.count += s.value;
      if (s.labels.status?.startsWith('5')) totals.errors += s.value;
    } else if (part === '_sum') totals.sum += s.value;
    else if (part === '_bucket') totals.buckets.set(s.labels.le, (totals.buckets.get(s.labels.le) ?? 0) + s.value);
  }
  return totals;
}

/**
 * What happened between two scrapes `seconds` apart: requests/s, 5xx/s, and the mean and 99th
 * percentile latency in ms (null without requests; p99 interpolated within its bucket, as
 * Prometheus' histogram_quantile does). Null altogether when the counters went back (a restart).
 */
export function interval(before, after, seconds) {
  const count = after.count - before.count;
  if (count < 0 || seconds <= 0) return null;
  return {
    rate: count / seconds,
    errorRate: (after.errors - before.errors) / seconds,
    meanMs: count === 0 ? null : ((after.sum - before.sum) / count) * 1000,
    p99Ms: count === 0 ? null : quantile(0.99, before.buckets, after.buckets, count) * 1000,
  };
}

function quantile(q, before, after, count) {
  const bounds = [...after.keys()].map((le) => ({ le, upper: le === '+Inf' ? Infinity : Number(le) })).sort((a, b) => a.upper - b.upper);
  const rank = q * count;
  let lower = 0;
  let below = 0;
  for (const { le, upper } of bounds) {
    const cumulative = after.get(le) - (before.get(le) ?? 0);
    if (cumulative >= rank) {
      if (upper === Infinity) return lower; // beyond the last bound: its value is all that is known
      return lower + ((upper - lower) * (rank - below)) / Math.max(cumulative - below, 1e-9);
    }
    lower = upper;
    below = cumulative;
  }
  return lower;
}
