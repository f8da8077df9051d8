import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'smol-toml';
import { KEY_BY_ENV, KEY_TABLE, type KeySpec } from '../../src/config/keys.ts';
import { loadConfig, parseConfig, type SiltConfig } from '../../src/config/index.ts';
import { toTomlText } from '../../src/config/value-types.ts';
import { CLUSTER_TOML, expectConfigError, FIXTURES, REPO_ROOT } from './helpers.ts';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** The documented defaults, spelled out independently of the key table. */
const DEFAULTS: SiltConfig = {
  server: {
    host: '127.0.0.1', port: 3000, body_limit_bytes: 256 * MiB, shutdown_timeout_secs: 30,
    headers_timeout_ms: 10_000, request_timeout_ms: 300_000, keep_alive_timeout_ms: 72_000, max_connections: 1000,
  },
  storage: {
    backend: 'local',
    local: { root_path: './data' },
    s3: { bucket: '', region: 'us-east-1', endpoint: null, wal_prefix: '', request_timeout_ms: 10000, max_retries: 5, multipart_part_size: 16 * 1024 * 1024 },
  },
  cache: { memory_size: 1 * GiB, disk_size: 10 * GiB, disk_path: './cache', max_views: 1000 },
  wal: { max_batch_bytes: 64 * MiB },
  indexing: { flush_docs: 50000, flush_bytes: 64 * MiB, flush_interval_secs: 60, idle_flush_secs: 5, hnsw_m: 16, hnsw_ef_construction: 200, hnsw_ef_search: 128, ivf_min_rows: 10000,
    build_threads: 0, build_nice: 0, unindexed_limit_bytes: 1 * GiB, node_unindexed_limit_bytes: 2 * GiB, backpressure_retry_after_secs: 5, idle_close_secs: 300 },
  compaction: { enabled: true, interval_secs: 3600, max_segments: 16, max_total_docs: 1000000, gc_grace_secs: 300, history_retention_secs: 604800 },
  query: { default_top_k: 10, max_top_k: 1000, threads: 0 },
  logging: { level: 'info', format: 'json' },
  distributed: {
    enabled: false, node_id: '', role: 'indexer', forward_timeout_ms: 2000, write_forward_timeout_ms: 30000, eventual_max_staleness_secs: 10,
    indexer_cluster: { nodes: [], address_template: 'http://{node_id}:{port}', addresses: [] },
  },
  auth: { api_keys: [], read_only_keys: [], cluster_token: '', allow_anonymous: false, metrics_public: true },
};

const load = (file: string, env: Record<string, string> = {}): SiltConfig =>
  loadConfig({ argv: ['--config', file], env, cwd: REPO_ROOT });

function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), 'silt-config-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('defaults', () => {
  it('no file and no environment gives the documented single-node defaults', () => {
    assert.deepEqual(loadConfig({ argv: [], env: {}, cwd: REPO_ROOT }), DEFAULTS);
    assert.deepEqual(parseConfig(''), DEFAULTS);
  });

  it('config/default.toml loads to exactly the defaults', () => {
    assert.deepEqual(load('config/default.toml'), loadConfig({ argv: [], env: {} }));
  });

  it('config/default.toml sets every key (endpoint, which has no TOML null, is commented out)', () => {
    const text = readFileSync(path.join(REPO_ROOT, 'config/default.toml'), 'utf8');
    const document = parse(text);
    for (const spec of KEY_TABLE) {
      let table: unknown = document;
      for (const part of spec.section.split('.')) table = (table as Record<string, unknown>)[part];
      assert.ok(table !== undefined, `config/default.toml lacks [${spec.section}]`);
      const present = Object.hasOwn(table as object, spec.name);
      if (spec.default === null) {
        assert.match(text, new RegExp(`^\\[${spec.section.replaceAll('.', '\\.')}\\][^[]*^# ${spec.name} = `, 'm'), spec.key);
      } else {
        assert.ok(present, `config/default.toml lacks ${spec.key}`);
      }
    }
  });

  it('docs/configuration.md has a row for every key with its variables and default', () => {
    const docs = readFileSync(path.join(REPO_ROOT, 'docs/configuration.md'), 'utf8');
    const keysSection = docs.slice(docs.indexOf('\n## Keys\n'));
    const rowOf = (spec: KeySpec): string | undefined => keysSection.split('\n').find((line) => line.startsWith(`| \`${spec.key}\` |`));
    for (const spec of KEY_TABLE) {
      const row = rowOf(spec);
      assert.ok(row !== undefined, `docs/configuration.md has no row for ${spec.key}`);
      for (const name of [spec.env, ...spec.aliases]) assert.ok(row.includes(`\`${name}\``), `${spec.key} row lacks ${name}`);
      const shown = spec.default === null ? 'unset' : `\`${toTomlText(spec.default)}\``;
      assert.ok(row.includes(shown), `${spec.key} row lacks default ${shown}`);
    }
  });
});

describe('the guide\'s configurations', () => {
  it('config-indexer-1.toml loads unchanged', () => {
    const config = load(path.join(FIXTURES, 'config-indexer-1.toml'));
    assert.deepEqual(config.server, { ...DEFAULTS.server, host: '0.0.0.0', port: 3000 });
    assert.equal(config.storage.backend, 's3');
    assert.deepEqual(config.storage.s3, {
      ...DEFAULTS.storage.s3, bucket: 'elacsym-data', region: 'us-east-1', endpoint: 'http://minio:9000', wal_prefix: 'production',
    });
    assert.deepEqual(config.cache, { memory_size: 8 * GiB, disk_size: 100 * GiB, disk_path: '/var/cache/elacsym', max_views: 1000 });
    assert.deepEqual(config.compaction, { ...DEFAULTS.compaction, enabled: true, interval_secs: 3600, max_segments: 100, max_total_docs: 1000000 });
    assert.deepEqual(config.logging, { level: 'info', format: 'json' });
    assert.deepEqual(config.distributed, {
      ...DEFAULTS.distributed, enabled: true, node_id: 'indexer-1', role: 'indexer',
      indexer_cluster: { nodes: ['indexer-1', 'indexer-2', 'indexer-3'], address_template: 'http://{node_id}:{port}', addresses: [] },
    });
    assert.deepEqual(config.indexing, DEFAULTS.indexing);
  });

  it('config-query-1.toml loads unchanged (a query node is not in the indexer list)', () => {
    const config = load(path.join(FIXTURES, 'config-query-1.toml'));
    assert.equal(config.server.host, '0.0.0.0');
    assert.equal(config.storage.s3.endpoint, 'http://minio:9000');
    assert.deepEqual(config.cache, { memory_size: 4 * GiB, disk_size: 50 * GiB, disk_path: './cache', max_views: 1000 });
    assert.deepEqual(config.compaction, { ...DEFAULTS.compaction, enabled: false });
    assert.equal(config.distributed.role, 'query');
    assert.equal(config.distributed.node_id, 'query-1');
    assert.deepEqual(config.distributed.indexer_cluster.nodes, ['indexer-1', 'indexer-2', 'indexer-3']);
  });

  it('one indexer file serves every indexer, identity from SILT_NODE_ID / SILT_NODE_ROLE (docker-compose)', () => {
    const config = load(path.join(FIXTURES, 'config-indexer-1.toml'), { SILT_NODE_ID: 'indexer-3', SILT_NODE_ROLE: 'indexer' });
    assert.equal(config.distributed.node_id, 'indexer-3');
    assert.equal(config.distributed.role, 'indexer');
  });

  it('the guide\'s indexer-2 snippet is not a whole file: alone it is refused, saying why', () => {
    expectConfigError(
      () => load(path.join(FIXTURES, 'config-indexer-2.toml')),
      'distributed mode needs shared object storage; set storage.backend = "s3"',
      'config key distributed.indexer_cluster.nodes: must list at least one indexer',
    );
  });

  it('the role examples in config/ load', () => {
    const indexer = load('config/indexer.example.toml');
    assert.equal(indexer.distributed.role, 'indexer');
    assert.equal(indexer.cache.disk_path, '/var/cache/silt');
    const query = load('config/query.example.toml');
    assert.equal(query.distributed.role, 'query');
    assert.equal(query.compaction.enabled, false);
    assert.deepEqual(query.distributed.indexer_cluster.nodes, indexer.distributed.indexer_cluster.nodes);
    assert.equal(query.storage.s3.wal_prefix, indexer.storage.s3.wal_prefix);
  });
});

describe('finding the file', () => {
  it('--config PATH, --config=PATH and SILT_CONFIG, relative to cwd; --config wins', () => {
    withTempDir((dir) => {
      writeFileSync(path.join(dir, 'a.toml'), '[server]\nport = 4001\n');
      writeFileSync(path.join(dir, 'b.toml'), '[server]\nport = 4002\n');
      assert.equal(loadConfig({ argv: ['serve', '--config', 'a.toml'], env: {}, cwd: dir }).server.port, 4001);
      assert.equal(loadConfig({ argv: ['--config=b.toml'], env: {}, cwd: dir }).server.port, 4002);
      assert.equal(loadConfig({ argv: [], env: { SILT_CONFIG: 'b.toml' }, cwd: dir }).server.port, 4002);
      assert.equal(loadConfig({ argv: ['--config', 'a.toml'], env: { SILT_CONFIG: 'b.toml' }, cwd: dir }).server.port, 4001);
    });
  });
});

describe('environment overrides', () => {
  it('env wins over the file, for top-level and nested keys, with typed parsing', () => {
    const config = load(path.join(FIXTURES, 'config-indexer-1.toml'), {
      SILT_SERVER_PORT: '4000',
      SILT_STORAGE_S3_BUCKET: 'my-bucket',
      SILT_STORAGE_S3_REGION: 'us-west-2',
      SILT_STORAGE_S3_WAL_PREFIX: 'staging',
      SILT_STORAGE_S3_ENDPOINT: '', // "" = unset: back to AWS
      SILT_CACHE_MEMORY_SIZE: '17179869184',
      SILT_COMPACTION_ENABLED: '0',
      SILT_LOGGING_FORMAT: 'text',
      SILT_DISTRIBUTED_INDEXER_CLUSTER_NODES: 'indexer-1, indexer-2',
      SILT_DISTRIBUTED_INDEXER_CLUSTER_ADDRESS_TEMPLATE: 'http://{node_id}.silt-indexer:{port}',
      HOME: '/root', // not ours: ignored
    });
    assert.equal(config.server.port, 4000);
    assert.equal(config.server.host, '0.0.0.0'); // from the file
    assert.deepEqual(config.storage.s3, {
      ...DEFAULTS.storage.s3, bucket: 'my-bucket', region: 'us-west-2', wal_prefix: 'staging', endpoint: null,
    });
    assert.equal(config.cache.memory_size, 16 * GiB);
    assert.equal(config.compaction.enabled, false);
    assert.equal(config.logging.format, 'text');
    assert.deepEqual(config.distributed.indexer_cluster.nodes, ['indexer-1', 'indexer-2']);
    assert.equal(config.distributed.indexer_cluster.address_template, 'http://{node_id}.silt-indexer:{port}');
  });

  it('short forms SILT_NODE_ID and SILT_NODE_ROLE set distributed.node_id and distributed.role', () => {
    const config = parseConfig(CLUSTER_TOML, { SILT_NODE_ID: 'indexer-2', SILT_NODE_ROLE: 'query' });
    assert.equal(config.distributed.node_id, 'indexer-2');
    assert.equal(config.distributed.role, 'query');
  });

  it('booleans accept true/false/1/0; an empty list variable empties the list', () => {
    assert.equal(parseConfig('', { SILT_COMPACTION_ENABLED: 'false' }).compaction.enabled, false);
    assert.equal(parseConfig('[compaction]\nenabled = false', { SILT_COMPACTION_ENABLED: '1' }).compaction.enabled, true);
    assert.deepEqual(parseConfig('[distributed.indexer_cluster]\nnodes = ["a"]', { SILT_DISTRIBUTED_INDEXER_CLUSTER_NODES: '' })
      .distributed.indexer_cluster.nodes, []);
  });

  it('every key has its SILT_ variable, named from the key, and each one overrides it', () => {
    const samples: Record<string, [string, unknown]> = {
      'storage.s3.endpoint': ['https://s3.example.com', 'https://s3.example.com'],
      'distributed.node_id': ['indexer-2', 'indexer-2'],
      'distributed.indexer_cluster.nodes': ['indexer-1,indexer-3', ['indexer-1', 'indexer-3']],
      'distributed.indexer_cluster.address_template': ['https://{node_id}.x:{port}', 'https://{node_id}.x:{port}'],
      'distributed.indexer_cluster.addresses': ['http://127.0.0.1:4001,http://127.0.0.1:4002', ['http://127.0.0.1:4001', 'http://127.0.0.1:4002']],
      'storage.local.root_path': ['/srv/silt', '/srv/silt'],
      'auth.api_keys': ['key-one-0123456789,key-two-0123456789', ['key-one-0123456789', 'key-two-0123456789']],
      'auth.read_only_keys': ['read-only-0123456789', ['read-only-0123456789']],
      'auth.cluster_token': ['cluster-token-0123456789', 'cluster-token-0123456789'],
    };
    for (const spec of KEY_TABLE) {
      assert.equal(spec.env, `SILT_${spec.key.toUpperCase().replaceAll('.', '_')}`);
      assert.equal(KEY_BY_ENV.get(spec.env), spec);
      const type = spec.type;
      const sample: [string, unknown] | undefined =
        samples[spec.key] ??
        (type.kind === 'int' ? [String(spec.default === 3000 ? 3001 : Number(spec.default) + 1), Number(spec.default) + 1] :
          type.kind === 'bool' ? [String(!spec.default), !spec.default] :
            type.kind === 'enum' ? [type.values.find((v) => v !== spec.default) ?? '', type.values.find((v) => v !== spec.default)] :
              type.kind === 'string' ? ['override', 'override'] : undefined);
      assert.ok(sample !== undefined, `no sample for ${spec.key}`);
      // A cluster with keys needs a cluster token, so keys are tried on a single node.
      const config = parseConfig(spec.section === 'auth' ? '' : CLUSTER_TOML, { [spec.env]: sample[0] });
      let value: unknown = config;
      for (const part of spec.key.split('.')) value = (value as Record<string, unknown>)[part];
      assert.deepEqual(value, sample[1], spec.env);
    }
  });
});

describe('the loaded configuration', () => {
  it('is deeply frozen', () => {
    const config = parseConfig(CLUSTER_TOML);
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.storage.s3));
    assert.ok(Object.isFrozen(config.distributed.indexer_cluster.nodes));
    assert.throws(() => { (config.server as { port: number }).port = 1; }, TypeError);
    assert.throws(() => { config.distributed.indexer_cluster.nodes.push('x'); }, TypeError);
  });

  it('keeps relative paths as given', () => {
    const config = parseConfig('[storage.local]\nroot_path = "var/objects"\n[cache]\ndisk_path = "../cache"');
    assert.equal(config.storage.local.root_path, 'var/objects');
    assert.equal(config.cache.disk_path, '../cache');
  });

  it('allows port 0 (ephemeral)', () => {
    assert.equal(parseConfig('[server]\nport = 0').server.port, 0);
  });
});
