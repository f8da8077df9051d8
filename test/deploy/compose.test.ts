// The Docker Compose example (examples/distributed/) and the image it runs: docker-compose accepts
// the file; its services, Silt configs, Dockerfile and nginx.conf agree with each other; Silt's
// own config loader accepts what each container gets; nginx routes as the guide says.
// No Docker engine is needed: docker-compose only validates, and nginx runs on 127.0.0.1.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { checkExposure, parseConfig, type SiltConfig } from '../../src/config/index.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIR = path.join(ROOT, 'examples/distributed');
const COMPOSE_FILE = path.join(DIR, 'docker-compose.yml');

interface ComposeService {
  image?: string;
  build?: string | { context: string };
  environment?: Record<string, string | number> | string[];
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test: string[] | string };
  stop_grace_period?: string;
  depends_on?: string[] | Record<string, { condition: string }>;
  entrypoint?: string;
}
interface ComposeFile {
  version: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const COMPOSE_TEXT = readFileSync(COMPOSE_FILE, 'utf8');
// `<<` merge keys, as docker-compose resolves them (YAML 1.2 itself has none).
const compose = parseYaml(COMPOSE_TEXT, { merge: true }) as ComposeFile;
const PACKAGE = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string; engines: { node: string }; dependencies: Record<string, string>; devDependencies: Record<string, string>;
};
/** The image every Silt service runs: the package's version, never a moving tag. */
const SILT_IMAGE = `silt:${PACKAGE.version}`;
const services = compose.services;

function service(name: string): ComposeService {
  const s = services[name];
  assert.ok(s, `docker-compose.yml has no service ${name}`);
  return s;
}

/** What the operator exports before `docker-compose up` (the README says so); no read-only key. */
const SHELL = { SILT_AUTH_API_KEYS: 'compose-rw-0123456789abcdef', SILT_AUTH_CLUSTER_TOKEN: 'compose-token-0123456789abcdef' };

/** docker-compose's ${NAME}, ${NAME:-default}, ${NAME:?error} and $$, against `shell`. */
function interpolate(text: string, shell: Record<string, string>): string {
  return text.replace(/\$\$|\$\{(\w+)(?::([-?])([^}]*))?\}/g, (all, name: string | undefined, op: string | undefined, arg: string | undefined) => {
    if (all === '$$') return '$';
    const value = shell[name!];
    if (value !== undefined && value !== '') return value;
    assert.notEqual(op, '?', `compose would refuse to start: ${arg}`);
    return op === '-' ? (arg ?? '') : '';
  });
}

function envOf(s: ComposeService, shell: Record<string, string> = SHELL): Record<string, string> {
  const env = s.environment ?? {};
  const pairs: [string, string][] = Array.isArray(env)
    ? env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])
    : Object.entries(env).map(([k, v]) => [k, String(v)]);
  return Object.fromEntries(pairs.map(([k, v]) => [k, interpolate(v, shell)]));
}

interface Mount { source: string; target: string; readOnly: boolean }
function mountsOf(s: ComposeService): Mount[] {
  return (s.volumes ?? []).map((v) => {
    const [source = '', target = '', mode = ''] = v.split(':');
    return { source, target, readOnly: mode.split(',').includes('ro') };
  });
}

/** The image's command, from the Dockerfile's exec-form CMD. */
function imageCommand(): string[] {
  const m = /^CMD (\[.*\])$/m.exec(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
  assert.ok(m?.[1], 'Dockerfile has no exec-form CMD');
  return JSON.parse(m[1]) as string[];
}

function configPathInImage(): string {
  const cmd = imageCommand();
  const at = cmd.indexOf('--config');
  assert.ok(at >= 0 && cmd[at + 1], `the image command ${JSON.stringify(cmd)} names no --config file`);
  return cmd[at + 1]!;
}

const siltServices = Object.keys(services).filter((name) => service(name).image === SILT_IMAGE);
const indexerServices = siltServices.filter((name) => envOf(service(name)).SILT_NODE_ROLE === 'indexer');
const queryServices = siltServices.filter((name) => envOf(service(name)).SILT_NODE_ROLE === 'query');

/** The config file mounted at the image's --config path, loaded by Silt with the service's environment. */
function loadServiceConfig(name: string): { file: string; config: SiltConfig } {
  const target = configPathInImage();
  const mount = mountsOf(service(name)).find((m) => m.target === target);
  assert.ok(mount, `${name} mounts nothing at ${target}, the image's --config path`);
  assert.ok(mount.readOnly, `${name}: mount the config read-only`);
  const file = path.resolve(DIR, mount.source);
  assert.ok(existsSync(file), `${name} mounts ${mount.source}, which does not exist`);
  return { file, config: parseConfig(readFileSync(file, 'utf8'), envOf(service(name)), file) };
}

function seconds(duration: string): number {
  const m = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration);
  assert.ok(m && duration !== '', `cannot read duration ${duration}`);
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}

/** A binary the tests need, or a failure saying how to install it (never a silent skip). */
function requireTool(name: string, candidates: string[], install: string): string {
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ['-v'], { encoding: 'utf8' });
    if (probe.error === undefined) return candidate;
  }
  assert.fail(`${name} is not installed; these tests need it: ${install}`);
}

describe('docker-compose.yml', () => {
  it('is accepted by `docker-compose config` once the keys are exported, and refused without them', () => {
    const bin = requireTool('docker-compose', ['docker-compose'], 'apt-get install docker-compose');
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SILT_AUTH_')));
    const run = spawnSync(bin, ['-f', COMPOSE_FILE, 'config', '-q'], { cwd: ROOT, encoding: 'utf8', env: { ...clean, ...SHELL } });
    assert.equal(run.status, 0, `docker-compose config failed:\n${run.stderr}`);
    const bare = spawnSync(bin, ['-f', COMPOSE_FILE, 'config', '-q'], { cwd: ROOT, encoding: 'utf8', env: clean });
    assert.notEqual(bare.status, 0, 'compose would start a reachable cluster without keys');
    assert.match(bare.stderr, /export SILT_AUTH_API_KEYS=<key> first; make one with openssl rand -hex 32/);
  });

  it('gives every node the same keys and cluster token, so each would start on 0.0.0.0 and relay', () => {
    const auths = siltServices.map((name) => loadServiceConfig(name).config);
    for (const [i, config] of auths.entries()) {
      assert.deepEqual(config.auth.api_keys, [SHELL.SILT_AUTH_API_KEYS], siltServices[i]);
      assert.equal(config.auth.cluster_token, SHELL.SILT_AUTH_CLUSTER_TOKEN, siltServices[i]);
      assert.deepEqual(config.auth.read_only_keys, []);
      assert.equal(config.auth.allow_anonymous, false, `${siltServices[i]} must not serve without keys`);
      assert.deepEqual(checkExposure(config), [], siltServices[i]);
      const ro = parseConfig(readFileSync(loadServiceConfig(siltServices[i]!).file, 'utf8'),
        envOf(service(siltServices[i]!), { ...SHELL, SILT_AUTH_READ_ONLY_KEYS: 'compose-ro-0123456789abcdef' }));
      assert.deepEqual(ro.auth.read_only_keys, ['compose-ro-0123456789abcdef'], 'an exported read-only key reaches the node');
    }
  });

  it('runs MinIO, a bucket-creating init job, three indexers, a query node and nginx', () => {
    assert.equal(compose.version, '3.8');
    assert.deepEqual(indexerServices, ['indexer-1', 'indexer-2', 'indexer-3']);
    assert.deepEqual(queryServices, ['query-1']);
    assert.match(service('minio').image ?? '', /^minio\/minio/);
    assert.match(service('minio-init').image ?? '', /^minio\/mc/);
    assert.match(service('nginx').image ?? '', /^nginx/);
    for (const name of siltServices) {
      const build = service(name).build;
      const context = typeof build === 'string' ? build : build?.context;
      assert.equal(path.resolve(DIR, context ?? ''), ROOT, `${name} builds ${SILT_IMAGE} from the repository root`);
    }
  });

  it('pins every image to a version, and writes what the three indexers share once (YAML anchors)', () => {
    for (const [name, s] of Object.entries(services)) {
      const tag = /^[^:]+:(.+)$/.exec(s.image ?? '')?.[1];
      assert.ok(tag && tag !== 'latest' && !/^(alpine|stable)$/.test(tag), `${name}: image ${s.image} is not pinned`);
    }
    assert.equal(siltServices.length, 4);
    // Read without resolving merges: each indexer is the x-indexer anchor plus its own fields.
    const raw = parseYaml(COMPOSE_TEXT) as { 'x-indexer': unknown; services: Record<string, Record<string, unknown>> };
    for (const name of indexerServices) {
      assert.deepEqual(raw.services[name]!['<<'], raw['x-indexer'], `${name} does not merge *indexer`);
      assert.deepEqual(Object.keys(raw.services[name]!).sort(), ['<<', 'environment', 'ports', 'volumes'], `${name} repeats shared settings`);
    }
  });

  it('gives each indexer its service name as node id, listed in that order in nodes', () => {
    for (const name of siltServices) {
      const { config } = loadServiceConfig(name);
      assert.equal(envOf(service(name)).SILT_NODE_ID, name, `${name}: SILT_NODE_ID must be the service (host) name`);
      assert.equal(config.distributed.node_id, name);
      assert.equal(config.distributed.enabled, true);
      assert.deepEqual(config.distributed.indexer_cluster.nodes, indexerServices, `${name}: nodes must be the indexer services, in order`);
    }
    for (const name of indexerServices) assert.equal(loadServiceConfig(name).config.distributed.role, 'indexer');
    for (const name of queryServices) assert.equal(loadServiceConfig(name).config.distributed.role, 'query');
  });

  it('lets every node reach every indexer at address_template, on the port it listens on', () => {
    for (const name of siltServices) {
      const { config } = loadServiceConfig(name);
      assert.equal(config.server.host, '0.0.0.0', `${name} must listen on every interface to be reachable`);
      for (const indexer of indexerServices) {
        const url = new URL(config.distributed.indexer_cluster.address_template
          .replaceAll('{node_id}', indexer).replaceAll('{port}', String(config.server.port)));
        assert.equal(url.hostname, indexer);
        assert.equal(Number(url.port), loadServiceConfig(indexer).config.server.port);
      }
      for (const mapping of service(name).ports ?? []) {
        assert.equal(Number(mapping.split(':').at(-1)), config.server.port, `${name} publishes ${mapping}, not server.port`);
      }
    }
  });

  it('points every node at the same bucket and prefix on the minio service, which minio-init creates', () => {
    const stores = siltServices.map((name) => loadServiceConfig(name).config.storage);
    for (const store of stores) {
      assert.equal(store.backend, 's3');
      assert.deepEqual(store.s3, stores[0]!.s3, 'every node must use the same bucket, endpoint and wal_prefix');
    }
    const s3 = stores[0]!.s3;
    const endpoint = new URL(s3.endpoint ?? '');
    assert.equal(endpoint.hostname, 'minio');
    assert.ok((service('minio').ports ?? []).some((p) => p.endsWith(`:${endpoint.port}`)), `MinIO does not listen on ${endpoint.port}`);
    assert.ok((service('minio-init').entrypoint ?? '').includes(`mc mb --ignore-existing local/${s3.bucket}`));
    for (const name of siltServices) {
      const env = envOf(service(name));
      assert.equal(env.AWS_ACCESS_KEY_ID, envOf(service('minio')).MINIO_ROOT_USER, `${name}: MinIO credentials`);
      assert.equal(env.AWS_SECRET_ACCESS_KEY, envOf(service('minio')).MINIO_ROOT_PASSWORD);
      const deps = service(name).depends_on;
      assert.ok(deps && !Array.isArray(deps) && deps['minio-init']?.condition === 'service_completed_successfully',
        `${name} must start after the bucket exists`);
    }
  });

  it('mounts a named volume of its own at each node\'s cache.disk_path', () => {
    const used = new Set<string>();
    for (const name of siltServices) {
      const { config } = loadServiceConfig(name);
      const cache = mountsOf(service(name)).find((m) => m.target === config.cache.disk_path);
      assert.ok(cache, `${name} mounts no volume at cache.disk_path ${config.cache.disk_path}`);
      assert.ok(cache.source in (compose.volumes ?? {}), `${name}: ${cache.source} is not a named volume`);
      assert.ok(!used.has(cache.source), `${cache.source} is shared by two nodes`);
      used.add(cache.source);
    }
    assert.ok(mountsOf(service('minio')).some((m) => m.source in (compose.volumes ?? {}) && m.target === '/data'));
  });

  it('checks readiness on /ready and gives each node longer than its shutdown timeout to stop', () => {
    for (const name of siltServices) {
      const { config } = loadServiceConfig(name);
      const check = [service(name).healthcheck?.test ?? []].flat().join(' ');
      assert.ok(check.includes(`http://127.0.0.1:${config.server.port}/ready`), `${name} healthcheck: ${check}`);
      const grace = seconds(service(name).stop_grace_period ?? '10s');
      assert.ok(grace > config.server.shutdown_timeout_secs,
        `${name}: stop_grace_period ${grace}s must exceed server.shutdown_timeout_secs ${config.server.shutdown_timeout_secs}s`);
    }
  });

  it('mounts ./nginx.conf as nginx\'s main config and starts it after every Silt node', () => {
    const nginx = service('nginx');
    const conf = mountsOf(nginx).find((m) => m.target === '/etc/nginx/nginx.conf');
    assert.ok(conf && path.resolve(DIR, conf.source) === path.join(DIR, 'nginx.conf') && conf.readOnly);
    assert.deepEqual(Object.keys(nginx.depends_on ?? {}).sort(), [...siltServices].sort());
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');

  const stages = text.split(/^FROM /m).slice(1);

  it('runs the compiled JavaScript with node directly (PID 1 gets SIGTERM) on the config path the examples mount', () => {
    assert.deepEqual(imageCommand(), ['node', 'dist/main.js', '--config', '/etc/silt/config.toml']);
    assert.match(text, /^STOPSIGNAL SIGTERM$/m);
    assert.match(text, /^USER node$/m);
    assert.match(text, /^HEALTHCHECK .*\n?.*http:\/\/127\.0\.0\.1:3000\/health/m);
    assert.match(text, /^EXPOSE 3000$/m);
  });

  it('builds on Node 22 LTS in two stages, and ships dist/ with production dependencies only (no tsx, no sources)', () => {
    assert.equal(stages.length, 2);
    for (const stage of stages) assert.match(stage, /^node:22-bookworm-slim\b/);
    const [build = '', runtime = ''] = stages;
    assert.match(build, /^RUN npm run build && npm prune --omit=dev/m);
    assert.match(runtime, /^COPY --from=build \/app\/node_modules \.\/node_modules$/m);
    assert.match(runtime, /^COPY --from=build \/app\/dist \.\/dist$/m);
    assert.doesNotMatch(runtime, /^COPY .*\bsrc\b/m, 'the runtime stage runs dist/, not the sources');
    assert.equal(PACKAGE.dependencies.tsx, undefined, 'tsx must be a devDependency, pruned from the image');
    assert.ok(PACKAGE.devDependencies.tsx);
    assert.equal(PACKAGE.engines.node, '^20.15.0 || >=22.2.0', 'zlib.crc32 (WAL checksums) is in Node 20.15 and 22.2');
  });
});

// ---- nginx.conf ----

interface Directive { name: string; args: string[]; block?: Directive[] }

/** nginx's configuration syntax: directives ending in ";" or a "{ … }" block; "#" comments; quotes. */
function parseNginx(text: string): Directive[] {
  const tokens: { text: string; quoted: boolean }[] = [];
  for (const m of text.matchAll(/#[^\n]*|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([;{}])|([^\s;{}"'#]+)/g)) {
    if (m[0].startsWith('#')) continue;
    if (m[1] !== undefined || m[2] !== undefined) tokens.push({ text: m[1] ?? m[2] ?? '', quoted: true });
    else tokens.push({ text: m[0], quoted: false });
  }
  let i = 0;
  const block = (): Directive[] => {
    const out: Directive[] = [];
    let words: string[] = [];
    while (i < tokens.length) {
      const t = tokens[i++]!;
      if (!t.quoted && t.text === ';') {
        out.push({ name: words[0] ?? '', args: words.slice(1) });
        words = [];
      } else if (!t.quoted && t.text === '{') {
        out.push({ name: words[0] ?? '', args: words.slice(1), block: block() });
        words = [];
      } else if (!t.quoted && t.text === '}') {
        assert.equal(words.length, 0, `unterminated directive ${words.join(' ')}`);
        return out;
      } else {
        words.push(t.text);
      }
    }
    return out;
  };
  return block();
}

const find = (ds: Directive[], name: string): Directive[] => ds.filter((d) => d.name === name);
const arg = (ds: Directive[], name: string): string[] | undefined => find(ds, name)[0]?.args;

const NGINX_CONF = readFileSync(path.join(DIR, 'nginx.conf'), 'utf8');
const http = find(parseNginx(NGINX_CONF), 'http')[0]?.block ?? [];
const servers = find(http, 'server');
const upstreams = new Map(find(http, 'upstream').map((u) => [u.args[0] ?? '', u.block ?? []]));

/** The location nginx picks for a URI: exact, then regexes in order, then the longest prefix. */
function locationFor(server: Directive[], uri: string): Directive {
  const locations = find(server, 'location');
  let prefix: Directive | undefined;
  for (const l of locations) {
    const [modifier = '', pattern = ''] = l.args.length === 1 ? ['', l.args[0]] : l.args;
    if (modifier === '=' && uri === pattern) return l;
    if ((modifier === '' || modifier === '^~') && uri.startsWith(pattern) && pattern.length > (prefix?.args.at(-1)?.length ?? -1)) prefix = l;
  }
  if (prefix?.args[0] === '^~') return prefix;
  for (const l of locations) {
    if ((l.args[0] === '~' || l.args[0] === '~*') && new RegExp(l.args[1] ?? '', l.args[0] === '~*' ? 'i' : '').test(uri)) return l;
  }
  assert.ok(prefix, `no location matches ${uri}`);
  return prefix;
}

const upstreamOf = (l: Directive): string => (arg(l.block ?? [], 'proxy_pass')?.[0] ?? '').replace(/^http:\/\//, '');

/** The Silt API, and where the guide sends each call. */
const ROUTES: [method: string, uri: string, upstream: 'indexers' | 'query_nodes'][] = [
  ['PUT', '/v1/namespaces/my-docs', 'indexers'],
  ['POST', '/v1/namespaces/my-docs/upsert', 'indexers'],
  ['POST', '/v1/namespaces/my-docs/query', 'query_nodes'],
  ['POST', '/v1/namespaces/my-docs/delete', 'indexers'],
  ['GET', '/v1/namespaces/my-docs', 'indexers'],
  ['GET', '/v1/namespaces/my-docs/documents/1', 'indexers'],
  ['GET', '/v1/namespaces/my-docs/documents/query', 'indexers'], // a document whose id is "query"
  ['POST', '/v1/namespaces/query/upsert', 'indexers'], // a namespace named "query"
  ['DELETE', '/v1/namespaces/my-docs', 'indexers'],
  ['GET', '/health', 'indexers'],
];

describe('nginx.conf', () => {
  it('has one server on port 80, the port compose publishes', () => {
    assert.equal(servers.length, 1);
    assert.deepEqual(arg(servers[0]!.block ?? [], 'listen'), ['80']);
    assert.deepEqual(service('nginx').ports, ['80:80']);
  });

  it('sends upserts and the control plane to the indexers and queries to the query nodes', () => {
    const server = servers[0]?.block ?? [];
    for (const [method, uri, upstream] of ROUTES) {
      assert.equal(upstreamOf(locationFor(server, uri)), upstream, `${method} ${uri}`);
    }
  });

  it('lists exactly the compose services, on their server.port, in its upstreams', () => {
    const members = (name: string): string[] => find(upstreams.get(name) ?? [], 'server').map((d) => d.args[0] ?? '');
    const at = (names: string[]): string[] => names.map((n) => `${n}:${loadServiceConfig(n).config.server.port}`);
    assert.deepEqual(members('indexers'), at(indexerServices));
    assert.deepEqual(members('query_nodes'), at(queryServices));
  });

  it('accepts Silt-sized bodies, keeps upstream connections alive, and never retries a write', () => {
    const size = /^(\d+)([kKmMgG]?)$/.exec(arg(http, 'client_max_body_size')?.[0] ?? '');
    assert.ok(size, 'client_max_body_size must be set');
    const bytes = Number(size[1]) * 1024 ** ' kmg'.indexOf((size[2] || ' ').toLowerCase());
    for (const name of siltServices) assert.ok(bytes >= loadServiceConfig(name).config.server.body_limit_bytes);

    for (const l of find(servers[0]?.block ?? [], 'location')) {
      const d = l.block ?? [];
      const where = `location ${l.args.join(' ')}`;
      assert.ok(find(upstreams.get(upstreamOf(l)) ?? [], 'keepalive').length === 1, `${where}: upstream without keepalive`);
      assert.deepEqual(arg(d, 'proxy_http_version'), ['1.1'], where);
      const headers = new Map(find(d, 'proxy_set_header').map((h) => [h.args[0], h.args[1]]));
      assert.equal(headers.get('Connection'), '', `${where}: Connection "" keeps upstream connections open`);
      assert.equal(headers.get('X-Real-IP'), '$remote_addr', where);
      assert.equal(headers.get('X-Forwarded-For'), '$proxy_add_x_forwarded_for', where);
      // nginx resends a POST only with non_idempotent, but PUT and DELETE whenever it retries.
      const retry = arg(d, 'proxy_next_upstream') ?? [];
      if (upstreamOf(l) === 'query_nodes') assert.deepEqual(retry.slice(0, 2), ['error', 'timeout'], where);
      else if (l.args[1]?.endsWith('/upsert$')) assert.ok(retry.length > 0 && !retry.includes('non_idempotent'), `${where}: an upsert must not be resent`);
      else assert.deepEqual(retry, ['off'], `${where}: PUT and DELETE must not be resent to another server`);
    }
    // nginx must wait longer than a node waits for the owner, or it cuts off answers on the way.
    const timeouts = loadServiceConfig(indexerServices[0]!).config.distributed;
    for (const l of find(servers[0]?.block ?? [], 'location')) {
      const read = seconds(arg(l.block ?? [], 'proxy_read_timeout')?.[0] ?? '60s');
      const forward = upstreamOf(l) === 'query_nodes' ? timeouts.forward_timeout_ms : timeouts.write_forward_timeout_ms;
      assert.ok(read * 1000 > forward, `location ${l.args.join(' ')}: proxy_read_timeout ${read}s <= ${forward} ms`);
    }
    for (const [name, block] of upstreams) {
      // Below fastify's keepAliveTimeout (72 s): the proxy, not Silt, closes idle connections.
      const idle = /^(\d+)s$/.exec(arg(block, 'keepalive_timeout')?.[0] ?? '');
      assert.ok(idle && Number(idle[1]) < 72, `upstream ${name}: keepalive_timeout must be set below 72s`);
    }
  });
});

// ---- nginx itself, on 127.0.0.1 ----

function findNginx(): string {
  return requireTool('nginx', ['nginx', '/usr/sbin/nginx'], 'apt-get install nginx');
}

/**
 * nginx.conf made runnable here by substitution, as the guide's compose file is for a cluster:
 * upstream host names → 127.0.0.1 ports, `listen 80` → a free port, pid, logs and temp files in `dir`.
 */
function loopbackConf(dir: string, port: number, upstreamPorts: Map<string, number>): string {
  let conf = NGINX_CONF.replace('listen 80;', `listen 127.0.0.1:${port};`)
    .replace('worker_processes auto;', 'worker_processes 1;')
    .replace(/access_log \S+/, `access_log ${dir}/access.log`)
    .replace('http {', `http {\n    ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${dir}/${t};`).join('\n    ')}`);
  for (const [host, p] of upstreamPorts) conf = conf.replace(new RegExp(`server ${host}:\\d+;`), `server 127.0.0.1:${p};`);
  assert.doesNotMatch(conf, /server (indexer|query)-\d+:/, 'an upstream host name was not substituted');
  return `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\n${conf}`;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

describe('nginx running nginx.conf', () => {
  it('accepts it (nginx -t)', async () => {
    const nginx = findNginx();
    const dir = mkdtempSync(path.join(tmpdir(), 'silt-nginx-'));
    try {
      const ports = new Map([...indexerServices, ...queryServices].map((n) => [n, 3000] as const));
      writeFileSync(path.join(dir, 'nginx.conf'), loopbackConf(dir, await freePort(), ports));
      const run = spawnSync(nginx, ['-t', '-p', dir, '-e', path.join(dir, 'error.log'), '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' });
      assert.equal(run.status, 0, `nginx -t failed:\n${run.stderr}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('routes real requests to the right upstream, fails over, and never resends a write that was sent', async (t) => {
    const nginx = findNginx();
    const dir = mkdtempSync(path.join(tmpdir(), 'silt-nginx-'));
    chmodSync(dir, 0o755); // nginx's workers run as another user when started by root
    t.after(() => rmSync(dir, { recursive: true, force: true }));

    // Stand-ins for the Silt nodes, plus a second query node to show a query being resent.
    // Requests for namespace "crash" get their connection dropped, as by a node dying mid-request
    // (except on query-2, the node a dropped query should be resent to).
    const hits = new Map<string, string[]>();
    const backends = new Map<string, Server>();
    for (const name of [...indexerServices, ...queryServices, 'query-2']) {
      hits.set(name, []);
      const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          hits.get(name)!.push(`${req.method} ${req.url}`);
          if (req.url?.startsWith('/v1/namespaces/crash') && name !== 'query-2') return req.socket.destroy();
          res.setHeader('x-silt-node', name);
          res.end(JSON.stringify({
            bytes: Buffer.concat(chunks).length, xff: req.headers['x-forwarded-for'], connection: req.headers.connection ?? null,
            authorization: req.headers.authorization ?? null,
            relay: [req.headers['x-silt-forwarded-by'] ?? null, req.headers['x-silt-cluster-token'] ?? null],
          }));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      backends.set(name, server);
      t.after(() => new Promise((resolve) => server.close(resolve)));
    }
    const portOf = (name: string): number => (backends.get(name)!.address() as AddressInfo).port;
    const port = await freePort();
    let conf = loopbackConf(dir, port, new Map([...indexerServices, ...queryServices].map((n) => [n, portOf(n)])));
    conf = conf.replace(/(upstream query_nodes \{\n(?:.*\n)*?\s*server 127\.0\.0\.1:\d+;)/, `$1\n        server 127.0.0.1:${portOf('query-2')};`);
    writeFileSync(path.join(dir, 'nginx.conf'), conf);

    const child = spawn(nginx, ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    t.after(async () => {
      child.kill('SIGTERM');
      await exited;
    });
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) assert.fail(`nginx exited: ${readFileSync(path.join(dir, 'error.log'), 'utf8')}`);
      if (await fetch(`${base}/health`).then(() => true, () => false)) break;
      assert.ok(i < 100, 'nginx did not start within 5 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const groups: Record<string, string[]> = { indexers: indexerServices, query_nodes: [...queryServices, 'query-2'] };
    // Clients send their key, which Silt must see; a client posing as a relaying node is stripped.
    const headers = { authorization: `Bearer ${SHELL.SILT_AUTH_API_KEYS}`, 'x-silt-forwarded-by': 'indexer-1', 'x-silt-cluster-token': 'guess' };
    for (const [method, uri, upstream] of ROUTES) {
      const body = method === 'POST' ? '{}' : undefined;
      const res = await fetch(`${base}${uri}`, { method, body, headers });
      assert.equal(res.status, 200, `${method} ${uri}`);
      const node = res.headers.get('x-silt-node') ?? '';
      assert.ok(groups[upstream]!.includes(node), `${method} ${uri} reached ${node}, not one of ${upstream}`);
      const echo = (await res.json()) as { xff: string; connection: string | null; authorization: string | null; relay: unknown[] };
      assert.equal(echo.authorization, headers.authorization, `${method} ${uri}: nginx must pass Authorization through`);
      assert.deepEqual(echo.relay, [null, null], `${method} ${uri}: nginx must drop x-silt-forwarded-by and x-silt-cluster-token from clients`);
      assert.equal(echo.xff, '127.0.0.1');
      assert.equal(echo.connection, null, 'nginx must not send Connection: close upstream (keepalive)');
    }

    // A 2 MiB bulk upsert gets through (nginx's default limit is 1 MiB).
    const big = await fetch(`${base}/v1/namespaces/my-docs/upsert`, { method: 'POST', body: 'x'.repeat(2 << 20) });
    assert.equal(big.status, 200);
    assert.equal(((await big.json()) as { bytes: number }).bytes, 2 << 20);

    // Two queries whose node dies mid-request: whichever reached query-1 first is resent to query-2.
    for (let i = 0; i < 2; i++) await fetch(`${base}/v1/namespaces/crash/query`, { method: 'POST', body: '{}' });
    assert.ok(hits.get('query-1')!.includes('POST /v1/namespaces/crash/query'), 'query-1 never saw the query');
    assert.equal(hits.get('query-2')!.filter((h) => h === 'POST /v1/namespaces/crash/query').length, 2, 'the dropped query was not resent');

    // An upsert for a stopped indexer (connection refused: nothing was sent) goes to another one.
    const stopped = backends.get(indexerServices.at(-1)!)!;
    stopped.closeAllConnections();
    await new Promise((resolve) => stopped.close(resolve));
    for (let i = 0; i < indexerServices.length; i++) {
      const res = await fetch(`${base}/v1/namespaces/my-docs/upsert`, { method: 'POST', body: '{}' });
      assert.equal(res.status, 200, 'an upsert to a stopped indexer was not passed to a running one');
    }

    // A write whose node dies mid-request is reported to the client, not resent to another indexer.
    for (const [method, uri] of [['POST', '/v1/namespaces/crash/upsert'], ['PUT', '/v1/namespaces/crash']] as const) {
      const before = indexerServices.flatMap((n) => hits.get(n)!).length;
      const res = await fetch(`${base}${uri}`, { method, body: '{}' });
      assert.equal(res.status, 502, `${method} ${uri}`);
      assert.equal(indexerServices.flatMap((n) => hits.get(n)!).length - before, 1, `${method} ${uri} was sent more than once`);
    }
  });
});
