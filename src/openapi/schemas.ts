// components.schemas of GET /openapi.json: the bodies of Silt's native API as JSON Schema 2020-12.
// They describe what the parsers in schema/ and query/ accept, not a second validator: the
// server checks requests itself (with the messages of docs/errors.md), and these schemas are
// what clients and their tools read. test/api/openapi.test.ts sends every example and checks
// every answer against them.
import { ref, type JsonSchema } from './types.ts';

const integer = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'integer', minimum: 0, description, ...extra });
const object = (properties: Record<string, JsonSchema>, required: string[], extra: JsonSchema = {}): JsonSchema =>
  ({ type: 'object', properties, required, ...extra });

const ATTRIBUTE_TYPES = ['string', 'integer', 'float', 'boolean', 'array<string>', 'array<integer>'];

const fullTextOptions = object({
  language: { enum: ['english', 'none'] },
  stemming: { type: 'boolean' },
  remove_stopwords: { type: 'boolean' },
  case_sensitive: { type: 'boolean' },
  k1: { type: 'number', minimum: 0, maximum: 10 },
  b: { type: 'number', minimum: 0, maximum: 1 },
}, [], { additionalProperties: false });

const namespaceStats = {
  documents: integer('live documents'),
  unindexed_documents: integer('documents not yet folded into segments'),
  wal_entries: integer('WAL objects after the watermark'),
  wal_bytes: integer('their bytes'),
  last_wal_seq: integer('sequence number of the last WAL entry applied'),
  wal_watermark: integer('WAL entries folded into segments'),
  manifest_version: integer('version of the current manifest'),
  segments: { type: 'array', items: object({ id: { type: 'string' }, documents: integer('live'), rows: integer('live and deleted') }, ['id', 'documents', 'rows']) },
  approx_memory_bytes: integer('memory held by the unindexed tail'),
  unindexed_bytes: integer('what write backpressure counts'),
  unindexed_limit_bytes: integer('indexing.unindexed_limit_bytes'),
};
const STATS_REQUIRED = ['documents', 'unindexed_documents', 'wal_entries', 'wal_bytes', 'last_wal_seq', 'wal_watermark', 'manifest_version', 'segments'];

/** Marks a query node adds when it answered a read itself (docs/api.md, "Cluster routing"). */
const servedFrom = {
  served_from: { enum: ['object_storage', 'cache'] },
  owner: { type: 'string', description: 'the owning indexer that did not answer' },
  owner_error: { type: 'string' },
  staleness_ms: { type: 'number', description: 'age of the view that answered a consistency "eventual" query' },
};

const hit = object({
  id: ref('DocId'),
  score: { type: 'number', description: 'higher is better: similarity, BM25, or the fused RRF score' },
  distance: { type: 'number', description: 'vector distance, lower is closer' },
  bm25: { type: 'number' },
  attributes: ref('Attributes'),
  vector: { type: ['array', 'null'], items: { type: 'number' } },
}, ['id', 'score']);

export const SCHEMAS: Record<string, JsonSchema> = {
  DocId: {
    description: 'An unsigned 64-bit integer (as a digit string above 2^53 − 1), or a string of 1–64 UTF-8 bytes.',
    anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', minLength: 1, maxLength: 64 }],
  },
  AttributeValue: {
    anyOf: [{ type: ['string', 'number', 'boolean', 'null'] }, { type: 'array', items: { type: ['string', 'integer'] } }],
  },
  Attributes: { type: 'object', additionalProperties: ref('AttributeValue') },
  Vector: { type: 'array', items: { type: 'number' }, minItems: 1, maxItems: 16384, description: 'exactly vector_dim finite numbers (stored as float32)' },
  AttributeSchema: {
    anyOf: [
      { enum: ATTRIBUTE_TYPES },
      object({ type: { enum: ATTRIBUTE_TYPES }, full_text: { anyOf: [{ type: ['boolean', 'null'] }, fullTextOptions], description: 'true, options, or (in answers) null when off' }, filterable: { type: 'boolean' } },
        ['type'], { additionalProperties: false }),
    ],
  },
  NamespaceSchema: object({
    vector_dim: { type: 'integer', minimum: 1, maximum: 16384 },
    vector_metric: { enum: ['cosine', 'l2', 'dot'], default: 'cosine' },
    attributes: { type: 'object', additionalProperties: ref('AttributeSchema') },
  }, ['vector_dim'], { additionalProperties: false }),
  CreateNamespaceRequest: {
    description: 'The schema, or the same wrapped as {"schema": {...}}.',
    anyOf: [ref('NamespaceSchema'), object({ schema: ref('NamespaceSchema') }, ['schema'], { additionalProperties: false })],
  },
  CreateNamespaceResponse: object({ namespace: { type: 'string' }, created: { type: 'boolean' }, schema: ref('NamespaceSchema') },
    ['namespace', 'created', 'schema']),
  DeleteNamespaceResponse: object({ namespace: { type: 'string' }, deleted: { const: true } }, ['namespace', 'deleted']),
  NamespaceList: object({
    namespaces: { type: 'array', items: object({ id: { type: 'string' } }, ['id']) },
    next_cursor: { type: ['string', 'null'], description: 'pass as cursor for the next page; null on the last' },
  }, ['namespaces', 'next_cursor']),
  Namespace: object({ namespace: { type: 'string' }, schema: ref('NamespaceSchema'), ...namespaceStats, ...servedFrom },
    ['namespace', 'schema', ...STATS_REQUIRED]),
  FlushResponse: object({ namespace: { type: 'string' }, flushed: { type: 'boolean' }, ...namespaceStats }, ['namespace', 'flushed', ...STATS_REQUIRED]),
  CompactResponse: object({ namespace: { type: 'string' }, merges: integer('merges run'), ...namespaceStats }, ['namespace', 'merges', ...STATS_REQUIRED]),
  Document: object({ id: ref('DocId'), vector: ref('Vector'), attributes: ref('Attributes') }, ['id'], { additionalProperties: false }),
  StoredDocument: object({ id: ref('DocId'), vector: { type: ['array', 'null'], items: { type: 'number' } }, attributes: ref('Attributes'), ...servedFrom },
    ['id', 'vector', 'attributes']),
  DocumentPage: object({
    documents: { type: 'array', items: ref('StoredDocument') },
    next_after: { anyOf: [ref('DocId'), { type: 'null' }], description: 'the after of the next page; null on the last' },
  }, ['documents', 'next_after']),
  UpsertRequest: object({ documents: { type: 'array', items: ref('Document'), minItems: 1 } }, ['documents'], { additionalProperties: false }),
  UpsertResponse: object({
    status: { const: 'ok' }, upserted: integer('documents written'), wal_seq: integer('the WAL entry that holds them'),
    chunks: integer('NDJSON only: chunks written'),
  }, ['status', 'upserted', 'wal_seq']),
  DeleteRequest: {
    description: 'Exactly one of ids and filter.',
    oneOf: [
      object({ ids: { type: 'array', items: ref('DocId'), minItems: 1 } }, ['ids'], { additionalProperties: false }),
      object({ filter: ref('Filter') }, ['filter'], { additionalProperties: false }),
    ],
  },
  DeleteResponse: object({ status: { const: 'ok' }, deleted: integer('documents that existed'), wal_seq: { type: 'integer' } }, ['status', 'deleted', 'wal_seq']),
  Filter: {
    description: 'A filter tree, native ({"field", "op", "value"}, {"and": [...]}, {"or": [...]}, {"not": ...}) or Elacsym ({"type": "and", "conditions": [...]}); see docs/filters.md.',
    type: ['object', 'array'],
  },
  FullTextQuery: object({
    field: { type: 'string' },
    fields: { type: 'array', items: { type: 'string' }, minItems: 1 },
    query: { type: 'string' },
    weight: { type: 'number', minimum: 0 },
    weights: { type: 'object', additionalProperties: { type: 'number', minimum: 0 } },
  }, ['query'], { additionalProperties: false }),
  QueryRequest: object({
    vector: ref('Vector'),
    full_text: ref('FullTextQuery'),
    top_k: { type: 'integer', minimum: 1, description: 'default query.default_top_k; at most query.max_top_k' },
    filter: ref('Filter'),
    filters: { ...ref('Filter'), description: 'the same as filter' },
    include_attributes: { anyOf: [{ type: 'boolean' }, { type: 'array', items: { type: 'string' } }] },
    include_vector: { type: 'boolean' },
    vector_weight: { type: 'number', minimum: 0 },
    ef: { type: 'integer', minimum: 1, maximum: 10000 },
    consistency: { enum: ['strong', 'eventual'] },
  }, [], { additionalProperties: false, anyOf: [{ required: ['vector'] }, { required: ['full_text'] }] }),
  QueryResponse: object({ results: { type: 'array', items: hit }, took_ms: { type: 'number' }, ...servedFrom }, ['results', 'took_ms']),
  VersionList: object({
    namespace: { type: 'string' },
    versions: { type: 'array', items: object({
      version: integer('manifest version'), committed_at: { type: 'string', format: 'date-time' }, documents: integer('live documents'),
      segments: integer('segments'), wal_watermark: { type: 'integer' }, current: { type: 'boolean' },
      restored_from: integer('the version this one restored, for a restore'),
    }, ['version', 'committed_at', 'documents', 'segments', 'wal_watermark', 'current']) },
  }, ['namespace', 'versions']),
  RestoreRequest: {
    oneOf: [
      object({ version: integer('a version of GET …/versions', { minimum: 1 }) }, ['version'], { additionalProperties: false }),
      object({ timestamp: { type: 'string', format: 'date-time', description: 'the last version committed at or before this time' } }, ['timestamp'], { additionalProperties: false }),
    ],
  },
  RestoreResponse: object({
    namespace: { type: 'string' }, version: integer('the new version, holding the restored state'), restored_from: integer('the version restored'),
    restored_from_committed_at: { type: 'string', format: 'date-time' }, dropped_writes: integer('acknowledged writes after the restore point, now gone'),
    documents_before: integer('documents before the restore'), documents_after: integer('documents after it'),
  }, ['namespace', 'version', 'restored_from', 'dropped_writes', 'documents_before', 'documents_after']),
  CopyRequest: object({ to: { type: 'string', description: 'the new namespace' }, version: integer('the source version to copy; the current state when absent', { minimum: 1 }) },
    ['to'], { additionalProperties: false }),
  CopyResponse: object({
    namespace: { type: 'string' }, source: { type: 'string' }, source_version: integer('the source version copied'), version: integer('the copy\'s version'),
    documents: integer('documents'), segments: integer('segments shared with the source'), created: { type: 'boolean', description: 'false for the retry of an unfinished copy' },
  }, ['namespace', 'source', 'source_version', 'version', 'documents', 'segments', 'created']),
  Health: object({ status: { enum: ['ok', 'stopping'] }, node: { type: 'string' } }, ['status', 'node']),
  Ready: object({ status: { const: 'ready' }, node: { type: 'string' } }, ['status', 'node']),
  NodeStats: object({
    node: { type: 'string' },
    role: { enum: ['single', 'indexer', 'query'] },
    object_store_requests: { type: 'object', additionalProperties: { type: 'integer' } },
    cache: { type: 'object', properties: { memory: { type: 'object' }, disk: { type: 'object' } } },
    namespaces_open: { type: 'integer' },
    namespaces_closed_idle_total: { type: 'integer' },
    namespace_views: { type: 'integer' },
    namespace_views_evicted_total: { type: 'integer' },
    builds: { type: 'object' },
    unindexed: { type: 'object' },
    routing: { type: ['object', 'null'], description: 'forwarding counters; null on a single node' },
  }, ['node', 'role', 'cache', 'routing']),
  Metrics: { type: 'string', description: 'Prometheus text exposition format; every metric is listed in docs/deployment.md' },
  OpenApi: { type: 'object', description: 'this document' },
};
