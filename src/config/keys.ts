// The key table: the one place a configuration key is defined — its type, default, environment
// variable and meaning. Parsing, environment overrides, config/default.toml and
// docs/configuration.md all follow it (test/config/config.test.ts checks the last two).

import type { ConfigKey, ConfigValue, SiltConfig, ValueAt } from './types.ts';
import {
  bool, int, list, nullableString, oneOf, positiveInt, string,
  type BoolType, type EnumType, type IntType, type ListType, type NullableStringType,
  type StringType, type ValueType,
} from './value-types.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** The value type a key must declare, given the TypeScript type of its value in SiltConfig. */
type TypeFor<V> = [V] extends [boolean]
  ? BoolType
  : [V] extends [number]
    ? IntType
    : [V] extends [string[]]
      ? ListType
      : [null] extends [V]
        ? NullableStringType
        : [string] extends [V]
          ? StringType
          : [V] extends [string]
            ? EnumType<V>
            : never;

interface KeyDefinition<V> {
  readonly type: TypeFor<V>;
  readonly default: V;
  /** One line: what the key does and why one would change it. */
  readonly doc: string;
  /** Extra environment variable names, besides the one derived from the key. */
  readonly aliases?: readonly string[];
  /** A credential: its value is never repeated in a message. */
  readonly secret?: boolean;
}

/** One row per leaf of SiltConfig; a missing or extra row, or a default of the wrong type, fails to compile. */
type KeyDefinitions = { readonly [P in ConfigKey]: KeyDefinition<ValueAt<SiltConfig, P>> };

const KEYS: KeyDefinitions = {
  'server.host': {
    type: string, default: '127.0.0.1',
    doc: 'Address the HTTP server binds to; "0.0.0.0" to accept connections from other hosts.',
  },
  'server.port': {
    type: int(0, 65535), default: 3000,
    doc: 'HTTP port; 0 picks a free port (useful in tests).',
  },
  'server.body_limit_bytes': {
    type: positiveInt, default: 256 * MiB,
    doc: 'Largest request body accepted; bulk upserts of many vectors need room.',
  },
  'server.shutdown_timeout_secs': {
    type: positiveInt, default: 30,
    doc: 'On SIGTERM, how long to drain requests and flush before exiting anyway.',
  },
  'server.headers_timeout_ms': {
    type: positiveInt, default: 10_000,
    doc: 'How long a client may take to send the request line and headers; closes connections that open and stay silent.',
  },
  'server.request_timeout_ms': {
    type: positiveInt, default: 300_000,
    doc: 'How long a client may take to send a whole request, body included (a 256 MiB upsert at 1 MB/s takes about 270 s).',
  },
  'server.keep_alive_timeout_ms': {
    type: positiveInt, default: 72_000,
    doc: 'How long an idle keep-alive connection stays open; above the 60 s idle timeout of nginx and AWS load balancers, so they close first.',
  },
  'server.max_connections': {
    type: positiveInt, default: 1000,
    doc: 'Most client connections open at once; further ones are closed on arrival. Keep it below the file-descriptor limit (ulimit -n).',
  },
  'storage.backend': {
    type: oneOf('local', 's3'), default: 'local',
    doc: '"local" keeps objects in a directory (single node); "s3" uses S3 or an S3-compatible store such as MinIO.',
  },
  'storage.local.root_path': {
    type: string, default: './data',
    doc: 'Directory holding every object when backend = "local"; relative to the working directory.',
  },
  'storage.s3.bucket': {
    type: string, default: '',
    doc: 'Bucket holding every object; required when backend = "s3".',
  },
  'storage.s3.region': {
    type: string, default: 'us-east-1',
    doc: 'Region of the bucket (any value works for MinIO).',
  },
  'storage.s3.endpoint': {
    type: nullableString, default: null,
    doc: 'Endpoint URL of an S3-compatible store (e.g. "http://minio:9000"); when set, path-style addressing is used. Unset = AWS.',
  },
  'storage.s3.wal_prefix': {
    type: string, default: '',
    doc: 'Key prefix under which this deployment keeps all its objects; every node of a cluster must use the same one.',
  },
  'storage.s3.request_timeout_ms': {
    type: positiveInt, default: 10_000,
    doc: 'Timeout of one object-store request before it is retried.',
  },
  'storage.s3.max_retries': {
    type: int(0), default: 5,
    doc: 'Retries of a failed object-store request (with backoff); 0 = fail on the first error.',
  },
  'storage.s3.multipart_part_size': {
    type: int(5 * MiB), default: 16 * MiB,
    doc: 'Objects larger than this (large segments) are uploaded in parts of this size, 4 at a time, each part one request within request_timeout_ms; a single PUT may carry at most 5 GB.',
  },
  'cache.memory_size': {
    type: positiveInt, default: 1 * GiB,
    doc: 'Bytes of decoded segments and indexes kept in memory.',
  },
  'cache.disk_size': {
    type: positiveInt, default: 10 * GiB,
    doc: 'Bytes of downloaded objects kept on local disk; survives restarts.',
  },
  'cache.disk_path': {
    type: string, default: './cache',
    doc: 'Directory of the disk cache; must not overlap storage.local.root_path (cached files would look like stored objects).',
  },
  'cache.max_views': {
    type: positiveInt, default: 1000,
    doc: 'Read-only views of namespaces owned by other nodes kept at once; the least recently used is dropped and rebuilt on its next read.',
  },
  'wal.max_batch_bytes': {
    type: positiveInt, default: 64 * MiB,
    doc: 'Largest WAL object one group commit writes; writes beyond it wait for the next commit.',
  },
  'indexing.flush_docs': {
    type: positiveInt, default: 50_000,
    doc: 'Fold the unindexed tail into a segment once it holds this many documents.',
  },
  'indexing.flush_bytes': {
    type: positiveInt, default: 64 * MiB,
    doc: 'Fold the unindexed tail into a segment once it holds this many bytes.',
  },
  'indexing.flush_interval_secs': {
    type: positiveInt, default: 60,
    doc: 'Fold a non-empty tail into a segment at least this often, however small it is.',
  },
  'indexing.idle_flush_secs': {
    type: int(0), default: 5,
    doc: 'Fold a tail of at least a tenth of flush_docs once no write has come for this long, so indexing catches up as soon as ingest pauses instead of after flush_interval_secs; 0 = off.',
  },
  'indexing.hnsw_m': {
    // hnswlib's level multiplier is 1/ln(M): M = 1 divides by zero.
    type: int(2), default: 16,
    doc: 'HNSW links per node: higher = better recall, more memory and slower builds.',
  },
  'indexing.hnsw_ef_construction': {
    type: positiveInt, default: 200,
    doc: 'HNSW build-time candidate list size: higher = better graph, slower builds.',
  },
  'indexing.hnsw_ef_search': {
    type: positiveInt, default: 128,
    doc: 'HNSW query-time candidate list size (raised to top_k when smaller); 128 gives recall@10 ~0.96 on GloVe-100.',
  },
  'indexing.ivf_min_rows': {
    type: positiveInt, default: 10_000,
    doc: 'Segments with at least this many vectors get the clustered (IVF) index, read by cluster; smaller ones HNSW (256 and up) or an exact scan.',
  },
  'indexing.build_threads': {
    type: int(0), default: 0,
    doc: 'Threads that build and merge segments, shared by every namespace; 0 = one less than the cores (at least 1), so HTTP keeps a core, and every core for a tail that fell behind ingest.',
  },
  'indexing.build_nice': {
    type: int(0, 19), default: 0,
    doc: 'Niceness (0-19) of the threads that build and merge segments (Linux: each build thread renices itself only). Above 0 queries win the cores from builds, but the tail then grows faster than it is folded: at 10, query p50 during ingest fell 25% while the tail doubled and indexing finished 25% later (bench ingest-latency), so 0 by default.',
  },
  'indexing.unindexed_limit_bytes': {
    type: positiveInt, default: 1 * GiB,
    doc: 'Writes to a namespace whose unindexed WAL tail holds this many bytes get 429 until a flush catches up.',
  },
  'indexing.node_unindexed_limit_bytes': {
    type: positiveInt, default: 2 * GiB,
    doc: 'Writes to any namespace get 429 while the unindexed tails of all namespaces open on the node hold this many bytes.',
  },
  'indexing.backpressure_retry_after_secs': {
    type: positiveInt, default: 5,
    doc: 'The Retry-After (seconds) sent with a 429 for unindexed data over its limit.',
  },
  'indexing.idle_close_secs': {
    type: positiveInt, default: 300,
    doc: 'Close an owned namespace after this long without a read or write (its tail flushed first, or left in the WAL); the next request reopens it.',
  },
  'compaction.enabled': {
    type: bool, default: true,
    doc: 'Merge small segments in the background (indexers only; query nodes never compact).',
  },
  'compaction.interval_secs': {
    type: positiveInt, default: 3600,
    doc: 'How often a namespace whose segments did not change is re-checked for merges (deletions); every flush or merge is followed by a check at once.',
  },
  'compaction.max_segments': {
    type: positiveInt, default: 16,
    doc: 'Most segments a namespace keeps, merging the smallest beyond it; lower = faster queries, more merging.',
  },
  'compaction.max_total_docs': {
    type: positiveInt, default: 1_000_000,
    doc: 'Largest segment a merge produces, in documents.',
  },
  'compaction.gc_grace_secs': {
    type: int(0), default: 300,
    doc: 'How long an object no manifest refers to is kept for queries still reading it before it is deleted.',
  },
  'compaction.history_retention_secs': {
    type: int(0), default: 604_800,
    doc: 'How far back manifest versions (and the segments they name) are kept, so a namespace can be restored to any of them; 0 keeps only the current one.',
  },
  'query.default_top_k': {
    type: positiveInt, default: 10,
    doc: 'Results returned when a query does not give top_k.',
  },
  'query.max_top_k': {
    type: positiveInt, default: 1000,
    doc: 'Largest top_k a query may ask for; larger requests are rejected with 400.',
  },
  'query.threads': {
    type: int(0), default: 0,
    doc: 'Worker threads that scan IVF clusters for queries (one query\'s probes split across them) and rank centroids while the main thread is busy; 0 = one per core, 1 = none (the main thread does both).',
  },
  'logging.level': {
    type: oneOf('trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'), default: 'info',
    doc: 'Least severe log level written.',
  },
  'logging.format': {
    type: oneOf('json', 'text'), default: 'json',
    doc: '"json" (one object per line, for log aggregation) or "text" (for a terminal).',
  },
  'distributed.enabled': {
    type: bool, default: false,
    doc: 'Run as one node of a cluster (needs backend = "s3"); false = single node doing everything.',
  },
  'distributed.node_id': {
    type: string, default: '', aliases: ['SILT_NODE_ID'],
    doc: "This node's id; an indexer's id must be listed in indexer_cluster.nodes. Required when distributed.",
  },
  'distributed.role': {
    type: oneOf('indexer', 'query'), default: 'indexer', aliases: ['SILT_NODE_ROLE'],
    doc: '"indexer" owns namespaces, takes writes and compacts; "query" routes and serves reads.',
  },
  'distributed.forward_timeout_ms': {
    type: positiveInt, default: 2000,
    doc: 'Timeout of a request forwarded to the owning indexer; a query node then serves the query itself.',
  },
  'distributed.write_forward_timeout_ms': {
    type: positiveInt, default: 30000,
    doc: 'Timeout of a write forwarded to the owning indexer (writes wait for a durable WAL put, so this is longer).',
  },
  'distributed.eventual_max_staleness_secs': {
    type: int(0), default: 10,
    doc: 'How old cached state a consistency = "eventual" query may be served from.',
  },
  'distributed.indexer_cluster.nodes': {
    type: list, default: [],
    doc: 'Ordered ids of all indexers; namespace ownership is seahash(namespace) % len(nodes), so every node needs the same list in the same order.',
  },
  'distributed.indexer_cluster.address_template': {
    type: string, default: 'http://{node_id}:{port}',
    doc: 'Base URL of an indexer, from its id and server.port; in Kubernetes e.g. "http://{node_id}.silt-indexer:{port}".',
  },
  'distributed.indexer_cluster.addresses': {
    type: list, default: [],
    doc: 'Base URLs of the indexers, in the order of nodes; when set it replaces address_template (e.g. indexers on one host with different ports).',
  },
  'auth.api_keys': {
    type: list, default: [], secret: true,
    doc: 'Read-write API keys, sent as "Authorization: Bearer <key>"; none = no authentication (loopback only unless allow_anonymous). List two to rotate.',
  },
  'auth.read_only_keys': {
    type: list, default: [], secret: true,
    doc: 'API keys that may query, get documents and read stats; writes, deletes, flush and compaction get 403.',
  },
  'auth.cluster_token': {
    type: string, default: '', secret: true,
    doc: 'Shared secret a node sends when it relays a request to the owning indexer; the same on every node, required in a cluster with keys.',
  },
  'auth.allow_anonymous': {
    type: bool, default: false,
    doc: 'Serve without API keys on a non-loopback server.host (e.g. behind a proxy that authenticates); otherwise such a node refuses to start.',
  },
  'auth.metrics_public': {
    type: bool, default: true,
    doc: 'Serve /metrics without a key (for Prometheus); false = /metrics needs an API key like /stats.',
  },
};

export interface KeySpec {
  readonly key: ConfigKey;
  /** Table path, e.g. "storage.s3" for "storage.s3.bucket". */
  readonly section: string;
  /** Name inside its table, e.g. "bucket". */
  readonly name: string;
  readonly type: ValueType;
  readonly default: ConfigValue;
  readonly env: string;
  readonly aliases: readonly string[];
  readonly doc: string;
  readonly secret: boolean;
}

export const ENV_PREFIX = 'SILT_';
/** Names the config file; not a key, so never an override. */
export const CONFIG_PATH_ENV = 'SILT_CONFIG';

/** "storage.s3.wal_prefix" → "SILT_STORAGE_S3_WAL_PREFIX". */
export function envNameFor(key: string): string {
  return ENV_PREFIX + key.toUpperCase().replaceAll('.', '_');
}

export const KEY_TABLE: readonly KeySpec[] = Object.entries(KEYS).map(([key, def]) => {
  const dot = key.lastIndexOf('.');
  const definition = def as KeyDefinition<ConfigValue>;
  return Object.freeze({
    key: key as ConfigKey,
    section: key.slice(0, dot),
    name: key.slice(dot + 1),
    type: definition.type as ValueType,
    default: definition.default,
    env: envNameFor(key),
    aliases: definition.aliases ?? [],
    doc: definition.doc,
    secret: definition.secret ?? false,
  });
});

export const KEY_BY_NAME: ReadonlyMap<string, KeySpec> = new Map(KEY_TABLE.map((spec) => [spec.key, spec]));

/** Every table path that may appear in a file: "server", "storage", "storage.s3", … */
export const SECTIONS: ReadonlySet<string> = new Set(
  KEY_TABLE.flatMap((spec) => {
    const parts = spec.section.split('.');
    return parts.map((_, i) => parts.slice(0, i + 1).join('.'));
  }),
);

/**
 * Environment variable → key. Built from the table rather than by splitting names on "_", which
 * would be ambiguous ("SILT_STORAGE_S3_WAL_PREFIX" could be storage.s3.wal_prefix or
 * storage.s3_wal.prefix). A collision is a programming error, caught when the module loads.
 */
export const KEY_BY_ENV: ReadonlyMap<string, KeySpec> = (() => {
  const map = new Map<string, KeySpec>();
  for (const spec of KEY_TABLE) {
    for (const name of [spec.env, ...spec.aliases]) {
      const taken = map.get(name);
      if (taken !== undefined || name === CONFIG_PATH_ENV) {
        throw new Error(`environment variable ${name} would name both ${taken?.key ?? CONFIG_PATH_ENV} and ${spec.key}`);
      }
      map.set(name, spec);
    }
  }
  return map;
})();
