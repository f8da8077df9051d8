// Checks that involve more than one key, run on the merged configuration (defaults ← file ← env).
// Each returns problems instead of throwing so that every problem is reported at once.

import { isIPv4, isIPv6 } from 'node:net';
import path from 'node:path';
import type { SiltConfig } from './types.ts';

/** Where a key's value came from, for messages: "SILT_NODE_ID", "/etc/silt/config.toml" or "default". */
export type OriginOf = (key: string) => string;

/**
 * Node ids become host names through address_template and are matched against the node list, so
 * keep them to what a DNS label or Kubernetes pod name allows (plus "_" and "."), and no commas,
 * which separate ids in SILT_DISTRIBUTED_INDEXER_CLUSTER_NODES.
 */
const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const TEMPLATE_PLACEHOLDERS = new Set(['node_id', 'port']);

export function crossCheck(config: SiltConfig, originOf: OriginOf, cwd: string): string[] {
  return [
    ...checkStorage(config, originOf),
    ...checkCachePath(config, originOf, cwd),
    ...checkQuery(config, originOf),
    ...checkServerTimeouts(config, originOf),
    ...checkDistributed(config, originOf),
    ...checkAuth(config, originOf),
  ];
}

function at(key: string, originOf: OriginOf): string {
  const origin = originOf(key);
  return origin === 'default' ? '(the default)' : `(from ${origin})`;
}

function checkStorage(config: SiltConfig, originOf: OriginOf): string[] {
  const problems: string[] = [];
  const { backend, s3 } = config.storage;
  if (backend === 's3' && s3.bucket === '') {
    problems.push(
      'config key storage.s3.bucket: required when storage.backend = "s3"; ' +
        'set bucket in [storage.s3] or SILT_STORAGE_S3_BUCKET',
    );
  }
  if (s3.endpoint !== null) {
    let url: URL | null = null;
    try {
      url = new URL(s3.endpoint);
    } catch {
      url = null;
    }
    if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      problems.push(
        `config key storage.s3.endpoint: expected an http:// or https:// URL such as "http://minio:9000", ` +
          `got ${JSON.stringify(s3.endpoint)} ${at('storage.s3.endpoint', originOf)}`,
      );
    }
  }
  if (s3.wal_prefix.startsWith('/')) {
    problems.push(
      `config key storage.s3.wal_prefix: must not start with "/" (object keys would begin with an empty ` +
        `path segment), got ${JSON.stringify(s3.wal_prefix)} ${at('storage.s3.wal_prefix', originOf)}`,
    );
  }
  return problems;
}

function checkCachePath(config: SiltConfig, originOf: OriginOf, cwd: string): string[] {
  // Only the local backend keeps objects on this machine; with S3 the root path is unused.
  if (config.storage.backend !== 'local') return [];
  const root = path.resolve(cwd, config.storage.local.root_path);
  const cache = path.resolve(cwd, config.cache.disk_path);
  const inside = (child: string, parent: string): boolean => {
    const rel = path.relative(parent, child);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  };
  if (!inside(cache, root) && !inside(root, cache)) return [];
  return [
    `config key cache.disk_path: ${JSON.stringify(config.cache.disk_path)} ${at('cache.disk_path', originOf)} ` +
      `overlaps storage.local.root_path ${JSON.stringify(config.storage.local.root_path)}; the local store ` +
      'would list cached files as objects and cache eviction would delete stored data. ' +
      'Use separate directories, e.g. "./data" and "./cache"',
  ];
}

function checkQuery(config: SiltConfig, originOf: OriginOf): string[] {
  const { default_top_k, max_top_k } = config.query;
  if (default_top_k <= max_top_k) return [];
  return [
    `config key query.default_top_k: ${default_top_k} ${at('query.default_top_k', originOf)} is larger than ` +
      `query.max_top_k ${max_top_k} ${at('query.max_top_k', originOf)}; every query without top_k would be rejected`,
  ];
}

function checkServerTimeouts(config: SiltConfig, originOf: OriginOf): string[] {
  const { headers_timeout_ms, request_timeout_ms } = config.server;
  if (headers_timeout_ms <= request_timeout_ms) return [];
  return [
    `config key server.headers_timeout_ms: ${headers_timeout_ms} ${at('server.headers_timeout_ms', originOf)} is larger than ` +
      `server.request_timeout_ms ${request_timeout_ms} ${at('server.request_timeout_ms', originOf)}; the headers are part of ` +
      'the request, so lower it or raise the request timeout',
  ];
}

function checkDistributed(config: SiltConfig, originOf: OriginOf): string[] {
  const problems: string[] = [];
  const d = config.distributed;
  const { nodes, address_template } = d.indexer_cluster;

  if (d.node_id !== '' && !NODE_ID.test(d.node_id)) {
    problems.push(
      `config key distributed.node_id: expected letters, digits, ".", "_" or "-" (at most 128, starting with a ` +
        `letter or digit), got ${JSON.stringify(d.node_id)} ${at('distributed.node_id', originOf)}`,
    );
  }
  for (const id of nodes) {
    if (!NODE_ID.test(id)) {
      problems.push(
        `config key distributed.indexer_cluster.nodes: node id ${JSON.stringify(id)} must be letters, digits, ` +
          `".", "_" or "-" (at most 128, starting with a letter or digit) ${at('distributed.indexer_cluster.nodes', originOf)}`,
      );
    }
  }
  const seen = new Set<string>();
  for (const id of nodes) {
    if (seen.has(id)) {
      problems.push(
        `config key distributed.indexer_cluster.nodes: duplicate node id ${JSON.stringify(id)} ` +
          `${at('distributed.indexer_cluster.nodes', originOf)}; each indexer must be listed once`,
      );
    }
    seen.add(id);
  }
  problems.push(...checkAddressTemplate(address_template, originOf));

  if (!d.enabled) return problems;

  if (config.storage.backend === 'local') {
    problems.push(
      'config key storage.backend: distributed mode needs shared object storage; set storage.backend = "s3" ' +
        `(distributed.enabled = true ${at('distributed.enabled', originOf)}, storage.backend = "local" ${at('storage.backend', originOf)})`,
    );
  }
  if (d.node_id === '') {
    problems.push(
      'config key distributed.node_id: required when distributed.enabled = true; ' +
        'set node_id in [distributed] or SILT_NODE_ID',
    );
  }
  problems.push(...checkAddresses(d.indexer_cluster.addresses, nodes, originOf));
  if (nodes.length === 0) {
    problems.push(
      'config key distributed.indexer_cluster.nodes: must list at least one indexer when distributed.enabled = true; ' +
        'set nodes in [distributed.indexer_cluster] or SILT_DISTRIBUTED_INDEXER_CLUSTER_NODES (comma-separated)',
    );
  } else if (d.role === 'indexer' && d.node_id !== '' && !nodes.includes(d.node_id)) {
    problems.push(
      `config key distributed.node_id: node_id not found in indexer_cluster.nodes: ${JSON.stringify(d.node_id)} ` +
        `${at('distributed.node_id', originOf)} is not one of [${nodes.map((n) => JSON.stringify(n)).join(', ')}] ` +
        `${at('distributed.indexer_cluster.nodes', originOf)}; every indexer must appear in every node's list`,
    );
  }
  return problems;
}

function checkAddresses(addresses: string[], nodes: string[], originOf: OriginOf): string[] {
  if (addresses.length === 0) return [];
  const where = at('distributed.indexer_cluster.addresses', originOf);
  if (addresses.length !== nodes.length) {
    return [
      `config key distributed.indexer_cluster.addresses: lists ${addresses.length} addresses ${where} for ` +
        `${nodes.length} nodes ${at('distributed.indexer_cluster.nodes', originOf)}; give one base URL per node, in the same order`,
    ];
  }
  for (const address of addresses) {
    let url: URL | null = null;
    try {
      url = new URL(address);
    } catch {
      url = null;
    }
    if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      return [`config key distributed.indexer_cluster.addresses: ${JSON.stringify(address)} ${where} is not an http:// or https:// URL`];
    }
  }
  return [];
}

function checkAddressTemplate(template: string, originOf: OriginOf): string[] {
  const where = at('distributed.indexer_cluster.address_template', originOf);
  const prefix = `config key distributed.indexer_cluster.address_template: ${JSON.stringify(template)} ${where}`;
  const unknown = [...template.matchAll(/\{([^}]*)\}/g)]
    .map((m) => m[1] ?? '')
    .filter((name) => !TEMPLATE_PLACEHOLDERS.has(name));
  if (unknown.length > 0) {
    return [`${prefix} has unknown placeholder {${unknown[0]}}; only {node_id} and {port} are replaced`];
  }
  if (!template.includes('{node_id}')) {
    return [`${prefix} must contain {node_id}, or every indexer would get the same address`];
  }
  let url: URL | null = null;
  try {
    url = new URL(template.replaceAll('{node_id}', 'indexer-1').replaceAll('{port}', '3000'));
  } catch {
    url = null;
  }
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    return [`${prefix} is not an http:// or https:// URL once {node_id} and {port} are filled in`];
  }
  return [];
}

/**
 * What a Bearer token may hold (RFC 6750 b64token), at a length no one guesses. Messages say where
 * a bad key is, never what it is.
 */
const KEY_CHARS = /^[A-Za-z0-9._~+/=-]+$/;
const MIN_KEY_LENGTH = 16;
const MAKE_KEY = 'e.g. the output of `openssl rand -hex 32`';

function checkAuth(config: SiltConfig, originOf: OriginOf): string[] {
  const problems: string[] = [];
  const { api_keys, read_only_keys, cluster_token } = config.auth;
  const checkSecret = (key: string, label: string, value: string): void => {
    if (value.length < MIN_KEY_LENGTH || !KEY_CHARS.test(value)) {
      problems.push(
        `config key ${key}: ${label} ${at(key, originOf)} must be at least ${MIN_KEY_LENGTH} characters of ` +
          `[A-Za-z0-9._~+/=-] (it is ${value.length}); ${MAKE_KEY}`,
      );
    }
  };
  api_keys.forEach((k, i) => checkSecret('auth.api_keys', `key ${i + 1} of ${api_keys.length}`, k));
  read_only_keys.forEach((k, i) => checkSecret('auth.read_only_keys', `key ${i + 1} of ${read_only_keys.length}`, k));
  if (cluster_token !== '') checkSecret('auth.cluster_token', 'the token', cluster_token);
  read_only_keys.forEach((k, i) => {
    if (api_keys.includes(k)) {
      problems.push(
        `config key auth.read_only_keys: key ${i + 1} ${at('auth.read_only_keys', originOf)} is also in auth.api_keys ` +
          `${at('auth.api_keys', originOf)}; a key is either read-write or read-only, remove it from one list`,
      );
    }
  });
  // A relaying node proves with the token that it is a node; without one, keys could be bypassed
  // or a relayed request refused, depending on the owner.
  if (config.distributed.enabled && api_keys.length + read_only_keys.length > 0 && cluster_token === '') {
    problems.push(
      'config key auth.cluster_token: required when API keys are set and distributed.enabled = true (nodes relay ' +
        'requests to the owning indexer and authenticate with it); set the same token on every node in [auth] ' +
        `cluster_token or SILT_AUTH_CLUSTER_TOKEN, ${MAKE_KEY}`,
    );
  }
  return problems;
}

/** 127.0.0.0/8, ::1 and localhost: only this machine can connect. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost') return true;
  if (isIPv4(h)) return h.startsWith('127.');
  if (!isIPv6(h)) return false;
  const canonical = new URL(`http://[${h}]/`).hostname; // "0:0:0:0:0:0:0:1" → "[::1]"
  if (canonical === '[::1]') return true;
  const mapped = /^\[::ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}\]$/.exec(canonical);
  return mapped !== null && parseInt(mapped[1]!, 16) >> 8 === 127; // ::ffff:127.x.y.z
}

/**
 * Run at startup, after loading: a node other hosts can reach must not serve everyone by
 * accident. Separate from loading so that a configuration (such as the guide's, which predates
 * keys) can still be read and checked by tools.
 */
export function checkExposure(config: SiltConfig): string[] {
  const { api_keys, read_only_keys, allow_anonymous } = config.auth;
  if (api_keys.length + read_only_keys.length > 0 || allow_anonymous || isLoopback(config.server.host)) return [];
  return [
    `config key auth.api_keys: server.host = ${JSON.stringify(config.server.host)} accepts connections from other ` +
      'hosts, and no API key is set, so anyone who can reach this node could read and delete every namespace. ' +
      'Set a key in [auth] api_keys or SILT_AUTH_API_KEYS (comma-separated, ' + MAKE_KEY + ') and send ' +
      '"Authorization: Bearer <key>"; or bind server.host = "127.0.0.1"; or, if a proxy in front authenticates, ' +
      'set auth.allow_anonymous = true',
  ];
}
