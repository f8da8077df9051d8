// The value types a configuration key can have, and how each is read from TOML and from an
// environment variable. TOML is parsed with integers as BigInt so that `port = 3000.0` (a float)
// and `memory_size = 1e10` are told apart from integers instead of being silently accepted.

export type ValueType =
  | { readonly kind: 'string' }
  /** A string that may be absent: omitted or "" means null. */
  | { readonly kind: 'nullable_string' }
  | { readonly kind: 'int'; readonly min: number; readonly max: number }
  | { readonly kind: 'bool' }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  /** A list of non-empty strings; comma-separated in an environment variable. */
  | { readonly kind: 'list' };

export type StringType = { readonly kind: 'string' };
export type NullableStringType = { readonly kind: 'nullable_string' };
export type IntType = { readonly kind: 'int'; readonly min: number; readonly max: number };
export type BoolType = { readonly kind: 'bool' };
export type EnumType<V extends string> = {
  readonly kind: 'enum';
  readonly values: readonly V[];
  /** Never set. Makes EnumType invariant in V, so a key whose list misses a member of its union fails to compile. */
  readonly exact?: (value: V) => V;
};
export type ListType = { readonly kind: 'list' };

export const string: StringType = { kind: 'string' };
export const nullableString: NullableStringType = { kind: 'nullable_string' };
export const bool: BoolType = { kind: 'bool' };
export const list: ListType = { kind: 'list' };
export const int = (min: number, max: number = Number.MAX_SAFE_INTEGER): IntType => ({ kind: 'int', min, max });
/** Sizes, counts and durations: zero would mean "never" or "nothing", which is never intended. */
export const positiveInt: IntType = int(1);
export const oneOf = <V extends string>(...values: V[]): EnumType<V> => ({ kind: 'enum', values });

export type Parsed = { ok: true; value: string | number | boolean | null | string[] } | { ok: false };

const fail: Parsed = { ok: false };

/** What the key expects, phrased to follow "expected "; `forEnv` words it for an environment variable. */
export function describeType(type: ValueType, forEnv = false): string {
  switch (type.kind) {
    case 'string':
      return 'a string';
    case 'nullable_string':
      return 'a string (omit it or use "" for none)';
    case 'int':
      if (type.max === Number.MAX_SAFE_INTEGER) {
        return type.min === 1 ? 'a positive integer' : `an integer >= ${type.min}`;
      }
      return `an integer ${type.min}-${type.max}`;
    case 'bool':
      return forEnv ? 'true, false, 1 or 0' : 'true or false';
    case 'enum':
      return `one of ${type.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'list':
      return forEnv ? 'a comma-separated list of non-empty strings' : 'a list of non-empty strings';
  }
}

function intInRange(type: IntType, n: bigint): Parsed {
  if (n < BigInt(type.min) || n > BigInt(type.max)) return fail;
  return { ok: true, value: Number(n) };
}

/** Reads a value from parsed TOML (integers arrive as bigint). */
export function fromToml(type: ValueType, raw: unknown): Parsed {
  switch (type.kind) {
    case 'string':
      return typeof raw === 'string' ? { ok: true, value: raw } : fail;
    case 'nullable_string':
      if (typeof raw !== 'string') return fail;
      return { ok: true, value: raw === '' ? null : raw };
    case 'int':
      return typeof raw === 'bigint' ? intInRange(type, raw) : fail;
    case 'bool':
      return typeof raw === 'boolean' ? { ok: true, value: raw } : fail;
    case 'enum':
      return typeof raw === 'string' && type.values.includes(raw) ? { ok: true, value: raw } : fail;
    case 'list':
      if (!Array.isArray(raw)) return fail;
      if (!raw.every((item): item is string => typeof item === 'string' && item !== '')) return fail;
      return { ok: true, value: [...raw] };
  }
}

/** Reads a value from the text of an environment variable. */
export function fromEnv(type: ValueType, text: string): Parsed {
  switch (type.kind) {
    case 'string':
      return { ok: true, value: text };
    case 'nullable_string':
      return { ok: true, value: text === '' ? null : text };
    case 'int': {
      const trimmed = text.trim();
      return /^[+-]?\d+$/.test(trimmed) ? intInRange(type, BigInt(trimmed)) : fail;
    }
    case 'bool': {
      const word = text.trim().toLowerCase();
      if (word === 'true' || word === '1') return { ok: true, value: true };
      if (word === 'false' || word === '0') return { ok: true, value: false };
      return fail;
    }
    case 'enum': {
      const word = text.trim();
      return type.values.includes(word) ? { ok: true, value: word } : fail;
    }
    case 'list': {
      if (text.trim() === '') return { ok: true, value: [] };
      const items = text.split(',').map((item) => item.trim());
      return items.every((item) => item !== '') ? { ok: true, value: items } : fail;
    }
  }
}

/** Shows a value the user gave, as they would recognise it, for "got …" in messages. */
export function formatGiven(raw: unknown): string {
  if (typeof raw === 'string') return JSON.stringify(raw);
  if (typeof raw === 'bigint') return raw.toString();
  if (typeof raw === 'number') return Number.isInteger(raw) ? `${raw}.0 (a float)` : `${raw} (a float)`;
  if (typeof raw === 'boolean') return String(raw);
  if (raw instanceof Date) return `a date (${raw.toISOString()})`;
  if (Array.isArray(raw)) return `[${raw.map(formatGiven).join(', ')}]`;
  if (typeof raw === 'object' && raw !== null) return 'a table';
  return String(raw);
}

/** Renders a value as TOML source, for documentation; null has no TOML form. */
export function toTomlText(value: string | number | boolean | null | readonly string[]): string {
  if (value === null) return '(unset)';
  if (Array.isArray(value)) return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}
