// Live request-rate and latency charts (uPlot), fed by a scrape of /metrics every 2 s.
import uPlot from './uPlot.esm.js';
import { getText } from './api.js';
import { interval, parseMetrics, requestTotals } from './metrics.js';

const SCRAPE_MS = 2000;
/** Five minutes of points. */
const KEEP = 150;
/** Whole seconds between time ticks, never fractions of one. */
const TICK_SECONDS = [1, 2, 5, 10, 15, 30, 60, 120, 300];
const clock = (seconds) => new Date(seconds * 1000).toLocaleTimeString('en-GB');

function chart(target, title, unit, series, spanGaps) {
  const opts = {
    title,
    width: Math.max(target.clientWidth, 200),
    height: 170,
    scales: { y: { range: (_u, _min, max) => [0, Math.max(max ?? 0, 1) * 1.1] } },
    axes: [{ space: 70, incrs: TICK_SECONDS, values: (_u, ticks) => ticks.map(clock) }, { label: unit, size: 60 }],
    legend: { live: false },
    series: [{}, ...series.map(([label, stroke]) => ({ label, stroke, width: 2, spanGaps }))],
  };
  return new uPlot(opts, [[], ...series.map(() => [])], target);
}

/** Starts the charts; `onError` gets an ApiError when a scrape fails, null when one succeeds again. */
export function startCharts(panel, onError) {
  const rate = chart(panel.querySelector('#rate-chart'), 'Request rate', 'req/s', [['requests/s', '#2a6fdb'], ['5xx/s', '#d33']], false);
  // An interval without requests has no latency: a gap, which the line spans.
  const latency = chart(panel.querySelector('#latency-chart'), 'Latency', 'ms', [['mean ms', '#2a9d4b'], ['p99 ms', '#e08a00']], true);
  const points = { t: [], rate: [], errors: [], mean: [], p99: [] };
  let previous = null;

  async function scrape() {
    try {
      const totals = requestTotals(parseMetrics(await getText('/metrics')));
      const now = Date.now() / 1000;
      const change = previous ? interval(previous.totals, totals, now - previous.at) : null;
      previous = { totals, at: now };
      onError(null);
      if (!change) return;
      points.t.push(now);
      points.rate.push(change.rate);
      points.errors.push(change.errorRate);
      points.mean.push(change.meanMs);
      points.p99.push(change.p99Ms);
      for (const list of Object.values(points)) if (list.length > KEEP) list.shift();
      rate.setData([points.t, points.rate, points.errors]);
      latency.setData([points.t, points.mean, points.p99]);
      panel.dataset.points = String(points.t.length);
    } catch (e) {
      onError(e);
    }
  }

  for (const plot of [rate, latency]) {
    new ResizeObserver(() => plot.setSize({ width: Math.max(plot.root.parentElement.clientWidth, 200), height: 170 })).observe(plot.root.parentElement);
  }
  void scrape();
  setInterval(scrape, SCRAPE_MS);
}
