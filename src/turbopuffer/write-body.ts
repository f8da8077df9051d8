// The body of turbopuffer's write, POST /v2/namespaces/:ns, in two steps: `readWriteBody` checks
// its shape and collects what the schema must hold (before the namespace exists, perhaps), then
// `compileWrite` turns it into documents, patches and filters against the namespace's schema.
// Every check runs before anything is written, so a 4xx leaves nothing behind.
import { Errors } from '../errors.ts';
import { FilterError, compileFilterNode, type CompiledFilter } from '../query/filter/index.ts';
import { parseAttributeValue, parseDocId, parseVector } from '../schema/document.ts';
import { nameRecord, ownValue } from '../schema/records.ts';
import type { AttributeSchema, AttributeValue, DocId, Document, NamespaceSchema } from '../schema/types.ts';
import { parseTurbopufferFilter } from './filters.ts';
import { addInferred, emptyWanted, parseDeclaredSchema, parseMetric, refused, type WantedSchema } from './schema.ts';

/** A row as sent (upsert_rows, a column set, a patch), before the schema is known. */
interface RawRow {
  id: unknown;
  vector: unknown;
  attributes: Array<[string, unknown]>;
  path: string;
}

export interface WriteBody {
  upserts: RawRow[];
  patches: RawRow[];
  deletes: Array<{ id: unknown; path: string }>;
  deleteByFilter?: unknown;
  patchByFilter?: { filters: unknown; patch: RawRow };
  conditions: { upsert?: unknown; patch?: unknown; delete?: unknown };
  wanted: WantedSchema;
  /** The length of the vectors the rows carry, when any does. */
  rowDim: number | null;
  returnIds: boolean;
}

const FIELDS = new Set([
  'upsert_rows', 'upsert_columns', 'patch_rows', 'patch_columns', 'deletes', 'delete_by_filter', 'delete_by_filter_allow_partial',
  'patch_by_filter', 'patch_by_filter_allow_partial', 'upsert_condition', 'patch_condition', 'delete_condition',
  'distance_metric', 'schema', 'return_affected_ids', 'encryption', 'disable_backpressure',
  'copy_from_namespace', 'branch_from_namespace', 'sharding',
]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function readWriteBody(body: unknown): WriteBody {
  if (!isRecord(body)) throw Errors.invalidRequest('body', 'must be a JSON object such as {"upsert_rows": [{"id": 1, "vector": [...]}]}');
  for (const key of Object.keys(body)) {
    if (!FIELDS.has(key)) throw Errors.invalidRequest(key, `unknown field; a write has ${[...FIELDS].join(', ')}`);
  }
  if (body.copy_from_namespace !== undefined) throw refused('copy_from_namespace', 'copying a namespace is not supported yet');
  if (body.branch_from_namespace !== undefined) throw refused('branch_from_namespace', 'branching a namespace is not supported yet');
  if (body.sharding !== undefined) throw refused('sharding', 'Silt does not shard a namespace; omit sharding');
  if (body.encryption !== undefined && !(isRecord(body.encryption) && body.encryption.mode === 'default' && Object.keys(body.encryption).length === 1)) {
    throw refused('encryption', 'only {"mode": "default"} is supported (the object store\'s own encryption); customer-managed keys are not');
  }
  for (const flag of ['return_affected_ids', 'disable_backpressure', 'delete_by_filter_allow_partial', 'patch_by_filter_allow_partial'] as const) {
    if (body[flag] !== undefined && typeof body[flag] !== 'boolean') throw Errors.invalidRequest(flag, 'must be true or false');
  }

  const wanted = parseDeclaredSchema(body.schema, 'schema', emptyWanted());
  if (body.distance_metric !== undefined) {
    const metric = parseMetric(body.distance_metric, 'distance_metric');
    if (wanted.metric !== undefined && wanted.metric !== metric) throw Errors.invalidRequest('distance_metric', 'differs from schema.vector.ann.distance_metric');
    wanted.metric = metric;
  }
  const upserts = [...rows(body.upsert_rows, 'upsert_rows'), ...columns(body.upsert_columns, 'upsert_columns')];
  const patches = [...rows(body.patch_rows, 'patch_rows'), ...columns(body.patch_columns, 'patch_columns')];
  let rowDim: number | null = null;
  for (const row of upserts) {
    const dim = vectorLength(row.vector, `${row.path}.vector`);
    if (dim === null) continue;
    if (rowDim !== null && dim !== rowDim) throw Errors.invalidDocument(`${row.path}.vector`, `has ${dim} dimensions; earlier rows of this write have ${rowDim}`);
    rowDim = dim;
  }
  for (const row of patches) {
    if (row.vector !== undefined) throw Errors.invalidDocument(`${row.path}.vector`, 'a vector cannot be patched; upsert the whole row instead');
  }

  let patchByFilter: WriteBody['patchByFilter'];
  if (body.patch_by_filter !== undefined) {
    const p = body.patch_by_filter;
    if (!isRecord(p) || p.filters === undefined || !isRecord(p.patch) || Object.keys(p).some((k) => k !== 'filters' && k !== 'patch')) {
      throw Errors.invalidRequest('patch_by_filter', 'must be {"filters": [...], "patch": {"attr": value, ...}}');
    }
    const patch = rowOf({ ...p.patch, id: 0 }, 'patch_by_filter.patch');
    if (patch.vector !== undefined) throw Errors.invalidDocument('patch_by_filter.patch.vector', 'a vector cannot be patched');
    if (Object.hasOwn(p.patch, 'id')) throw Errors.invalidDocument('patch_by_filter.patch.id', 'an id cannot be patched');
    patchByFilter = { filters: p.filters, patch };
  }

  for (const row of [...upserts, ...patches, ...(patchByFilter ? [patchByFilter.patch] : [])]) {
    for (const [name, value] of row.attributes) addInferred(wanted, name, value, `${row.path}.${name}`);
  }

  let deletes: WriteBody['deletes'] = [];
  if (body.deletes !== undefined) {
    if (!Array.isArray(body.deletes)) throw Errors.invalidRequest('deletes', 'must be an array of ids');
    deletes = body.deletes.map((id, i) => ({ id, path: `deletes[${i}]` }));
  }
  const nothing = upserts.length + patches.length + deletes.length === 0 && body.delete_by_filter === undefined && !patchByFilter;
  if (nothing && body.schema === undefined) {
    throw Errors.invalidRequest('body', 'has nothing to write: give upsert_rows, upsert_columns, patch_rows, patch_columns, deletes, delete_by_filter or patch_by_filter');
  }
  return {
    upserts, patches, deletes,
    ...(body.delete_by_filter === undefined ? {} : { deleteByFilter: body.delete_by_filter }),
    ...(patchByFilter ? { patchByFilter } : {}),
    conditions: { upsert: body.upsert_condition, patch: body.patch_condition, delete: body.delete_condition },
    wanted, rowDim,
    returnIds: body.return_affected_ids === true,
  };
}

function rowOf(raw: unknown, path: string): RawRow {
  if (!isRecord(raw)) throw Errors.invalidDocument(path, 'each row must be an object {"id": …, "vector"?: […], "attr": value, …}');
  const attributes: Array<[string, unknown]> = [];
  for (const [name, value] of Object.entries(raw)) if (name !== 'id' && name !== 'vector') attributes.push([name, value]);
  return { id: raw.id, vector: raw.vector ?? undefined, attributes, path };
}

function rows(raw: unknown, path: string): RawRow[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw Errors.invalidRequest(path, 'must be an array of rows');
  return raw.map((r, i) => rowOf(r, `${path}[${i}]`));
}

/** upsert_columns / patch_columns: {"id": [...], "vector": [...], "attr": [...]} as rows. */
function columns(raw: unknown, path: string): RawRow[] {
  if (raw === undefined) return [];
  if (!isRecord(raw) || !Array.isArray(raw.id)) throw Errors.invalidRequest(path, 'must be {"id": [...], "vector"?: [...], "attr": [...], ...}');
  const ids = raw.id;
  const vectors = raw.vector === undefined ? null : vectorColumn(raw.vector, ids.length, `${path}.vector`);
  const out: RawRow[] = ids.map((id, i) => ({ id, vector: vectors?.[i] ?? undefined, attributes: [], path: `${path}[${i}]` }));
  for (const [name, values] of Object.entries(raw)) {
    if (name === 'id' || name === 'vector') continue;
    if (!Array.isArray(values) || values.length !== ids.length) {
      throw Errors.invalidRequest(`${path}.${name}`, `must be an array of ${ids.length} values, one per id (null where a row has none)`);
    }
    values.forEach((v, i) => out[i]!.attributes.push([name, v]));
  }
  return out;
}

/** A vector column: one vector (array or base64) per row, or every vector in one base64 string or one flat array. */
function vectorColumn(raw: unknown, n: number, path: string): unknown[] {
  if (Array.isArray(raw) && raw.length === n && raw.every((v) => v === null || Array.isArray(v) || typeof v === 'string')) return raw;
  const flat = typeof raw === 'string' ? decodeBase64Vector(raw, path) : Array.isArray(raw) && raw.every((v) => typeof v === 'number') ? raw : null;
  if (flat === null || n === 0 || flat.length % n !== 0) {
    throw Errors.invalidRequest(path, `must hold one vector per id (${n}): an array of vectors, or all of them in one base64 string or flat array`);
  }
  const dim = flat.length / n;
  return Array.from({ length: n }, (_, i) => Array.from(flat.slice(i * dim, (i + 1) * dim)));
}

/** A base64 vector: little-endian float32s, as turbopuffer's vector_encoding "base64". */
export function decodeBase64Vector(text: string, path: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 4 !== 0 || bytes.length === 0) throw Errors.invalidDocument(path, 'a base64 vector is little-endian float32s: its decoded length must be a multiple of 4 bytes');
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}

function vectorLength(v: unknown, path: string): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return decodeBase64Vector(v, path).length;
  if (Array.isArray(v)) return v.length;
  throw Errors.invalidDocument(path, 'a vector is an array of numbers or a base64 string of little-endian float32s');
}

/** A compiled write, checked against the namespace's schema. */
export interface CompiledWrite {
  upserts: Array<{ doc: Document; condition: CompiledFilter | null }>;
  patches: Array<{ id: DocId; attributes: Record<string, AttributeValue>; condition: CompiledFilter | null }>;
  deletes: Array<{ id: DocId; condition: CompiledFilter | null }>;
  deleteByFilter: CompiledFilter | null;
  patchByFilter: { filter: CompiledFilter; attributes: Record<string, AttributeValue> } | null;
  returnIds: boolean;
  /** Rough bytes for backpressure. */
  bytes: number;
}

export function compileWrite(body: WriteBody, schema: NamespaceSchema, ns: string): CompiledWrite {
  const id = (raw: unknown, path: string): DocId =>
    parseDocId(schema.id_type === 'uuid' && typeof raw === 'string' ? canonicalUuid(raw, path) : raw, path);
  const attributes = (row: RawRow): Record<string, AttributeValue> => {
    const out = nameRecord<AttributeValue>();
    for (const [name, value] of row.attributes) {
      const attr = ownValue(schema.attributes, name);
      if (!attr) {
        // Only a value that implies no type (null, []) can name an attribute the schema lacks.
        if (value === null || (Array.isArray(value) && value.length === 0)) continue;
        throw Errors.internal(`attribute '${name}' missing from the schema after it was extended`);
      }
      out[name] = storedValue(attr, value, `${row.path}.${name}`);
    }
    return out;
  };
  const condition = (json: unknown, path: string, refNew: Record<string, unknown> | null): CompiledFilter | null => {
    if (json === undefined || json === null) return null;
    return filter(json, schema, path, refNew ?? nameRecord());
  };
  const upserts = body.upserts.map((row) => {
    const vector = row.vector === undefined ? null
      : parseVector(typeof row.vector === 'string' ? Array.from(decodeBase64Vector(row.vector, `${row.path}.vector`)) : row.vector, schema, ns, `${row.path}.vector`);
    const attrs = attributes(row);
    for (const [k, v] of Object.entries(attrs)) if (v === null) delete attrs[k];
    const doc: Document = { id: id(row.id, `${row.path}.id`), vector, attributes: attrs };
    return { doc, condition: condition(body.conditions.upsert, 'upsert_condition', { ...attrs, id: row.id }) };
  });
  const patches = body.patches.map((row) => {
    const attrs = attributes(row);
    return { id: id(row.id, `${row.path}.id`), attributes: attrs, condition: condition(body.conditions.patch, 'patch_condition', { ...attrs, id: row.id }) };
  });
  const deletes = body.deletes.map((d) => ({ id: id(d.id, d.path), condition: condition(body.conditions.delete, 'delete_condition', { id: d.id }) }));
  const patchByFilter = body.patchByFilter
    ? { filter: filter(body.patchByFilter.filters, schema, 'patch_by_filter.filters'), attributes: attributes(body.patchByFilter.patch) }
    : null;
  return {
    upserts, patches, deletes,
    deleteByFilter: body.deleteByFilter === undefined ? null : filter(body.deleteByFilter, schema, 'delete_by_filter'),
    patchByFilter,
    returnIds: body.returnIds,
    bytes: upserts.length * (schema.vector_dim * 4 + 128) + patches.length * 128 + deletes.length * 32 + 64,
  };
}

function filter(json: unknown, schema: NamespaceSchema, path: string, refNew?: Record<string, unknown>): CompiledFilter {
  try {
    return compileFilterNode(parseTurbopufferFilter(json, schema, path, refNew ? { refNew } : {}));
  } catch (e) {
    if (e instanceof FilterError) throw Errors.invalidFilter(e.message);
    throw e;
  }
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

function canonicalUuid(s: string, path: string): string {
  if (!UUID.test(s)) throw Errors.invalidDocument(path, `${JSON.stringify(s.slice(0, 40))} is not a UUID`);
  const hex = s.replace(/-/g, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** ISO 8601 in UTC with milliseconds: one fixed-width form, so string order is time order. */
function canonicalDatetime(v: unknown, path: string): string {
  const ms = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN;
  const d = new Date(ms);
  if (!Number.isFinite(ms) || d.getUTCFullYear() < 0 || d.getUTCFullYear() > 9999) {
    throw Errors.invalidDocument(path, 'a datetime is an ISO 8601 string such as "2024-03-01T12:00:00Z" (or milliseconds since 1970), years 0 to 9999');
  }
  return d.toISOString();
}

/** A value as stored in `attr`, with turbopuffer's logical types brought to their stored form. */
export function storedValue(attr: AttributeSchema, value: unknown, path: string): AttributeValue {
  if (value === null || value === undefined) return null;
  const one = (v: unknown, at: string): unknown => {
    if (attr.logical === 'uuid' && typeof v === 'string') return canonicalUuid(v, at);
    if (attr.logical === 'datetime') return canonicalDatetime(v, at);
    if (attr.logical === 'uint' && typeof v === 'number' && v < 0) throw Errors.invalidDocument(at, `attribute is uint; got ${v}`);
    return v;
  };
  const converted = Array.isArray(value) ? value.map((v, i) => one(v, `${path}[${i}]`)) : one(value, path);
  return parseAttributeValue(converted, attr.type, path);
}
