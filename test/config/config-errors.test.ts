// Every way startup refuses a configuration, and that each message names the key.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { checkExposure, ConfigError, isLoopback, loadConfig, parseConfig } from '../../src/config/index.ts';
import { CLUSTER_TOML, expectConfigError } from './helpers.ts';

describe('file problems', () => {
  it('a missing file names the path', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'silt-config-'));
    try {
      expectConfigError(
        () => loadConfig({ argv: ['--config', 'nope.toml'], env: {}, cwd: dir }),
        `cannot read config file ${path.join(dir, 'nope.toml')} (named by --config)`, 'ENOENT',
      );
      expectConfigError(
        () => loadConfig({ argv: [], env: { SILT_CONFIG: 'gone.toml' }, cwd: dir }),
        path.join(dir, 'gone.toml'), '(named by SILT_CONFIG)',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a TOML syntax error names the path and line', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'silt-config-'));
    try {
      const file = path.join(dir, 'bad.toml');
      writeFileSync(file, '[server]\nport = 3000\nhost = = "x"\n');
      expectConfigError(() => loadConfig({ argv: [`--config=${file}`], env: {} }), `cannot parse config file ${file}`, 'line 3');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--config without a path, or given twice, is refused', () => {
    expectConfigError(() => loadConfig({ argv: ['--config'], env: {} }), '--config needs a path');
    expectConfigError(() => loadConfig({ argv: ['--config', 'a', '--config=b'], env: {} }), '--config given 2 times');
  });

  it('unknown keys at any level name the full key path', () => {
    expectConfigError(() => parseConfig('[servr]\nport = 1', {}, 'x.toml'), 'unknown config key servr in x.toml', 'did you mean server?');
    expectConfigError(() => parseConfig('[server]\nhots = "a"'), 'unknown config key server.hots', 'did you mean server.host?');
    expectConfigError(() => parseConfig('[storage.s3]\nbukcet = "b"'), 'unknown config key storage.s3.bukcet', 'storage.s3.bucket');
    expectConfigError(() => parseConfig('[distributed.indexer_cluster]\nnode = ["a"]'), 'unknown config key distributed.indexer_cluster.node');
    expectConfigError(() => parseConfig('log_level = "info"'), 'unknown config key log_level');
  });

  it('wrong types name the key, the expected type and the value', () => {
    expectConfigError(() => parseConfig('[server]\nport = "3000"', {}, 'c.toml'),
      'config key server.port: expected an integer 0-65535, got "3000" (from c.toml)');
    expectConfigError(() => parseConfig('[server]\nport = 3000.0'), 'config key server.port', 'got 3000.0 (a float)');
    expectConfigError(() => parseConfig('[server]\nport = 70000'), 'config key server.port: expected an integer 0-65535, got 70000');
    expectConfigError(() => parseConfig('[compaction]\nenabled = "yes"'), 'config key compaction.enabled: expected true or false, got "yes"');
    expectConfigError(() => parseConfig('[distributed.indexer_cluster]\nnodes = "a,b"'),
      'config key distributed.indexer_cluster.nodes: expected a list of non-empty strings, got "a,b"');
    expectConfigError(() => parseConfig('[distributed.indexer_cluster]\nnodes = ["a", 2]'), 'distributed.indexer_cluster.nodes', 'got ["a", 2]');
    expectConfigError(() => parseConfig('storage = "s3"'), 'config key storage: expected a table [storage], got "s3"');
    expectConfigError(() => parseConfig('[server.port]\nx = 1'), 'config key server.port: expected an integer 0-65535, got a table');
  });

  it('enum values list the allowed ones', () => {
    expectConfigError(() => parseConfig('[storage]\nbackend = "S3"'), 'config key storage.backend: expected one of "local", "s3", got "S3"');
    expectConfigError(() => parseConfig('[logging]\nlevel = "verbose"'),
      'config key logging.level: expected one of "trace", "debug", "info", "warn", "error", "fatal", "silent", got "verbose"');
  });

  it('sizes and counts must be positive integers', () => {
    expectConfigError(() => parseConfig('[cache]\nmemory_size = 0'), 'config key cache.memory_size: expected a positive integer, got 0');
    expectConfigError(() => parseConfig('[indexing]\nflush_docs = -5'), 'config key indexing.flush_docs: expected a positive integer, got -5');
    expectConfigError(() => parseConfig('[indexing]\nhnsw_m = 1'), 'config key indexing.hnsw_m: expected an integer >= 2, got 1');
  });

  it('reports every problem at once', () => {
    const message = expectConfigError(() => parseConfig('[server]\nport = "x"\nhots = 1\n[cache]\ndisk_size = 0'), '3 configuration problems');
    assert.match(message, /- config key server\.port/);
    assert.match(message, /- unknown config key server\.hots/);
    assert.match(message, /- config key cache\.disk_size/);
  });
});

describe('environment problems', () => {
  it('a bad value names key, expectation, value and variable', () => {
    expectConfigError(() => parseConfig('', { SILT_SERVER_PORT: 'abc' }),
      'config key server.port: expected an integer 0-65535, got "abc" (from SILT_SERVER_PORT)');
    expectConfigError(() => parseConfig('', { SILT_COMPACTION_ENABLED: 'yes' }),
      'config key compaction.enabled: expected true, false, 1 or 0, got "yes" (from SILT_COMPACTION_ENABLED)');
    expectConfigError(() => parseConfig('', { SILT_NODE_ROLE: 'writer' }),
      'config key distributed.role: expected one of "indexer", "query", got "writer" (from SILT_NODE_ROLE)');
    expectConfigError(() => parseConfig('', { SILT_CACHE_DISK_SIZE: '10GiB' }), 'config key cache.disk_size', '(from SILT_CACHE_DISK_SIZE)');
    expectConfigError(() => parseConfig('', { SILT_DISTRIBUTED_INDEXER_CLUSTER_NODES: 'a,,b' }), 'config key distributed.indexer_cluster.nodes');
  });

  it('an unknown SILT_ variable is an error naming it (SILT_CONFIG and other prefixes are fine)', () => {
    expectConfigError(() => parseConfig('', { SILT_SERVR_PORT: '1' }),
      'unknown environment variable SILT_SERVR_PORT', 'did you mean SILT_SERVER_PORT?');
    assert.doesNotThrow(() => parseConfig('', { SILT_CONFIG: '', ELACSYM_SERVER_PORT: 'x', PATH: '/bin' }));
  });

  it('a short and a long form that disagree are refused; agreeing ones are fine', () => {
    expectConfigError(() => parseConfig(CLUSTER_TOML, { SILT_NODE_ID: 'indexer-1', SILT_DISTRIBUTED_NODE_ID: 'indexer-2' }),
      'config key distributed.node_id', 'SILT_NODE_ID', 'SILT_DISTRIBUTED_NODE_ID', 'disagree');
    assert.equal(parseConfig(CLUSTER_TOML, { SILT_NODE_ID: 'indexer-2', SILT_DISTRIBUTED_NODE_ID: 'indexer-2' }).distributed.node_id, 'indexer-2');
  });
});

describe('inconsistent configuration', () => {
  it('role mismatch uses the guide\'s message: configured = file, processing = environment', () => {
    const queryFile = `${CLUSTER_TOML.replace('enabled = true', 'enabled = true\nrole = "query"')}`;
    const message = expectConfigError(() => parseConfig(queryFile, { SILT_NODE_ROLE: 'indexer' }, 'q.toml'));
    assert.ok(message.startsWith('Role mismatch: node configured as Query but processing as Indexer'), message);
    assert.match(message, /distributed\.role = "query" in q\.toml, SILT_NODE_ROLE = "indexer"/);

    const indexerFile = CLUSTER_TOML.replace('enabled = true', 'enabled = true\nrole = "indexer"');
    const other = expectConfigError(() => parseConfig(indexerFile, { SILT_DISTRIBUTED_ROLE: 'query' }));
    assert.ok(other.startsWith('Role mismatch: node configured as Indexer but processing as Query'), other);

    assert.equal(parseConfig(queryFile, { SILT_NODE_ROLE: 'query' }).distributed.role, 'query');
    assert.equal(parseConfig(CLUSTER_TOML, { SILT_NODE_ROLE: 'query' }).distributed.role, 'query'); // file sets no role
  });

  it('an indexer whose node_id is not in the list is refused with the guide\'s message', () => {
    expectConfigError(() => parseConfig(CLUSTER_TOML, { SILT_NODE_ID: 'indexer-4' }),
      'config key distributed.node_id: node_id not found in indexer_cluster.nodes', '"indexer-4"', '["indexer-1", "indexer-2"]',
      '(from SILT_NODE_ID)');
    assert.equal(parseConfig(CLUSTER_TOML, { SILT_NODE_ID: 'query-1', SILT_NODE_ROLE: 'query' }).distributed.node_id, 'query-1');
  });

  it('storage.s3.bucket is required with the s3 backend', () => {
    expectConfigError(() => parseConfig('[storage]\nbackend = "s3"'), 'config key storage.s3.bucket: required when storage.backend = "s3"');
    expectConfigError(() => parseConfig('', { SILT_STORAGE_BACKEND: 's3' }), 'config key storage.s3.bucket');
  });

  it('distributed mode needs node_id, a node list, S3, and no duplicates', () => {
    expectConfigError(() => parseConfig(CLUSTER_TOML.replace('node_id = "indexer-1"', '')),
      'config key distributed.node_id: required when distributed.enabled = true');
    expectConfigError(() => parseConfig(CLUSTER_TOML, { SILT_DISTRIBUTED_INDEXER_CLUSTER_NODES: '' }),
      'config key distributed.indexer_cluster.nodes: must list at least one indexer');
    expectConfigError(() => parseConfig(CLUSTER_TOML, { SILT_STORAGE_BACKEND: 'local' }),
      'config key storage.backend: distributed mode needs shared object storage; set storage.backend = "s3"');
    expectConfigError(() => parseConfig(CLUSTER_TOML, { SILT_DISTRIBUTED_INDEXER_CLUSTER_NODES: 'indexer-1,indexer-2,indexer-1' }),
      'config key distributed.indexer_cluster.nodes: duplicate node id "indexer-1"');
    expectConfigError(() => parseConfig(CLUSTER_TOML, { SILT_DISTRIBUTED_INDEXER_CLUSTER_NODES: 'indexer-1,index er' }),
      'config key distributed.indexer_cluster.nodes: node id "index er"');
  });

  it('other cross-key checks name their keys', () => {
    expectConfigError(() => parseConfig('[storage.s3]\nendpoint = "minio:9000"'), 'config key storage.s3.endpoint', 'http://');
    expectConfigError(() => parseConfig('[storage.s3]\nwal_prefix = "/prod"'), 'config key storage.s3.wal_prefix');
    expectConfigError(() => parseConfig('[query]\ndefault_top_k = 50\nmax_top_k = 20'), 'config key query.default_top_k', 'query.max_top_k 20');
    expectConfigError(() => parseConfig('[server]\nheaders_timeout_ms = 5000\nrequest_timeout_ms = 1000'),
      'config key server.headers_timeout_ms', 'server.request_timeout_ms 1000');
    expectConfigError(() => parseConfig('[cache]\ndisk_path = "./data/cache"'), 'config key cache.disk_path', 'overlaps storage.local.root_path "./data"');
    expectConfigError(() => parseConfig('', { SILT_STORAGE_LOCAL_ROOT_PATH: './cache/objects' }), 'config key cache.disk_path');
    assert.doesNotThrow(() => parseConfig('[storage]\nbackend = "s3"\n[storage.s3]\nbucket = "b"\n[cache]\ndisk_path = "./data/cache"'));
    expectConfigError(() => parseConfig('[distributed.indexer_cluster]\naddress_template = "http://indexer:{port}"'),
      'config key distributed.indexer_cluster.address_template', 'must contain {node_id}');
    expectConfigError(() => parseConfig('[distributed.indexer_cluster]\naddress_template = "http://{node}:{port}"'),
      'config key distributed.indexer_cluster.address_template', 'unknown placeholder {node}');
    expectConfigError(() => parseConfig('[distributed]\nnode_id = "a,b"'), 'config key distributed.node_id');
  });

  it('errors are ConfigError instances with their problems listed', () => {
    try {
      parseConfig('[server]\nport = "x"');
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.name, 'ConfigError');
      assert.equal(err.problems.length, 1);
    }
  });
});

describe('auth', () => {
  const KEY = 'k-0123456789abcdef0123';
  const exposure = (toml: string, env: Record<string, string> = {}): string[] => checkExposure(parseConfig(toml, env));

  it('a node reachable from other hosts without keys refuses to start, and says how to set one', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.5', 'silt.example.com', '']) {
      const problems = exposure('', { SILT_SERVER_HOST: host });
      assert.equal(problems.length, 1, host);
      assert.match(problems[0]!, /config key auth\.api_keys: server\.host = ".*" accepts connections from other hosts, and no API key is set/);
      assert.match(problems[0]!, /SILT_AUTH_API_KEYS .*openssl rand -hex 32.*Authorization: Bearer <key>.*auth\.allow_anonymous = true/);
    }
    assert.deepEqual(exposure('[server]\nhost = "0.0.0.0"\n[auth]\nallow_anonymous = true'), []);
    assert.deepEqual(exposure('[server]\nhost = "0.0.0.0"', { SILT_AUTH_API_KEYS: KEY }), []);
    assert.deepEqual(exposure('[server]\nhost = "0.0.0.0"', { SILT_AUTH_READ_ONLY_KEYS: KEY }), []);
  });

  it('loopback needs no key: the embedded default, 127.0.0.0/8, ::1, localhost', () => {
    assert.deepEqual(exposure(''), []);
    for (const host of ['127.0.0.1', '127.8.9.10', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST']) {
      assert.equal(isLoopback(host), true, host);
    }
    for (const host of ['0.0.0.0', '::', '128.0.0.1', '::ffff:10.0.0.1', '10.127.0.1', 'localhost.example.com', '']) {
      assert.equal(isLoopback(host), false, host);
    }
  });

  it('a cluster with keys needs a cluster token', () => {
    expectConfigError(() => parseConfig(CLUSTER_TOML, { SILT_AUTH_API_KEYS: KEY }),
      'config key auth.cluster_token: required when API keys are set and distributed.enabled = true', 'SILT_AUTH_CLUSTER_TOKEN');
    assert.doesNotThrow(() => parseConfig(CLUSTER_TOML, { SILT_AUTH_API_KEYS: KEY, SILT_AUTH_CLUSTER_TOKEN: `t${KEY}` }));
    assert.doesNotThrow(() => parseConfig(CLUSTER_TOML), 'a cluster without keys needs no token');
  });

  it('short or malformed keys and tokens are refused without repeating them', () => {
    const bad = ['short-key', 'has space 0123456789', 'comma;0123456789abc', 'ünïcode-0123456789'];
    for (const key of bad) {
      const message = expectConfigError(() => parseConfig(`[auth]\napi_keys = ["${KEY}", ${JSON.stringify(key)}]`, {}, 'c.toml'),
        'config key auth.api_keys: key 2 of 2 (from c.toml) must be at least 16 characters of [A-Za-z0-9._~+/=-]', 'openssl rand -hex 32');
      assert.ok(!message.includes(key), message);
    }
    const message = expectConfigError(() => parseConfig('', { SILT_AUTH_CLUSTER_TOKEN: 'secret' }), 'config key auth.cluster_token: the token (from SILT_AUTH_CLUSTER_TOKEN)');
    assert.ok(!message.includes('"secret"'));
    expectConfigError(() => parseConfig('', { SILT_AUTH_READ_ONLY_KEYS: 'tiny' }), 'config key auth.read_only_keys: key 1 of 1');
    expectConfigError(() => parseConfig('', { SILT_AUTH_API_KEYS: KEY, SILT_AUTH_READ_ONLY_KEYS: KEY }),
      'config key auth.read_only_keys: key 1 (from SILT_AUTH_READ_ONLY_KEYS) is also in auth.api_keys');
  });

  it('a key of the wrong type is reported without its value', () => {
    const fromFile = expectConfigError(() => parseConfig(`[auth]\napi_keys = "${KEY}"`), 'config key auth.api_keys: expected a list of non-empty strings, got a value not shown');
    assert.ok(!fromFile.includes(KEY), fromFile);
    const fromEnv = expectConfigError(() => parseConfig('', { SILT_AUTH_API_KEYS: `${KEY},,${KEY}x` }), 'config key auth.api_keys', '(from SILT_AUTH_API_KEYS)');
    assert.ok(!fromEnv.includes(KEY), fromEnv);
    const token = expectConfigError(() => parseConfig(`[auth]\ncluster_token = ["${KEY}"]`), 'config key auth.cluster_token: expected a string');
    assert.ok(!token.includes(KEY), token);
  });
});
