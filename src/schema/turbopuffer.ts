// turbopuffer's attribute types mapped onto Silt's data model (docs/turbopuffer.md, "Types").
// Pure data: the turbopuffer routes parse with it, and the namespace reads render with it, so a
// schema reads back the same from the owner and from a query node's view.
//
//   turbopuffer          Silt
//   string               string
//   int                  integer (±2^53, the column's exact range)
//   uint                 integer, logical uint (negative values refused)
//   float                float
//   bool                 boolean
//   uuid                 string, logical uuid (stored lower-case, hyphenated)
//   datetime             string, logical datetime (stored as ISO 8601 UTC, so order holds)
//   []string []int []uint []uuid []datetime   array<string> / array<integer>, same logical types
//   [N]f32, [N]f16       the namespace's one vector, `vector` (f16 is stored as f32)
// Refused: []float and []bool (Silt has no such arrays), {}f16 sparse vectors, vectors under any
// other name than `vector`.
import type { AttributeSchema, AttributeType, FullTextOptions, LogicalType, NamespaceSchema, VectorMetric } from './types.ts';
import { nameRecord } from './records.ts';

export interface MappedType {
  type: AttributeType;
  logical?: LogicalType;
}

export const TURBOPUFFER_TYPES: Readonly<Record<string, MappedType>> = {
  'string': { type: 'string' },
  'int': { type: 'integer' },
  'uint': { type: 'integer', logical: 'uint' },
  'float': { type: 'float' },
  'bool': { type: 'boolean' },
  'uuid': { type: 'string', logical: 'uuid' },
  'datetime': { type: 'string', logical: 'datetime' },
  '[]string': { type: 'array<string>' },
  '[]int': { type: 'array<integer>' },
  '[]uint': { type: 'array<integer>', logical: 'uint' },
  '[]uuid': { type: 'array<string>', logical: 'uuid' },
  '[]datetime': { type: 'array<string>', logical: 'datetime' },
};

/** Why a turbopuffer type Silt cannot hold is refused. */
export const REFUSED_TYPES: Readonly<Record<string, string>> = {
  '[]float': 'Silt has no array of floats; store the values as separate float attributes or as a vector',
  '[]bool': 'Silt has no array of booleans; store them as []int (0/1) or separate bool attributes',
  '{}f16': 'sparse vectors are not supported',
};

/** `[N]f32` or `[N]f16`: the vector type and its dimension. */
export function vectorTypeDim(type: string): number | null {
  const m = /^\[(\d{1,6})\]f(32|16)$/.exec(type);
  return m ? Number(m[1]) : null;
}

/** The turbopuffer name of a Silt attribute's type. */
export function turbopufferTypeName(attr: Pick<AttributeSchema, 'type' | 'logical'>): string {
  const array = attr.type.startsWith('array<');
  const base = attr.logical ?? ({ 'string': 'string', 'integer': 'int', 'float': 'float', 'boolean': 'bool', 'array<string>': 'string', 'array<integer>': 'int' } as const)[attr.type];
  return array ? `[]${base}` : base;
}

export const TURBOPUFFER_METRICS: Readonly<Record<string, VectorMetric>> = {
  cosine_distance: 'cosine',
  euclidean_squared: 'l2',
};

/** turbopuffer's name of a Silt metric; dot is Silt's own (turbopuffer has none). */
export function turbopufferMetricName(metric: VectorMetric): string {
  return metric === 'cosine' ? 'cosine_distance' : metric === 'l2' ? 'euclidean_squared' : 'dot_product';
}

/** Silt's full_text options as turbopuffer's full_text_search config. */
export function fullTextSearchJson(ft: FullTextOptions) {
  return {
    language: 'english',
    stemming: ft.stemming,
    remove_stopwords: ft.remove_stopwords,
    case_sensitive: ft.case_sensitive,
    k1: ft.k1,
    b: ft.b,
    ascii_folding: false,
    tokenizer: 'word_v4',
  };
}

/** The schema as turbopuffer's client reads it: flat, `id` and `vector` included. */
export function turbopufferSchemaJson(schema: NamespaceSchema): Record<string, object> {
  const out = nameRecord<object>();
  out.id = { type: schema.id_type ?? 'string', filterable: true };
  if (schema.vector_dim > 0) {
    out.vector = { type: `[${schema.vector_dim}]f32`, ann: { distance_metric: turbopufferMetricName(schema.vector_metric) } };
  }
  for (const [name, attr] of Object.entries(schema.attributes)) {
    out[name] = {
      type: turbopufferTypeName(attr),
      filterable: attr.filterable,
      ...(attr.full_text ? { full_text_search: fullTextSearchJson(attr.full_text) } : {}),
    };
  }
  return out;
}
