// Parses and checks a namespace schema from the JSON of PUT /v1/namespaces/:ns.
import { Errors } from '../errors.ts';
import { nameRecord, ownValue } from './records.ts';
import type {
  AttributeSchema,
  AttributeType,
  FullTextOptions,
  NamespaceSchema,
  VectorMetric,
} from './types.ts';

const NAMESPACE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;
const ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
const METRICS: readonly VectorMetric[] = ['cosine', 'l2', 'dot'];
const TYPES: readonly AttributeType[] = [
  'string', 'integer', 'float', 'boolean', 'array<string>', 'array<integer>',
];
export const MAX_VECTOR_DIM = 16384;

export const DEFAULT_FULL_TEXT: Readonly<FullTextOptions> = Object.freeze({
  language: 'english',
  stemming: true,
  remove_stopwords: true,
  case_sensitive: false,
  k1: 1.2,
  b: 0.75,
});

export function checkNamespaceName(name: string): void {
  if (!NAMESPACE_NAME.test(name)) throw Errors.invalidNamespaceName(name);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rejectUnknownKeys(obj: Record<string, unknown>, allowed: readonly string[], path: string) {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw Errors.invalidSchema(`${path}.${key}`, `unknown field; allowed fields are ${allowed.join(', ')}`);
    }
  }
}

function parseFullText(value: unknown, type: AttributeType, path: string): FullTextOptions | null {
  if (value === undefined || value === false) return null;
  if (type !== 'string' && type !== 'array<string>') {
    throw Errors.invalidSchema(path, `full_text needs a string or array<string> attribute, not ${type}`);
  }
  if (value === true) return { ...DEFAULT_FULL_TEXT };
  if (!isRecord(value)) throw Errors.invalidSchema(path, 'must be true, false or an options object');
  rejectUnknownKeys(value, ['language', 'stemming', 'remove_stopwords', 'case_sensitive', 'k1', 'b'], path);
  const opts: FullTextOptions = { ...DEFAULT_FULL_TEXT };
  if (value.language !== undefined) {
    if (value.language !== 'english' && value.language !== 'none') {
      throw Errors.invalidSchema(`${path}.language`, `must be "english" or "none", got ${JSON.stringify(value.language)}`);
    }
    opts.language = value.language;
    if (value.language === 'none') {
      opts.stemming = false;
      opts.remove_stopwords = false;
    }
  }
  for (const flag of ['stemming', 'remove_stopwords', 'case_sensitive'] as const) {
    const v = value[flag];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw Errors.invalidSchema(`${path}.${flag}`, 'must be true or false');
    opts[flag] = v;
  }
  if (opts.language === 'none' && (opts.stemming || opts.remove_stopwords)) {
    throw Errors.invalidSchema(path, 'stemming and remove_stopwords need language "english"');
  }
  if (value.k1 !== undefined) {
    if (typeof value.k1 !== 'number' || !(value.k1 >= 0) || value.k1 > 10) {
      throw Errors.invalidSchema(`${path}.k1`, 'must be a number between 0 and 10');
    }
    opts.k1 = value.k1;
  }
  if (value.b !== undefined) {
    if (typeof value.b !== 'number' || !(value.b >= 0) || value.b > 1) {
      throw Errors.invalidSchema(`${path}.b`, 'must be a number between 0 and 1');
    }
    opts.b = value.b;
  }
  return opts;
}

function parseAttribute(value: unknown, path: string): AttributeSchema {
  if (typeof value === 'string') value = { type: value };
  if (!isRecord(value)) throw Errors.invalidSchema(path, 'must be an object like {"type": "string"}');
  rejectUnknownKeys(value, ['type', 'full_text', 'filterable'], path);
  const type = value.type;
  if (typeof type !== 'string' || !TYPES.includes(type as AttributeType)) {
    throw Errors.invalidSchema(`${path}.type`, `must be one of ${TYPES.join(', ')}; got ${JSON.stringify(type)}`);
  }
  const full_text = parseFullText(value.full_text, type as AttributeType, `${path}.full_text`);
  let filterable = true;
  if (value.filterable !== undefined) {
    if (typeof value.filterable !== 'boolean') throw Errors.invalidSchema(`${path}.filterable`, 'must be true or false');
    filterable = value.filterable;
  }
  return { type: type as AttributeType, full_text, filterable };
}

/** Accepts the guide's body, or the same wrapped as {"schema": {...}}. */
export function parseNamespaceSchema(body: unknown): NamespaceSchema {
  if (isRecord(body) && isRecord(body.schema) && Object.keys(body).length === 1) body = body.schema;
  if (!isRecord(body)) throw Errors.invalidSchema('body', 'must be a JSON object with vector_dim, vector_metric and attributes');
  rejectUnknownKeys(body, ['vector_dim', 'vector_metric', 'attributes'], 'schema');
  const dim = body.vector_dim;
  if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 1 || dim > MAX_VECTOR_DIM) {
    throw Errors.invalidSchema('schema.vector_dim', `must be an integer from 1 to ${MAX_VECTOR_DIM}; got ${JSON.stringify(dim)}`);
  }
  const metric = body.vector_metric ?? 'cosine';
  if (typeof metric !== 'string' || !METRICS.includes(metric as VectorMetric)) {
    throw Errors.invalidSchema('schema.vector_metric', `must be one of ${METRICS.join(', ')}; got ${JSON.stringify(metric)}`);
  }
  const attributes = nameRecord<AttributeSchema>();
  const rawAttributes = body.attributes ?? {};
  if (!isRecord(rawAttributes)) throw Errors.invalidSchema('schema.attributes', 'must be an object of name → {type, full_text?, filterable?}');
  for (const [name, value] of Object.entries(rawAttributes)) {
    if (!ATTRIBUTE_NAME.test(name) || name === 'id') {
      throw Errors.invalidSchema(`schema.attributes.${name}`, 'attribute names use [A-Za-z0-9_.-], start with a letter or _, are at most 128 characters, and "id" is reserved');
    }
    attributes[name] = parseAttribute(value, `schema.attributes.${name}`);
  }
  return { vector_dim: dim, vector_metric: metric as VectorMetric, attributes };
}

/** A short description of the first difference, or null when the schemas are equal. */
export function schemaDifference(a: NamespaceSchema, b: NamespaceSchema): string | null {
  if (a.vector_dim !== b.vector_dim) return `vector_dim ${a.vector_dim} vs ${b.vector_dim}`;
  if (a.vector_metric !== b.vector_metric) return `vector_metric ${a.vector_metric} vs ${b.vector_metric}`;
  const names = new Set([...Object.keys(a.attributes), ...Object.keys(b.attributes)]);
  for (const name of names) {
    const x = ownValue(a.attributes, name);
    const y = ownValue(b.attributes, name);
    if (!x || !y) return `attribute '${name}' is only in one of them`;
    if (JSON.stringify(x) !== JSON.stringify(y)) return `attribute '${name}' differs`;
  }
  return null;
}
