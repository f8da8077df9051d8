// Every metric Silt documents (docs/deployment.md, "Metrics") with its Prometheus type: the one
// list the /metrics scrape test, the docs test and the Prometheus rules test check against.

export const SILT_METRICS: Record<string, 'counter' | 'gauge' | 'histogram'> = {
  silt_http_responses_total: 'counter',
  silt_http_request_duration_seconds: 'histogram',
  silt_wal_commit_duration_seconds: 'histogram',
  silt_object_store_requests_total: 'counter',
  silt_object_store_request_duration_seconds: 'histogram',
  silt_query_duration_seconds: 'histogram',
  silt_index_build_duration_seconds: 'histogram',
  silt_cache_hits_total: 'counter',
  silt_cache_misses_total: 'counter',
  silt_cache_evictions_total: 'counter',
  silt_cache_bytes: 'gauge',
  silt_cache_max_bytes: 'gauge',
  silt_cache_entries: 'gauge',
  silt_namespaces_open: 'gauge',
  silt_namespace_views: 'gauge',
  silt_namespaces_closed_idle_total: 'counter',
  silt_namespace_views_evicted_total: 'counter',
  silt_namespaces_closed_memory_total: 'counter',
  silt_memory_bytes: 'gauge',
  silt_build_threads: 'gauge',
  silt_build_threads_max: 'gauge',
  silt_query_threads: 'gauge',
  silt_query_scan_tasks_total: 'counter',
  silt_centroid_shortlists_total: 'counter',
  silt_builds_active: 'gauge',
  silt_builds_queued: 'gauge',
  silt_builds_total: 'counter',
  silt_unindexed_bytes: 'gauge',
  silt_unindexed_limit_bytes: 'gauge',
  silt_unindexed_documents: 'gauge',
  silt_segments: 'gauge',
  silt_index_lag_seconds: 'gauge',
  silt_ann_recall: 'gauge',
};

/** Exposed only by a node with cluster routing (distributed.enabled). */
export const CLUSTER_METRICS: Record<string, 'counter'> = {
  silt_forwarded_total: 'counter',
  silt_forward_failures_total: 'counter',
  silt_served_from_storage_total: 'counter',
  silt_served_eventual_total: 'counter',
};

/** A few of prom-client's process and Node.js metrics (collectDefaultMetrics), which the docs and rules use. */
export const PROCESS_METRICS: Record<string, 'counter' | 'gauge' | 'histogram'> = {
  process_cpu_seconds_total: 'counter',
  process_resident_memory_bytes: 'gauge',
  process_start_time_seconds: 'gauge',
  nodejs_eventloop_lag_seconds: 'gauge',
  nodejs_eventloop_lag_p99_seconds: 'gauge',
  nodejs_heap_size_used_bytes: 'gauge',
  nodejs_gc_duration_seconds: 'histogram',
};

/** Every name above. */
export const ALL_METRICS = { ...SILT_METRICS, ...CLUSTER_METRICS, ...PROCESS_METRICS };

/** `# TYPE name type` lines of a Prometheus exposition, as a map. */
export function metricTypes(text: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(m[1]!, m[2]!);
  return types;
}
