// The Kubernetes manifests of examples/distributed/k8s/, parsed, and what the tests read from
// them: objects by kind and name, a container's environment and the Silt config it would load.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { parseConfig, type SiltConfig } from '../../src/config/index.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const K8S = path.join(ROOT, 'examples/distributed/k8s');

export type Labels = Record<string, string>;
export interface Meta { name: string; namespace?: string; labels?: Labels; annotations?: Record<string, string> }
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
}
export interface Probe { httpGet?: { path: string; port: string | number } }
export interface Mount { name: string; mountPath: string; readOnly?: boolean; subPath?: string }
export interface Container {
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
export interface Volume {
  name: string;
  configMap?: { name: string; items?: { key: string; path: string }[] };
  emptyDir?: { sizeLimit?: string };
}
export interface Workload {
  kind: 'StatefulSet' | 'Deployment';
  metadata: Meta;
  spec: {
    replicas: number;
    serviceName?: string;
    selector: { matchLabels: Labels };
    template: {
      metadata: { labels: Labels; annotations?: Record<string, string> };
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
export interface Service {
  metadata: Meta;
  spec: { clusterIP?: string; publishNotReadyAddresses?: boolean; selector: Labels; ports: { name?: string; port: number; targetPort?: number | string }[] };
}
export interface Backend { service: { name: string; port: { name?: string; number?: number } } }
export interface Ingress {
  metadata: Meta;
  spec: { ingressClassName?: string; rules: { http: { paths: { path: string; pathType: string; backend: Backend }[] } }[] };
}
export interface Pdb { metadata: Meta; spec: { selector: { matchLabels: Labels }; maxUnavailable?: number; minAvailable?: number } }
export interface ConfigMap { metadata: Meta; data: Record<string, string> }
export interface Secret { metadata: Meta; type?: string; stringData?: Record<string, string>; data?: Record<string, string> }
export interface K8sObject { apiVersion: string; kind: string; metadata: Meta; file: string }

/** kustomization.yaml is kustomize's input, not an object for the cluster. */
export const KUSTOMIZATION = 'kustomization.yaml';
export const MANIFESTS = readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== KUSTOMIZATION).sort();
export const objects: K8sObject[] = MANIFESTS.flatMap((file) =>
  parseAllDocuments(readFileSync(path.join(K8S, file), 'utf8')).map((doc) => {
    assert.deepEqual(doc.errors.map(String), [], `${file} does not parse`);
    return { ...(doc.toJS() as Omit<K8sObject, 'file'>), file };
  }));

export function one<T>(kind: string, name: string): T {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  assert.equal(found.length, 1, `expected one ${kind} ${name}, found ${found.length}`);
  return found[0] as unknown as T;
}
export const all = <T>(kind: string): T[] => objects.filter((o) => o.kind === kind) as unknown as T[];

export const indexers = one<Workload>('StatefulSet', 'silt-indexer');
export const queries = one<Workload>('Deployment', 'silt-query');
export const WORKLOADS: [role: 'indexer' | 'query', w: Workload][] = [['indexer', indexers], ['query', queries]];

export const containerOf = (w: Workload): Container => {
  assert.equal(w.spec.template.spec.containers.length, 1, `${w.metadata.name}: one container`);
  return w.spec.template.spec.containers[0]!;
};

/** Pod names the workload's pods get (all of a StatefulSet's; a typical one of a Deployment's). */
export const podNames = (w: Workload): string[] =>
  w.kind === 'StatefulSet'
    ? Array.from({ length: w.spec.replicas }, (_, i) => `${w.metadata.name}-${i}`)
    : [`${w.metadata.name}-6c9d8f7b5d-x2k4q`];

/** The container's environment as the kubelet would give it, with fake values for Secrets. */
export function envOf(c: Container, podName: string): Record<string, string> {
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
export function configPath(c: Container): string {
  const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
  assert.ok(cmd, 'Dockerfile has no exec-form CMD');
  const command = c.command ?? (JSON.parse(cmd) as string[]);
  assert.deepEqual(command, JSON.parse(cmd), 'the manifest runs the image\'s command');
  const at = command.indexOf('--config');
  assert.ok(at >= 0 && command[at + 1]);
  return command[at + 1]!;
}

/** The TOML the container sees at its --config path, followed through its mount and ConfigMap. */
export function configText(w: Workload): string {
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

export function configFor(w: Workload, podName: string): SiltConfig {
  return parseConfig(configText(w), envOf(containerOf(w), podName), `${w.metadata.name} (${podName})`);
}

export function bytes(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
  assert.ok(m, `cannot read quantity ${quantity}`);
  const unit = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] ?? ''] ?? NaN;
  return Number(m[1]) * unit;
}

export const selects = (selector: Labels, labels: Labels): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** A named or numbered port of the container, as a number. */
export function portNumber(c: Container, port: string | number | undefined): number {
  if (typeof port === 'number') return port;
  const found = (c.ports ?? []).find((p) => p.name === port);
  assert.ok(found, `${c.name} has no port named ${String(port)}`);
  return found.containerPort;
}

