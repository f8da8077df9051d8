// Parses POST /v1/namespaces/:ns/query bodies into a checked, compiled query.
import { Errors } from '../errors.ts';
import type { NamespaceSchema } from '../schema/types.ts';
import { checkUnicode, parseVector } from '../schema/document.ts';
import { ownValue } from '../schema/records.ts';
import { compileFilter, FilterError, type CompiledFilter } from './filter/index.ts';

export interface TextField {
  field: string;
  weight: number;
}

export interface ParsedQuery {
  vector: Float32Array | null;
  topK: number;
  filter: CompiledFilter | null;
  fullText: { fields: TextField[]; query: string; weight: number } | null;
  vectorWeight: number;
  includeVector: boolean;
  /** true = all, false = none, or the names to return. */
  includeAttributes: boolean | string[];
  /** HNSW search breadth override (segments only). */
  ef: number | null;
  /** IVF clusters probed (of all IVF segments together without a filter, per segment with one: executor.ts); derived from ef when null. */
  nprobe: number | null;
  consistency: 'strong' | 'eventual';
}

export interface QueryLimits {
  default_top_k: number;
  max_top_k: number;
}

const KEYS = [
  'vector', 'top_k', 'filter', 'filters', 'full_text', 'include_vector', 'include_attributes',
  'vector_weight', 'ef', 'nprobe', 'consistency',
];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function weightOf(v: unknown, path: string): number {
  if (v === undefined) return 1;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw Errors.invalidQuery(path, 'weight must be a non-negative number');
  }
  return v;
}

function textFieldOf(name: unknown, schema: NamespaceSchema, path: string): string {
  if (typeof name !== 'string') throw Errors.invalidQuery(path, 'must be the name of a full-text attribute');
  const attr = ownValue(schema.attributes, name);
  const fullText = Object.entries(schema.attributes).filter(([, a]) => a.full_text).map(([n]) => n);
  if (!attr || !attr.full_text) {
    throw Errors.invalidQuery(path, `'${name}' is not a full-text attribute${fullText.length ? `; full-text attributes are ${fullText.join(', ')}` : '; declare one with "full_text": true in the schema'}`);
  }
  return name;
}

function parseFullText(raw: unknown, schema: NamespaceSchema): ParsedQuery['fullText'] {
  if (raw === undefined || raw === null) return null;
  if (!isRecord(raw)) throw Errors.invalidQuery('full_text', 'must be {"field", "query", "weight"?} or {"fields": [...], "query", "weights"?}');
  for (const key of Object.keys(raw)) {
    if (!['field', 'fields', 'query', 'weight', 'weights'].includes(key)) {
      throw Errors.invalidQuery(`full_text.${key}`, 'unknown field; use field or fields, query, weight, weights');
    }
  }
  if (typeof raw.query !== 'string') throw Errors.invalidQuery('full_text.query', 'must be a string');
  checkUnicode(raw.query, 'full_text.query', Errors.invalidQuery);
  const weight = weightOf(raw.weight, 'full_text.weight');
  let fields: TextField[];
  if (raw.field !== undefined) {
    if (raw.fields !== undefined) throw Errors.invalidQuery('full_text', 'give either field or fields, not both');
    fields = [{ field: textFieldOf(raw.field, schema, 'full_text.field'), weight: 1 }];
  } else if (Array.isArray(raw.fields) && raw.fields.length > 0) {
    const weights = raw.weights ?? {};
    if (!isRecord(weights)) throw Errors.invalidQuery('full_text.weights', 'must be an object of field name → weight');
    for (const name of Object.keys(weights)) {
      if (!raw.fields.includes(name)) throw Errors.invalidQuery(`full_text.weights.${name}`, 'is not one of full_text.fields');
    }
    fields = raw.fields.map((f, i) => ({
      field: textFieldOf(f, schema, `full_text.fields[${i}]`),
      weight: weightOf(ownValue(weights, f as string), `full_text.weights.${String(f)}`),
    }));
  } else {
    throw Errors.invalidQuery('full_text', 'needs "field" (a full-text attribute) or a non-empty "fields" list');
  }
  return { fields, query: raw.query, weight };
}

export function parseQuery(body: unknown, schema: NamespaceSchema, ns: string, limits: QueryLimits): ParsedQuery {
  if (!isRecord(body)) throw Errors.invalidQuery('body', 'must be a JSON object');
  for (const key of Object.keys(body)) {
    if (!KEYS.includes(key)) throw Errors.invalidQuery(key, `unknown field; allowed fields are ${KEYS.join(', ')}`);
  }
  const vector = body.vector === undefined || body.vector === null
    ? null
    : parseVector(body.vector, schema, ns, 'vector');
  const fullText = parseFullText(body.full_text, schema);
  if (!vector && !fullText) {
    throw Errors.invalidQuery('body', 'give at least one of "vector" or "full_text"');
  }
  let topK = limits.default_top_k;
  if (body.top_k !== undefined) {
    if (typeof body.top_k !== 'number' || !Number.isInteger(body.top_k) || body.top_k < 1) {
      throw Errors.invalidQuery('top_k', 'must be a positive integer');
    }
    if (body.top_k > limits.max_top_k) throw Errors.topKTooLarge(body.top_k, limits.max_top_k);
    topK = body.top_k;
  }
  if (body.filter !== undefined && body.filters !== undefined) {
    throw Errors.invalidQuery('filter', 'give either filter or filters, not both');
  }
  const rawFilter = body.filter ?? body.filters;
  let filter: CompiledFilter | null = null;
  if (rawFilter !== undefined && rawFilter !== null) {
    try {
      filter = compileFilter(rawFilter, schema, body.filter !== undefined ? 'filter' : 'filters');
    } catch (e) {
      if (e instanceof FilterError) throw Errors.invalidFilter(e.message);
      throw e;
    }
  }
  const flag = (key: string, dflt: boolean): boolean => {
    const v = body[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') throw Errors.invalidQuery(key, 'must be true or false');
    return v;
  };
  let includeAttributes: boolean | string[] = true;
  if (Array.isArray(body.include_attributes)) {
    includeAttributes = body.include_attributes.map((name, i) => {
      if (typeof name !== 'string' || ownValue(schema.attributes, name) === undefined) {
        throw Errors.invalidQuery(`include_attributes[${i}]`, `namespace '${ns}' has no attribute ${JSON.stringify(name)}`);
      }
      return name;
    });
  } else {
    includeAttributes = flag('include_attributes', true);
  }
  let ef: number | null = null;
  if (body.ef !== undefined) {
    if (typeof body.ef !== 'number' || !Number.isInteger(body.ef) || body.ef < 1 || body.ef > 10_000) {
      throw Errors.invalidQuery('ef', 'must be an integer from 1 to 10000');
    }
    ef = body.ef;
  }
  let nprobe: number | null = null;
  if (body.nprobe !== undefined) {
    if (typeof body.nprobe !== 'number' || !Number.isInteger(body.nprobe) || body.nprobe < 1 || body.nprobe > 100_000) {
      throw Errors.invalidQuery('nprobe', 'must be an integer from 1 to 100000');
    }
    nprobe = body.nprobe;
  }
  const consistency = body.consistency ?? 'strong';
  if (consistency !== 'strong' && consistency !== 'eventual') {
    throw Errors.invalidQuery('consistency', 'must be "strong" or "eventual"');
  }
  if (body.vector_weight !== undefined && !vector) {
    throw Errors.invalidQuery('vector_weight', 'only applies together with "vector"');
  }
  return {
    vector,
    topK,
    filter,
    fullText,
    vectorWeight: weightOf(body.vector_weight, 'vector_weight'),
    includeVector: flag('include_vector', false),
    includeAttributes,
    ef,
    nprobe,
    consistency,
  };
}
