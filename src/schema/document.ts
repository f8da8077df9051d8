// Document ids and documents: parsed from request JSON, checked against the schema.
import { Errors } from '../errors.ts';
import { isStorableValue, unicodeProblem, vectorProblem } from './limits.ts';
import { nameRecord, ownValue } from './records.ts';
import type { AttributeValue, DocId, Document, NamespaceSchema } from './types.ts';

const U64_MAX = (1n << 64n) - 1n;
const MAX_STRING_ID_BYTES = 64;
const DIGITS = /^[0-9]+$/;

/**
 * u64 ids arrive as JSON numbers (up to 2^53 − 1) or digit strings (any u64); other strings
 * (1–64 UTF-8 bytes) are string ids. A digit-only string is always the u64, so "42" and 42 name
 * the same document and a string id can never collide with a numeric one in idKey().
 * Returns the id, or what is wrong with the value (documents and filters word errors their way).
 */
export function readDocId(value: unknown): { id: DocId } | { problem: string } {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) {
      return { problem: `id ${value} is not an unsigned integer; use a non-negative integer or a string` };
    }
    if (!Number.isSafeInteger(value)) {
      return { problem: `id ${value} is beyond 2^53 and lost precision in JSON; send ids above 9007199254740991 as digit strings, e.g. "18446744073709551615"` };
    }
    return { id: BigInt(value) };
  }
  if (typeof value === 'bigint') {
    return value < 0n || value > U64_MAX ? { problem: `id ${value} does not fit in an unsigned 64-bit integer` } : { id: value };
  }
  if (typeof value === 'string') {
    if (value.length === 0) return { problem: 'id must not be empty' };
    const unicode = unicodeProblem(value);
    if (unicode !== null) return { problem: unicode };
    if (DIGITS.test(value)) {
      const n = BigInt(value);
      if (n > U64_MAX) return { problem: `id ${value} is larger than the u64 maximum 18446744073709551615` };
      return { id: n };
    }
    if (Buffer.byteLength(value, 'utf8') > MAX_STRING_ID_BYTES) {
      return { problem: `string id is longer than ${MAX_STRING_ID_BYTES} bytes` };
    }
    return { id: value };
  }
  return { problem: `id must be an unsigned integer or a string, got ${value === null ? 'null' : typeof value}` };
}

export function parseDocId(value: unknown, path: string): DocId {
  const r = readDocId(value);
  if ('problem' in r) throw Errors.invalidId(path, r.problem);
  return r.id;
}

/** The map key of an id: u64s are digit strings, string ids are never all digits. */
export function idKey(id: DocId): string {
  return typeof id === 'bigint' ? id.toString() : id;
}

/** Ids as JSON: u64s that fit in a double as numbers, larger ones as digit strings. */
export function idToJson(id: DocId): number | string {
  if (typeof id === 'string') return id;
  return id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : id.toString();
}

export function formatId(id: DocId): string {
  return typeof id === 'bigint' ? id.toString() : JSON.stringify(id);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Throws a 400 naming `path` when a string the client sent has no UTF-8 form. */
export function checkUnicode(
  value: string,
  path: string,
  error: (path: string, what: string) => Error = Errors.invalidDocument,
): void {
  const problem = unicodeProblem(value);
  if (problem !== null) throw error(path, problem);
}

const WANT: Record<NamespaceSchema['attributes'][string]['type'], string> = {
  'string': 'a JSON string',
  'integer': 'an integer within ±2^53',
  'float': 'a finite number',
  'boolean': 'true or false',
  'array<string>': 'an array of strings',
  'array<integer>': 'an array of integers',
};

/**
 * The value as it will be stored: of the attribute's type, within what its column holds
 * (limits.ts, the rule the segment builder checks again), with -0 read as 0 because the WAL's
 * JSON would turn it into 0 at the next restart anyway.
 */
export function parseAttributeValue(
  value: unknown,
  type: NamespaceSchema['attributes'][string]['type'],
  path: string,
): AttributeValue {
  if (value === null || value === undefined) return null;
  if (isStorableValue(type, value)) {
    if (typeof value === 'number') return value === 0 ? 0 : value;
    if (type === 'array<integer>') return (value as number[]).map((v) => (v === 0 ? 0 : v));
    return value as AttributeValue;
  }
  if (typeof value === 'string') checkUnicode(value, path);
  if (type === 'array<string>' && Array.isArray(value)) {
    value.forEach((v, i) => { if (typeof v === 'string') checkUnicode(v, `${path}[${i}]`); });
  }
  throw Errors.invalidDocument(path, `attribute is ${type}; got ${describe(value)}; send ${WANT[type]}`);
}

/** The vector as stored (float32), or a 400 naming the component that float32 cannot hold. */
export function parseVector(value: unknown, schema: NamespaceSchema, ns: string, path: string): Float32Array {
  if (!Array.isArray(value)) throw Errors.invalidDocument(path, `vector must be an array of ${schema.vector_dim} numbers`);
  if (value.length !== schema.vector_dim) throw Errors.vectorDimension(path, value.length, ns, schema.vector_dim);
  const out = new Float32Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const x = value[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw Errors.invalidDocument(`${path}[${i}]`, `vector components must be finite numbers, got ${describe(x)}`);
    }
    out[i] = x;
  }
  const bad = vectorProblem(out);
  if (bad !== null) {
    const at = bad.component === null ? path : `${path}[${bad.component}]`;
    const sent = bad.component === null ? '' : `${value[bad.component]} `;
    throw Errors.invalidDocument(at, `${sent}${bad.problem}`);
  }
  return out;
}

export function parseDocument(raw: unknown, schema: NamespaceSchema, ns: string, path: string): Document {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw Errors.invalidDocument(path, 'each document must be an object {"id", "vector"?, "attributes"?}');
  }
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (key !== 'id' && key !== 'vector' && key !== 'attributes') {
      throw Errors.invalidDocument(`${path}.${key}`, 'unknown field; a document has id, vector and attributes');
    }
  }
  const id = parseDocId(obj.id, `${path}.id`);
  const vector = obj.vector === undefined || obj.vector === null
    ? null
    : parseVector(obj.vector, schema, ns, `${path}.vector`);
  const attributes = nameRecord<AttributeValue>();
  if (obj.attributes !== undefined && obj.attributes !== null) {
    if (typeof obj.attributes !== 'object' || Array.isArray(obj.attributes)) {
      throw Errors.invalidDocument(`${path}.attributes`, 'must be an object of attribute name → value');
    }
    for (const [name, value] of Object.entries(obj.attributes as Record<string, unknown>)) {
      const attr = ownValue(schema.attributes, name);
      if (!attr) {
        const known = Object.keys(schema.attributes);
        throw Errors.invalidDocument(`${path}.attributes.${name}`,
          `namespace '${ns}' has no attribute '${name}'${known.length ? ` (it has ${known.join(', ')})` : ''}; add it to the schema or remove it`);
      }
      const parsed = parseAttributeValue(value, attr.type, `${path}.attributes.${name}`);
      if (parsed !== null) attributes[name] = parsed;
    }
  }
  return { id, vector, attributes };
}
