// The Kubernetes manifests (examples/distributed/k8s/), parsed, with the fields that decide whether
// the cluster works checked against each other and against Silt's config loader: node ids and
// DNS names, ports, probes, mounts, shutdown timing, selectors, Ingress routing. No cluster needed.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { checkExposure, parseConfig, type SiltConfig } from '../../src/config/index.ts';
import { ALL_METRICS } from '../support/metrics.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const K8S = path.join(ROOT, 'examples/distributed/k8s');

type Labels = Record<string, string>;
interface Meta { name: string; namespace?: string; labels?: Labels; annotations?: Record<string, string> }
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
}
interface Probe { httpGet?: { path: string; port: string | number } }
interface Mount { name: string; mountPath: string; readOnly?: boolean; subPath?: string }
interface Container {
  name: string;
  image: string;
  command?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { readOnlyRootFilesystem?: boolean };
  volumeMounts?: Mount[];
}
interface Volume {
  name: string;
  configMap?: { name: string; items?: { key: string; path: string }[] };
  emptyDir?: { sizeLimit?: string };
}
interface Workload {
  kind: 'StatefulSet' | 'Deployment';
  metadata: Meta;
  spec: {
    replicas: number;
    serviceName?: string;
    selector: { matchLabels: Labels };
    template: {
      metadata: { labels: Labels };
      spec: {
        containers: Container[];
        volumes?: Volume[];
        terminationGracePeriodSeconds?: number;
        securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; fsGroup?: number };
      };
    };
    volumeClaimTemplates?: { metadata: { name: string }; spec: { resources: { requests: { storage: string } } } }[];
  };
}
interface Service {
  metadata: Meta;
  spec: { clusterIP?: string; publishNotReadyAddresses?: boolean; selector: Labels; ports: { name?: string; port: number; targetPort?: number | string }[] };
}
interface Backend { service: { name: string; port: { name?: string; number?: number } } }
interface Ingress {
  metadata: Meta;
  spec: { ingressClassName?: string; rules: { http: { paths: { path: string; pathType: string; backend: Backend }[] } }[] };
}
interface Pdb { metadata: Meta; spec: { selector: { matchLabels: Labels }; maxUnavailable?: number; minAvailable?: number } }
interface ConfigMap { metadata: Meta; data: Record<string, string> }
interface Secret { metadata: Meta; type?: string; stringData?: Record<string, string>; data?: Record<string, string> }
interface K8sObject { apiVersion: string; kind: string; metadata: Meta; file: string }

const objects: K8sObject[] = readdirSync(K8S).filter((f) => f.endsWith('.yaml')).sort().flatMap((file) =>
  parseAllDocuments(readFileSync(path.join(K8S, file), 'utf8')).map((doc) => {
    assert.deepEqual(doc.errors.map(String), [], `${file} does not parse`);
    return { ...(doc.toJS() as Omit<K8sObject, 'file'>), file };
  }));

function one<T>(kind: string, name: string): T {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  assert.equal(found.length, 1, `expected one ${kind} ${name}, found ${found.length}`);
  return found[0] as unknown as T;
}
const all = <T>(kind: string): T[] => objects.filter((o) => o.kind === kind) as unknown as T[];

const indexers = one<Workload>('StatefulSet', 'silt-indexer');
const queries = one<Workload>('Deployment', 'silt-query');
const WORKLOADS: [role: 'indexer' | 'query', w: Workload][] = [['indexer', indexers], ['query', queries]];

const containerOf = (w: Workload): Container => {
  assert.equal(w.spec.template.spec.containers.length, 1, `${w.metadata.name}: one container`);
  return w.spec.template.spec.containers[0]!;
};

/** Pod names the workload's pods get (all of a StatefulSet's; a typical one of a Deployment's). */
const podNames = (w: Workload): string[] =>
  w.kind === 'StatefulSet'
    ? Array.from({ length: w.spec.replicas }, (_, i) => `${w.metadata.name}-${i}`)
    : [`${w.metadata.name}-6c9d8f7b5d-x2k4q`];

/** The container's environment as the kubelet would give it, with fake values for Secrets. */
function envOf(c: Container, podName: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const v of c.env ?? []) {
    if (v.value !== undefined) env[v.name] = v.value;
    else if (v.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[v.name] = podName;
    else if (v.valueFrom?.secretKeyRef) env[v.name] = `fake-${v.valueFrom.secretKeyRef.key}`;
    else assert.fail(`${c.name}: cannot evaluate env ${v.name}`);
  }
  return env;
}

/** The --config path in the container's command, which must be the image's command. */
function configPath(c: Container): string {
  const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
  assert.ok(cmd, 'Dockerfile has no exec-form CMD');
  const command = c.command ?? (JSON.parse(cmd) as string[]);
  assert.deepEqual(command, JSON.parse(cmd), 'the manifest runs the image\'s command');
  const at = command.indexOf('--config');
  assert.ok(at >= 0 && command[at + 1]);
  return command[at + 1]!;
}

/** The TOML the container sees at its --config path, followed through its mount and ConfigMap. */
function configText(w: Workload): string {
  const c = containerOf(w);
  const file = configPath(c);
  const mount = (c.volumeMounts ?? []).find((m) => m.mountPath === path.dirname(file) && m.subPath === undefined);
  assert.ok(mount, `${w.metadata.name}: nothing mounted at ${path.dirname(file)}`);
  assert.ok(mount.readOnly);
  const volume = (w.spec.template.spec.volumes ?? []).find((v) => v.name === mount.name);
  assert.ok(volume?.configMap, `${w.metadata.name}: volume ${mount.name} is not a ConfigMap`);
  const key = volume.configMap.items?.find((i) => i.path === path.basename(file))?.key ?? path.basename(file);
  const text = one<ConfigMap>('ConfigMap', volume.configMap.name).data[key];
  assert.ok(text, `ConfigMap ${volume.configMap.name} has no key ${key}`);
  return text;
}

function configFor(w: Workload, podName: string): SiltConfig {
  return parseConfig(configText(w), envOf(containerOf(w), podName), `${w.metadata.name} (${podName})`);
}

function bytes(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
  assert.ok(m, `cannot read quantity ${quantity}`);
  const unit = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] ?? ''] ?? NaN;
  return Number(m[1]) * unit;
}

const selects = (selector: Labels, labels: Labels): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** A named or numbered port of the container, as a number. */
function portNumber(c: Container, port: string | number | undefined): number {
  if (typeof port === 'number') return port;
  const found = (c.ports ?? []).find((p) => p.name === port);
  assert.ok(found, `${c.name} has no port named ${String(port)}`);
  return found.containerPort;
}

describe('Kubernetes manifests', () => {
  it('parse, and leave the namespace to kubectl', () => {
    assert.deepEqual(objects.map((o) => o.kind).sort(),
      ['ConfigMap', 'Deployment', 'Ingress', 'PodDisruptionBudget', 'PodDisruptionBudget', 'PrometheusRule', 'Secret', 'Service', 'Service', 'Service', 'StatefulSet']);
    for (const o of objects) {
      assert.ok(o.apiVersion && o.metadata.name, `${o.file}: an object without apiVersion or name`);
      assert.equal(o.metadata.namespace, undefined, `${o.file}: ${o.kind} ${o.metadata.name} names a namespace`);
    }
  });

  it('govern the indexer StatefulSet by a headless Service that keeps not-ready pods in DNS', () => {
    const headless = one<Service>('Service', indexers.spec.serviceName ?? '');
    assert.equal(headless.spec.clusterIP, 'None');
    assert.equal(headless.spec.publishNotReadyAddresses, true);
    assert.ok(selects(headless.spec.selector, indexers.spec.template.metadata.labels));
  });

  it('make each indexer\'s pod name its node id, listed in ordinal order, reachable through the headless Service', () => {
    const c = containerOf(indexers);
    const id = c.env?.find((v) => v.name === 'SILT_NODE_ID');
    assert.equal(id?.valueFrom?.fieldRef?.fieldPath, 'metadata.name');
    for (const pod of podNames(indexers)) {
      const config = configFor(indexers, pod);
      assert.equal(config.distributed.node_id, pod);
      assert.deepEqual(config.distributed.indexer_cluster.nodes, podNames(indexers), 'nodes must be the StatefulSet\'s pods, in order');
      const url = new URL(config.distributed.indexer_cluster.address_template
        .replaceAll('{node_id}', pod).replaceAll('{port}', String(config.server.port)));
      assert.equal(url.hostname, `${pod}.${indexers.spec.serviceName}`, 'a pod\'s DNS name is <pod>.<headless service>');
      assert.equal(Number(url.port), portNumber(c, 'http'));
    }
  });

  for (const [role, w] of WORKLOADS) {
    describe(`${w.kind} ${w.metadata.name}`, () => {
      const c = containerOf(w);

      it('gets a configuration Silt accepts, with the role of the workload', () => {
        assert.equal(envOf(c, 'x').SILT_NODE_ROLE, role);
        for (const pod of podNames(w)) {
          const config = configFor(w, pod);
          assert.equal(config.distributed.enabled, true);
          assert.equal(config.distributed.role, role);
          assert.equal(config.distributed.node_id, pod);
          assert.equal(config.server.host, '0.0.0.0');
          const indexerConfig = configFor(indexers, `${indexers.metadata.name}-0`);
          assert.deepEqual(config.storage, indexerConfig.storage, 'every node must use the same bucket and prefix');
          assert.deepEqual(config.distributed.indexer_cluster, indexerConfig.distributed.indexer_cluster);
        }
        for (const v of c.env ?? []) {
          const ref = v.valueFrom?.secretKeyRef;
          if (ref) assert.equal(ref.name, v.name.startsWith('SILT_AUTH_') ? 'silt-auth' : 'silt-s3', v.name);
        }
      });

      it('listens, is probed and is served on server.port', () => {
        const config = configFor(w, podNames(w)[0]!);
        assert.equal(portNumber(c, 'http'), config.server.port);
        assert.equal(c.readinessProbe?.httpGet?.path, '/ready');
        assert.equal(c.livenessProbe?.httpGet?.path, '/health');
        for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
          if (probe) assert.equal(portNumber(c, probe.httpGet?.port), config.server.port);
        }
        const serving = all<Service>('Service').filter((s) => selects(s.spec.selector, w.spec.template.metadata.labels));
        assert.ok(serving.length > 0, 'no Service selects these pods');
        for (const s of serving) {
          for (const p of s.spec.ports) assert.equal(portNumber(c, p.targetPort ?? p.port), config.server.port, `Service ${s.metadata.name}`);
        }
      });

      it('mounts a cache volume larger than cache.disk_path\'s disk_size, and a writable /tmp', () => {
        const config = configFor(w, podNames(w)[0]!);
        const mount = (c.volumeMounts ?? []).find((m) => m.mountPath === config.cache.disk_path);
        assert.ok(mount, `nothing mounted at cache.disk_path ${config.cache.disk_path}`);
        const claim = w.spec.volumeClaimTemplates?.find((t) => t.metadata.name === mount.name);
        const emptyDir = w.spec.template.spec.volumes?.find((v) => v.name === mount.name)?.emptyDir;
        if (w.kind === 'StatefulSet') {
          assert.ok(claim, 'an indexer\'s cache is a volume claim, kept across restarts');
          assert.ok(bytes(claim.spec.resources.requests.storage) > config.cache.disk_size);
        } else {
          assert.ok(emptyDir?.sizeLimit, 'a query node\'s cache is an emptyDir with a sizeLimit');
          assert.ok(bytes(emptyDir.sizeLimit) > config.cache.disk_size, 'exceeding sizeLimit evicts the pod');
        }
        if (c.securityContext?.readOnlyRootFilesystem) {
          assert.ok((c.volumeMounts ?? []).some((m) => m.mountPath === '/tmp'), 'tsx needs a writable /tmp');
        }
        const pod = w.spec.template.spec.securityContext;
        assert.ok(pod?.runAsNonRoot && pod.runAsUser === pod.fsGroup, 'the volumes must be writable by the image\'s user');
      });

      it('gives Silt longer than preStop plus shutdown_timeout_secs to drain and flush', () => {
        const config = configFor(w, podNames(w)[0]!);
        const sleep = c.lifecycle?.preStop?.exec?.command;
        assert.equal(sleep?.[0], 'sleep', 'a preStop sleep lets endpoint removal propagate before SIGTERM');
        const grace = w.spec.template.spec.terminationGracePeriodSeconds ?? 30;
        assert.ok(grace > Number(sleep[1]) + config.server.shutdown_timeout_secs,
          `terminationGracePeriodSeconds ${grace} <= preStop ${sleep[1]} + shutdown_timeout_secs ${config.server.shutdown_timeout_secs}`);
      });

      it('requests resources and leaves memory above cache.memory_size', () => {
        const config = configFor(w, podNames(w)[0]!);
        const { requests, limits } = c.resources ?? {};
        assert.ok(requests?.cpu && requests.memory && limits?.memory);
        assert.ok(bytes(requests.memory) > config.cache.memory_size);
        assert.ok(bytes(limits.memory) >= bytes(requests.memory));
      });

      it('is selected by its own selector, a PodDisruptionBudget, and no other role\'s Service', () => {
        const labels = w.spec.template.metadata.labels;
        assert.ok(selects(w.spec.selector.matchLabels, labels));
        const budgets = all<Pdb>('PodDisruptionBudget').filter((p) => selects(p.spec.selector.matchLabels, labels));
        assert.equal(budgets.length, 1);
        const other = WORKLOADS.find(([r]) => r !== role)![1];
        assert.ok(!selects(budgets[0]!.spec.selector.matchLabels, other.spec.template.metadata.labels));
        if (role === 'indexer') assert.equal(budgets[0]!.spec.maxUnavailable, 1);
        else assert.ok(budgets[0]!.spec.minAvailable === 1 && w.spec.replicas > 1);
        for (const s of all<Service>('Service')) {
          assert.ok(!(selects(s.spec.selector, labels) && selects(s.spec.selector, other.spec.template.metadata.labels)),
            `Service ${s.metadata.name} selects both roles`);
        }
      });
    });
  }

  it('route queries to silt-query and everything else to the indexers, through existing Service ports', () => {
    const ingress = one<Ingress>('Ingress', 'silt');
    assert.equal(ingress.spec.ingressClassName, 'nginx');
    const annotations = ingress.metadata.annotations ?? {};
    assert.equal(annotations['nginx.ingress.kubernetes.io/use-regex'], 'true');
    const config = configFor(indexers, `${indexers.metadata.name}-0`);
    const body = bytes((annotations['nginx.ingress.kubernetes.io/proxy-body-size'] ?? '1m').replace(/m$/, 'Mi'));
    assert.ok(body >= config.server.body_limit_bytes);
    // Longer than an indexer waits for the owner of a forwarded write (the controller's default is 60 s).
    const read = Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'] ?? 60);
    assert.ok(read * 1000 > config.distributed.write_forward_timeout_ms);

    const paths = ingress.spec.rules.flatMap((r) => r.http.paths);
    for (const p of paths) {
      const svc = one<Service>('Service', p.backend.service.name);
      assert.ok(svc.spec.ports.some((sp) => sp.name === p.backend.service.port.name || sp.port === p.backend.service.port.number),
        `Service ${svc.metadata.name} has no port ${JSON.stringify(p.backend.service.port)}`);
      assert.notEqual(svc.spec.clusterIP, 'None', 'route clients to a load-balanced Service, not the headless one');
    }
    // ingress-nginx with use-regex: case-insensitive regexes anchored at the start, longest first.
    const route = (uri: string): string =>
      [...paths].sort((a, b) => b.path.length - a.path.length)
        .find((p) => new RegExp(`^${p.path}`, 'i').test(uri))?.backend.service.name ?? 'none';
    const served = (name: string): Workload =>
      WORKLOADS.find(([, w]) => selects(one<Service>('Service', name).spec.selector, w.spec.template.metadata.labels))![1];
    assert.equal(served(route('/v1/namespaces/my-docs/query')), queries);
    for (const uri of ['/v1/namespaces/my-docs/upsert', '/v1/namespaces/my-docs', '/v1/namespaces/my-docs/delete',
      '/v1/namespaces/my-docs/documents/query', '/v1/namespaces/query/upsert', '/health']) {
      assert.equal(served(route(uri)), indexers, uri);
    }
  });

  it('take the API keys and cluster token from Secret silt-auth, shipped empty so no pod serves without a key', () => {
    const secret = one<Secret>('Secret', 'silt-auth');
    const data = secret.stringData ?? {};
    assert.deepEqual(Object.keys(data).sort(), ['SILT_AUTH_API_KEYS', 'SILT_AUTH_CLUSTER_TOKEN', 'SILT_AUTH_READ_ONLY_KEYS']);
    assert.equal(secret.data, undefined);
    for (const [name, value] of Object.entries(data)) assert.equal(value, '', `${name}: never commit a key`);
    for (const [, w] of WORKLOADS) {
      const c = containerOf(w);
      for (const name of Object.keys(data)) {
        const ref = c.env?.find((v) => v.name === name)?.valueFrom?.secretKeyRef;
        assert.deepEqual(ref, { name: 'silt-auth', key: name }, `${w.metadata.name}: ${name} from silt-auth`);
      }
      for (const pod of podNames(w)) {
        // With the Secret filled in (envOf's fake values), every node starts and shares one token.
        const config = configFor(w, pod);
        assert.deepEqual(checkExposure(config), [], `${w.metadata.name}: would refuse to start`);
        assert.equal(config.auth.cluster_token, 'fake-SILT_AUTH_CLUSTER_TOKEN');
        assert.equal(config.auth.allow_anonymous, false, 'the ConfigMap must not turn authentication off');
        // As shipped (empty), a node refuses to start instead of serving anyone.
        const shipped = parseConfig(configText(w), { ...envOf(c, pod), ...data });
        assert.match(checkExposure(shipped).join('\n'), /no API key is set/);
      }
    }
    const text = [...objects.filter((o) => o.kind === 'ConfigMap')].map((o) => JSON.stringify(o)).join('');
    assert.doesNotMatch(text, /api_keys\s*=\s*\[\s*"/, 'keys belong in the Secret, not the ConfigMap');
  });

  it('use the Secret the README tells you to create', () => {
    const readme = readFileSync(path.join(ROOT, 'examples/distributed/README.md'), 'utf8');
    const keys = new Set(WORKLOADS.flatMap(([, w]) => (containerOf(w).env ?? [])
      .flatMap((v) => (v.valueFrom?.secretKeyRef?.name === 'silt-s3' ? v.valueFrom.secretKeyRef.key : []))));
    assert.match(readme, /kubectl (?:-n \S+ )?create secret generic silt-s3 /);
    for (const key of keys) assert.ok(readme.includes(`--from-literal=${key}=`), `README's secret lacks ${key}`);
    const auth = Object.keys(one<Secret>('Secret', 'silt-auth').stringData ?? {});
    assert.match(readme, /kubectl (?:-n \S+ )?create secret generic silt-auth /);
    for (const key of auth) assert.ok(readme.includes(`--from-literal=${key}=$(openssl rand -hex 32)`), `README's silt-auth lacks ${key}`);
    assert.match(readme, /curl -H "Authorization: Bearer \$KEY"/);
  });

  it('ship Prometheus rules that use only metrics the server exposes', () => {
    interface Rule { record?: string; alert?: string; expr: string; for?: string; labels?: Labels; annotations?: Record<string, string> }
    const rules = one<{ spec: { groups: { name: string; rules: Rule[] }[] } }>('PrometheusRule', 'silt');
    const all = rules.spec.groups.flatMap((g) => g.rules);
    assert.ok(all.filter((r) => r.alert).length >= 5, 'a handful of alerts');
    const used = new Set<string>();
    for (const rule of all) {
      assert.ok((rule.record ?? rule.alert) && rule.expr, `a rule without a name or expression: ${JSON.stringify(rule)}`);
      if (rule.alert) assert.ok(rule.labels?.severity && rule.annotations?.summary, `${rule.alert}: severity and summary`);
      // Metric names (recording rules' names have colons and are not metrics); histograms by their series.
      for (const [name] of rule.expr.matchAll(/\b(?:silt|process|nodejs)_[a-z0-9_]+/g)) {
        const metric = name.replace(/_(bucket|count|sum)$/, '');
        const base = ALL_METRICS[metric] === 'histogram' ? metric : name;
        assert.ok(base in ALL_METRICS, `${rule.record ?? rule.alert} uses ${name}, which the server does not expose`);
        used.add(base);
      }
    }
    assert.ok(used.size >= 8);
  });
});
