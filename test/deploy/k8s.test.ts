// The Kubernetes manifests (examples/distributed/k8s/), parsed, with the fields that decide whether
// the cluster works checked against each other and against Silt's config loader: node ids and
// DNS names, ports, probes, mounts, shutdown timing, selectors, Ingress routing, scraping and the
// kustomization. No cluster needed (kubectl kustomize renders offline).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { checkExposure, parseConfig } from '../../src/config/index.ts';
import { ALL_METRICS } from '../support/metrics.ts';
import {
  all, bytes, configFor, configText, containerOf, envOf, indexers, K8S, KUSTOMIZATION, MANIFESTS, objects, one, podNames, portNumber,
  queries, ROOT, selects, WORKLOADS, type ConfigMap, type Labels, type Ingress, type Pdb, type Secret, type Service, type Workload,
} from './k8s-manifests.ts';

describe('Kubernetes manifests', () => {
  it('parse, and leave the namespace to kubectl', () => {
    assert.deepEqual(objects.map((o) => o.kind).sort(),
      ['ConfigMap', 'Deployment', 'Ingress', 'PodDisruptionBudget', 'PodDisruptionBudget', 'PrometheusRule', 'Secret', 'Service', 'Service', 'Service',
        'ServiceMonitor', 'StatefulSet']);
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
          assert.ok((c.volumeMounts ?? []).some((m) => m.mountPath === '/tmp'), 'libraries write to os.tmpdir(): /tmp must be writable');
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

  it('are scraped by Prometheus: pod annotations, and a ServiceMonitor that reaches every pod once, on a public /metrics', () => {
    interface Monitor { spec: { selector: { matchLabels: Labels }; endpoints: { port: string; path?: string }[] } }
    const monitor = one<Monitor>('ServiceMonitor', 'silt');
    const scraped = all<Service>('Service').filter((s) => selects(monitor.spec.selector.matchLabels, s.metadata.labels ?? {}));
    for (const [, w] of WORKLOADS) {
      const c = containerOf(w);
      const config = configFor(w, podNames(w)[0]!);
      assert.equal(config.auth.metrics_public, true, `${w.metadata.name}: Prometheus sends no key`);
      const annotations = w.spec.template.metadata.annotations ?? {};
      assert.equal(annotations['prometheus.io/scrape'], 'true', w.metadata.name);
      assert.equal(Number(annotations['prometheus.io/port']), config.server.port, w.metadata.name);
      assert.equal(annotations['prometheus.io/path'], '/metrics', w.metadata.name);
      const through = scraped.filter((s) => selects(s.spec.selector, w.spec.template.metadata.labels));
      assert.equal(through.length, 1, `${w.metadata.name}: scraped through ${through.length} Services, not one`);
      for (const e of monitor.spec.endpoints) {
        assert.equal(e.path ?? '/metrics', '/metrics');
        const port = through[0]!.spec.ports.find((p) => p.name === e.port);
        assert.ok(port, `Service ${through[0]!.metadata.name} has no port ${e.port}`);
        assert.equal(portNumber(c, port.targetPort ?? port.port), config.server.port);
      }
    }
  });

  it('are listed in kustomization.yaml (all but the empty Secret), which renders them with the pinned image', () => {
    const k = parseYaml(readFileSync(path.join(K8S, KUSTOMIZATION), 'utf8')) as { resources: string[]; images: { name: string; newTag: string }[] };
    assert.deepEqual([...k.resources].sort(), MANIFESTS.filter((f) => f !== 'secret.yaml'), 'a manifest is missing from kustomization.yaml');
    const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    assert.deepEqual(k.images, [{ name: 'silt', newTag: version }]);
    const run = spawnSync('kubectl', ['kustomize', K8S], { encoding: 'utf8' });
    assert.ok(!run.error, 'kubectl is not installed; this test needs it (kubectl kustomize renders offline)');
    assert.equal(run.status, 0, run.stderr);
    const rendered = parseAllDocuments(run.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
    const expected = objects.filter((o) => o.file !== 'secret.yaml');
    assert.deepEqual(rendered.map((o) => `${o.kind}/${o.metadata.name}`).sort(), expected.map((o) => `${o.kind}/${o.metadata.name}`).sort());
    for (const [, w] of WORKLOADS) {
      const r = rendered.find((o) => o.kind === w.kind && o.metadata.name === w.metadata.name) as unknown as Workload;
      assert.equal(containerOf(r).image, `silt:${version}`);
      assert.equal(containerOf(w).image, `silt:${version}`, 'the manifests pin the same version without kustomize');
    }
  });
});
