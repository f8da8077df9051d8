// The data model of a namespace (DESIGN.md §1). Plain data, shared by every layer.

export type VectorMetric = 'cosine' | 'l2' | 'dot';

export type AttributeType =
  | 'string'
  | 'integer'
  | 'float'
  | 'boolean'
  | 'array<string>'
  | 'array<integer>';

/** Options of a full-text attribute, with every default filled in. */
export interface FullTextOptions {
  /** 'english' (Porter stemmer, English stop words) or 'none' (no stemming, no stop words). */
  language: 'english' | 'none';
  stemming: boolean;
  remove_stopwords: boolean;
  case_sensitive: boolean;
  k1: number;
  b: number;
}

/**
 * A turbopuffer type stored as a wider Silt type (docs/turbopuffer.md): uint as integer (never
 * negative), uuid and datetime as strings in one canonical form, so equality and order hold.
 */
export type LogicalType = 'uint' | 'uuid' | 'datetime';

export interface AttributeSchema {
  type: AttributeType;
  /** Set only for attributes declared through the turbopuffer API with such a type. */
  logical?: LogicalType;
  /** null when the attribute is not full-text indexed. */
  full_text: FullTextOptions | null;
  filterable: boolean;
}

export interface NamespaceSchema {
  /** 0 only for a namespace created without vectors through the turbopuffer API. */
  vector_dim: number;
  vector_metric: VectorMetric;
  attributes: Record<string, AttributeSchema>;
  /** The id type a turbopuffer client declared or first wrote (ids are u64s or strings either way). */
  id_type?: 'uint' | 'string' | 'uuid';
}

/** u64 ids are carried as bigint so ids beyond 2^53 round-trip; string ids are at most 64 bytes. */
export type DocId = bigint | string;

export type AttributeValue = string | number | boolean | string[] | number[] | null;

export interface Document {
  id: DocId;
  vector: Float32Array | null;
  attributes: Record<string, AttributeValue>;
}
