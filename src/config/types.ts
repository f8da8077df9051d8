// The shape of Silt's configuration. Every leaf here has exactly one row in keys.ts; the
// compiler enforces that (see `KeyDefinitions` there), so this file and the key table cannot drift.

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export type LogFormat = 'json' | 'text';
export type StorageBackend = 'local' | 's3';
export type NodeRole = 'indexer' | 'query';

export interface SiltConfig {
  server: {
    host: string;
    port: number;
    body_limit_bytes: number;
    shutdown_timeout_secs: number;
    headers_timeout_ms: number;
    request_timeout_ms: number;
    keep_alive_timeout_ms: number;
    max_connections: number;
  };
  storage: {
    backend: StorageBackend;
    local: { root_path: string };
    s3: {
      bucket: string;
      region: string;
      endpoint: string | null;
      wal_prefix: string;
      request_timeout_ms: number;
      max_retries: number;
      multipart_part_size: number;
    };
  };
  cache: { memory_size: number; disk_size: number; disk_path: string; max_views: number };
  wal: { max_batch_bytes: number };
  indexing: {
    flush_docs: number;
    flush_bytes: number;
    flush_interval_secs: number;
    idle_flush_secs: number;
    hnsw_m: number;
    hnsw_ef_construction: number;
    hnsw_ef_search: number;
    ivf_min_rows: number;
    build_threads: number;
    build_nice: number;
    unindexed_limit_bytes: number;
    node_unindexed_limit_bytes: number;
    backpressure_retry_after_secs: number;
    idle_close_secs: number;
  };
  compaction: {
    enabled: boolean;
    interval_secs: number;
    max_segments: number;
    max_total_docs: number;
    gc_grace_secs: number;
    history_retention_secs: number;
  };
  query: { default_top_k: number; max_top_k: number; threads: number };
  logging: { level: LogLevel; format: LogFormat };
  distributed: {
    enabled: boolean;
    node_id: string;
    role: NodeRole;
    forward_timeout_ms: number;
    write_forward_timeout_ms: number;
    eventual_max_staleness_secs: number;
    indexer_cluster: { nodes: string[]; address_template: string; addresses: string[] };
  };
  auth: {
    api_keys: string[];
    read_only_keys: string[];
    cluster_token: string;
    allow_anonymous: boolean;
    metrics_public: boolean;
  };
}

/** A leaf value of the configuration. */
export type ConfigValue = string | number | boolean | null | string[];

/** Dotted paths of every leaf: "server.port", "storage.s3.bucket", … */
export type ConfigKey = LeafPaths<SiltConfig>;

type LeafPaths<T, Prefix extends string = ''> = {
  [K in keyof T & string]: T[K] extends ConfigValue
    ? `${Prefix}${K}`
    : LeafPaths<T[K], `${Prefix}${K}.`>;
}[keyof T & string];

/** The type of the leaf at a dotted path. */
export type ValueAt<T, P extends string> = P extends `${infer Head}.${infer Rest}`
  ? Head extends keyof T
    ? ValueAt<T[Head], Rest>
    : never
  : P extends keyof T
    ? T[P]
    : never;
