// turbopuffer schemas on Silt's (the type table is src/schema/turbopuffer.ts): a declared
// `schema` parsed, types inferred from the values a write sends, both merged into the
// namespace's schema. Attributes may be added at any time; a type never changes (409), and of
// the flags only `filterable` may change, since full-text indexes are built when rows are written.
import { Errors } from '../errors.ts';
import { DEFAULT_FULL_TEXT } from '../schema/parse.ts';
import { nameRecord, ownValue } from '../schema/records.ts';
import { REFUSED_TYPES, TURBOPUFFER_METRICS, TURBOPUFFER_TYPES, turbopufferTypeName, vectorTypeDim, type MappedType } from '../schema/turbopuffer.ts';
import type { AttributeSchema, FullTextOptions, NamespaceSchema, VectorMetric } from '../schema/types.ts';
import { MAX_VECTOR_DIM } from '../schema/parse.ts';

const ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;

/** What a request asks of the schema: declared attributes and those its values imply. */
export interface WantedSchema {
  attributes: Map<string, WantedAttribute>;
  vectorDim?: number;
  metric?: VectorMetric;
  idType?: NonNullable<NamespaceSchema['id_type']>;
}

export interface WantedAttribute {
  mapped: MappedType;
  /** From an explicit `schema` (its flags count), or inferred from a value (only its type does). */
  declared: boolean;
  full_text: FullTextOptions | null;
  filterable?: boolean;
}

export function emptyWanted(): WantedSchema {
  return { attributes: new Map() };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function refused(path: string, what: string): Error {
  return Errors.turbopufferUnsupported(path, what);
}

export function checkAttributeName(name: string, path: string): void {
  if (!ATTRIBUTE_NAME.test(name)) {
    throw Errors.invalidSchema(path, 'attribute names use [A-Za-z0-9_.-], start with a letter or _, and are at most 128 characters');
  }
}

/** turbopuffer's full_text_search (true, false or options) as Silt's full_text; turbopuffer's defaults. */
export function parseFullTextSearch(value: unknown, path: string): FullTextOptions | null {
  if (value === undefined || value === false || value === null) return null;
  // turbopuffer does not stem by default; Silt's own full_text: true does.
  const opts: FullTextOptions = { ...DEFAULT_FULL_TEXT, stemming: false };
  if (value === true) return opts;
  if (!isRecord(value)) throw Errors.invalidSchema(path, 'must be true, false or an object of full-text options');
  let language = 'english';
  for (const [key, v] of Object.entries(value)) {
    const at = `${path}.${key}`;
    switch (key) {
      case 'language':
        if (typeof v !== 'string') throw Errors.invalidSchema(at, 'must be a language name such as "english"');
        language = v;
        break;
      case 'stemming': case 'remove_stopwords': case 'case_sensitive':
        if (typeof v !== 'boolean') throw Errors.invalidSchema(at, 'must be true or false');
        opts[key] = v;
        break;
      case 'k1':
        if (typeof v !== 'number' || !(v >= 0) || v > 10) throw Errors.invalidSchema(at, 'must be a number between 0 and 10');
        opts.k1 = v;
        break;
      case 'b':
        if (typeof v !== 'number' || !(v >= 0) || v > 1) throw Errors.invalidSchema(at, 'must be a number between 0 and 1');
        opts.b = v;
        break;
      case 'ascii_folding':
        if (v !== false) throw refused(at, 'ASCII folding is not supported; leave it false');
        break;
      case 'max_token_length':
        // Silt splits tokens at 255 characters instead of dropping long ones (docs/turbopuffer.md).
        if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 254) throw Errors.invalidSchema(at, 'must be an integer from 1 to 254');
        break;
      case 'tokenizer':
        if (v !== 'word_v4' && v !== 'word_v3' && v !== 'word_v2' && v !== 'word_v1') {
          throw refused(at, `tokenizer ${JSON.stringify(v)} is not supported; Silt tokenizes words by Unicode rules (word_v1 to word_v4)`);
        }
        break;
      default:
        throw Errors.invalidSchema(at, 'unknown full_text_search option');
    }
  }
  if (language !== 'english') {
    if (opts.stemming || opts.remove_stopwords) {
      throw refused(`${path}.language`, `Silt stems and removes stop words for English only; for ${JSON.stringify(language)} set stemming: false and remove_stopwords: false`);
    }
    opts.language = 'none';
  }
  return opts;
}

/** One entry of a declared schema into `wanted` (`id` and vector entries included). */
function addDeclared(wanted: WantedSchema, name: string, value: unknown, path: string): void {
  const config = typeof value === 'string' ? { type: value } : value;
  if (!isRecord(config)) throw Errors.invalidSchema(path, 'must be a type name such as "string" or {"type": …}');
  const type = config.type;
  if (typeof type !== 'string') throw Errors.invalidSchema(`${path}.type`, 'must be a type name such as "string", "uint" or "[768]f32"');
  if (name === 'id') {
    if (type !== 'uint' && type !== 'string' && type !== 'uuid') throw Errors.invalidSchema(`${path}.type`, 'id is uint, string or uuid');
    wanted.idType = type;
    return;
  }
  const dim = vectorTypeDim(type);
  if (dim !== null) {
    if (name !== 'vector') throw refused(path, 'a namespace has one vector attribute, named "vector"');
    if (dim < 1 || dim > MAX_VECTOR_DIM) throw Errors.invalidSchema(`${path}.type`, `dimensions must be from 1 to ${MAX_VECTOR_DIM}`);
    wanted.vectorDim = dim;
    const ann = config.ann;
    if (isRecord(ann) && ann.distance_metric !== undefined) wanted.metric = parseMetric(ann.distance_metric, `${path}.ann.distance_metric`);
    return;
  }
  if (name === 'vector') throw Errors.invalidSchema(`${path}.type`, 'vector is [N]f32 or [N]f16');
  checkAttributeName(name, path);
  const mapped = mappedType(type, `${path}.type`);
  for (const key of Object.keys(config)) {
    if (key === 'embed' || key === 'sparse_knn' || key === 'ann') throw refused(`${path}.${key}`, 'not supported');
    if (key === 'fuzzy' && config.fuzzy !== false) throw refused(`${path}.fuzzy`, 'Fuzzy filters are not supported');
    if (!['type', 'filterable', 'full_text_search', 'glob', 'regex', 'fuzzy'].includes(key)) throw Errors.invalidSchema(`${path}.${key}`, 'unknown attribute option');
  }
  const full_text = parseFullTextSearch(config.full_text_search, `${path}.full_text_search`);
  if (full_text && mapped.type !== 'string' && mapped.type !== 'array<string>') {
    throw Errors.invalidSchema(`${path}.full_text_search`, `needs a string or []string attribute, not ${type}`);
  }
  if (config.filterable !== undefined && typeof config.filterable !== 'boolean') throw Errors.invalidSchema(`${path}.filterable`, 'must be true or false');
  wanted.attributes.set(name, {
    mapped, declared: true, full_text,
    // turbopuffer: full-text attributes are not filterable unless asked.
    filterable: (config.filterable as boolean | undefined) ?? !full_text,
  });
}

export function parseMetric(value: unknown, path: string): VectorMetric {
  if (typeof value !== 'string' || !Object.hasOwn(TURBOPUFFER_METRICS, value)) {
    throw Errors.invalidSchema(path, `must be "cosine_distance" or "euclidean_squared", got ${JSON.stringify(value)}`);
  }
  return TURBOPUFFER_METRICS[value]!;
}

function mappedType(type: string, path: string): MappedType {
  const mapped = ownValue(TURBOPUFFER_TYPES, type);
  if (mapped) return mapped;
  const why = ownValue(REFUSED_TYPES, type);
  if (why) throw refused(path, `type ${type} is not supported: ${why}`);
  throw Errors.invalidSchema(path, `unknown type ${JSON.stringify(type)}; use string, int, uint, float, bool, uuid, datetime, their [] arrays, or [N]f32`);
}

/** A `schema` object (write body or POST /v1/namespaces/:ns/schema) into `wanted`. */
export function parseDeclaredSchema(raw: unknown, path: string, wanted: WantedSchema = emptyWanted()): WantedSchema {
  if (raw === undefined || raw === null) return wanted;
  if (!isRecord(raw)) throw Errors.invalidSchema(path, 'must be an object of attribute name → type or {"type": …}');
  for (const [name, value] of Object.entries(raw)) addDeclared(wanted, name, value, `${path}.${name}`);
  return wanted;
}

/** The type a value implies, as turbopuffer infers it; null when it implies none (null, []). */
export function inferType(value: unknown, path: string): MappedType | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return TURBOPUFFER_TYPES.string!;
  if (typeof value === 'boolean') return TURBOPUFFER_TYPES.bool!;
  if (typeof value === 'number') return Number.isInteger(value) ? TURBOPUFFER_TYPES.int! : TURBOPUFFER_TYPES.float!;
  if (Array.isArray(value)) {
    if (value.length === 0) return null;
    if (value.every((v) => typeof v === 'string')) return TURBOPUFFER_TYPES['[]string']!;
    if (value.every((v) => Number.isInteger(v))) return TURBOPUFFER_TYPES['[]int']!;
    if (value.every((v) => typeof v === 'number')) throw refused(path, `an array of floats is not supported: ${REFUSED_TYPES['[]float']}`);
    if (value.every((v) => typeof v === 'boolean')) throw refused(path, `an array of booleans is not supported: ${REFUSED_TYPES['[]bool']}`);
    throw Errors.invalidDocument(path, 'array elements must all be strings or all integers');
  }
  throw Errors.invalidDocument(path, 'attribute values are strings, numbers, booleans, arrays of them, or null');
}

/** Records that attribute `name` got `value`; ints and floats in one request make a float. */
export function addInferred(wanted: WantedSchema, name: string, value: unknown, path: string): void {
  const mapped = inferType(value, path);
  if (mapped === null) return;
  const seen = wanted.attributes.get(name);
  if (!seen) {
    checkAttributeName(name, path);
    wanted.attributes.set(name, { mapped, declared: false, full_text: null });
    return;
  }
  if (sameStorage(seen.mapped, mapped)) return;
  if (!seen.declared && seen.mapped.type === 'integer' && mapped.type === 'float') {
    seen.mapped = mapped;
    return;
  }
  if (!seen.declared) throw Errors.invalidDocument(path, `attribute '${name}' gets both ${turbopufferTypeName(seen.mapped)} and ${turbopufferTypeName(mapped)} values in this request`);
}

/** True when a value inferred as `b` can be stored in an attribute of type `a`. */
function sameStorage(a: MappedType, b: MappedType): boolean {
  // A datetime may also be sent as milliseconds since 1970 (write-body.ts canonicalDatetime).
  return a.type === b.type || (a.type === 'float' && b.type === 'integer') || (a.logical === 'datetime' && b.type === 'integer');
}

/** A new namespace's schema from what its first write wants. */
export function initialSchema(wanted: WantedSchema, firstId: unknown): NamespaceSchema {
  const attributes = nameRecord<AttributeSchema>();
  for (const [name, w] of wanted.attributes) attributes[name] = newAttribute(w);
  const idType = wanted.idType ?? (typeof firstId === 'number' ? 'uint' : 'string');
  return { vector_dim: wanted.vectorDim ?? 0, vector_metric: wanted.metric ?? 'cosine', attributes, id_type: idType };
}

function newAttribute(w: WantedAttribute): AttributeSchema {
  return {
    type: w.mapped.type,
    ...(w.mapped.logical ? { logical: w.mapped.logical } : {}),
    full_text: w.full_text,
    filterable: w.filterable ?? true,
  };
}

/**
 * `current` with what `wanted` adds or changes, or null when it changes nothing. A type
 * change, a vector of another size, another metric or a full-text change is a 409.
 */
export function extendSchema(ns: string, current: NamespaceSchema, wanted: WantedSchema): NamespaceSchema | null {
  const conflict = (what: string) => Errors.turbopufferSchemaConflict(ns, what);
  if (wanted.vectorDim !== undefined && wanted.vectorDim !== current.vector_dim) {
    throw conflict(current.vector_dim === 0
      ? `it was created without vectors, and this write has ${wanted.vectorDim}-dimensional ones; write vectors into a new namespace`
      : `its vectors are [${current.vector_dim}]f32, and this write has [${wanted.vectorDim}]f32`);
  }
  if (wanted.metric !== undefined && wanted.metric !== current.vector_metric && current.vector_dim > 0) {
    throw conflict(`its distance_metric is ${current.vector_metric === 'l2' ? 'euclidean_squared' : current.vector_metric === 'cosine' ? 'cosine_distance' : current.vector_metric}; it cannot change`);
  }
  if (wanted.idType !== undefined && current.id_type !== undefined && wanted.idType !== current.id_type) {
    throw conflict(`its ids are ${current.id_type}, and this write declares ${wanted.idType}`);
  }
  let next: NamespaceSchema | null = null;
  const edit = (): NamespaceSchema => {
    next ??= { ...current, attributes: Object.assign(nameRecord<AttributeSchema>(), current.attributes) };
    return next;
  };
  for (const [name, w] of wanted.attributes) {
    const have = ownValue(current.attributes, name);
    if (!have) {
      edit().attributes[name] = newAttribute(w);
      continue;
    }
    const typeName = turbopufferTypeName(have);
    if (w.declared ? (have.type !== w.mapped.type || have.logical !== w.mapped.logical) : !sameStorage(have, w.mapped)) {
      throw conflict(`attribute '${name}' is ${typeName}, and this write gives it ${turbopufferTypeName(w.mapped)}; attribute types cannot change`);
    }
    if (!w.declared) continue;
    if (JSON.stringify(have.full_text) !== JSON.stringify(w.full_text)) {
      throw conflict(`full_text_search of attribute '${name}' cannot change once it exists (its rows are indexed as they are written)`);
    }
    if (w.filterable !== undefined && w.filterable !== have.filterable) edit().attributes[name] = { ...have, filterable: w.filterable };
  }
  if (wanted.idType !== undefined && current.id_type === undefined) edit().id_type = wanted.idType;
  return next;
}
