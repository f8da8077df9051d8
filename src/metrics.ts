// A node's Prometheus metrics through prom-client. NodeMetrics owns one Registry per node (tests
// build many servers in one process, so never prom-client's global registry): the histograms the
// code observes as it runs, and the counters and gauges mirrored at scrape time from the numbers
// /stats reports (sampled()). The process and Node.js metrics (collectDefaultMetrics) describe the
// process, not a node: they are registered once per process, on their own registry, because each
// registration starts an event-loop-delay monitor and a GC observer that are never stopped.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One counter or gauge read from a node's stats at scrape time: one value, or values by label set. */
export interface Sample {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  values: number | Array<{ labels: Record<string, string>; value: number }>;
}

/** What a query was, for silt_query_duration_seconds. */
export type QueryKind = 'vector' | 'text' | 'hybrid' | 'filtered' | 'served_from_storage';

/** Request latencies: 1 ms to 10 s. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Segment builds and merges: 10 ms to 10 min. */
const BUILD_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

let processRegistry: Registry | null = null;

function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export class NodeMetrics {
  readonly registry = new Registry();

  readonly httpResponses = new Counter({
    name: 'silt_http_responses_total', help: 'HTTP responses sent, by status code.', labelNames: ['status'], registers: [this.registry],
  });

  /** route is the route's pattern (/v1/namespaces/:ns/query), never the raw URL; "unmatched" for 404s. */
  readonly httpDuration = new Histogram({
    name: 'silt_http_request_duration_seconds', help: 'HTTP request duration, by route pattern, method and status.',
    labelNames: ['route', 'method', 'status'], buckets: LATENCY_BUCKETS, registers: [this.registry],
  });

  /** The put of one group commit's WAL object: what every acknowledged write waited for. */
  readonly walCommit = new Histogram({
    name: 'silt_wal_commit_duration_seconds', help: 'Duration of the object-store put of one WAL group commit.',
    buckets: LATENCY_BUCKETS, registers: [this.registry],
  });

  readonly storeRequests = new Histogram({
    name: 'silt_object_store_request_duration_seconds',
    help: 'Object-store request duration, by operation and outcome (ok, not_found, precondition_failed, transient, permanent).',
    labelNames: ['operation', 'outcome'], buckets: LATENCY_BUCKETS, registers: [this.registry],
  });

  readonly queryDuration = new Histogram({
    name: 'silt_query_duration_seconds', help: 'Query duration, by kind (vector, text, hybrid, filtered, served_from_storage).',
    labelNames: ['kind'], buckets: LATENCY_BUCKETS, registers: [this.registry],
  });

  /** From the build's start (queue wait included) until its manifest is committed. */
  readonly indexBuild = new Histogram({
    name: 'silt_index_build_duration_seconds', help: 'Duration of a segment build until its manifest commit, by kind (flush, merge).',
    labelNames: ['kind'], buckets: BUILD_BUCKETS, registers: [this.registry],
  });

  /** The last recall measured by POST /v1/namespaces/:ns/_debug/recall, by namespace. */
  readonly annRecall = new Gauge({
    name: 'silt_ann_recall', help: 'Recall of approximate vector search against exhaustive search, as last measured by _debug/recall, by namespace.',
    labelNames: ['namespace'], registers: [this.registry],
  });

  private read: () => Sample[] = () => [];

  /**
   * Counters and gauges taken from `read()` at each scrape: a new one is one entry in the list it
   * returns. Each is created on its first scrape with values (its label names are those values').
   */
  sampled(read: () => Sample[]): void {
    this.read = read;
  }

  private mirror(): void {
    for (const s of this.read()) {
      const values = typeof s.values === 'number' ? [{ labels: {}, value: s.values }] : s.values;
      let metric = this.registry.getSingleMetric(s.name) as Gauge | Counter | undefined;
      if (!metric) {
        if (values.length === 0) continue;
        const config = { name: s.name, help: s.help, labelNames: Object.keys(values[0]!.labels), registers: [this.registry] };
        metric = s.type === 'counter' ? new Counter(config) : new Gauge(config);
      }
      metric.reset();
      for (const v of values) {
        if (metric instanceof Gauge) metric.set(v.labels, v.value);
        else metric.inc(v.labels, v.value);
      }
    }
  }

  /** The exposition text of this node's metrics and the process's. */
  async render(): Promise<string> {
    this.mirror();
    return (await this.registry.metrics()) + '\n' + (await processMetrics().metrics());
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** Seconds since `started` (a performance.now() reading). */
export function secondsSince(started: number): number {
  return (performance.now() - started) / 1000;
}
