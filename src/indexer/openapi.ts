// The write routes of routes.ts as GET /openapi.json describes them (src/openapi/). The examples
// build namespace my-docs that the read examples (namespace/openapi.ts) query.
import { NAMESPACE_PARAM, ref, WITH_BODY, type ApiOperation } from '../openapi/types.ts';
import { UPSERT_ROUTE } from './routes.ts';

const params = { ns: NAMESPACE_PARAM };
/** What every write to a namespace can meet: not there, a concurrent writer, a cluster that disagrees or an owner that is down or slow. */
const WRITE_ERRORS = [404, 409, 421, 504];

const DOCS = [
  { id: 1, vector: [0.1, 0.2, 0.3], attributes: { title: 'Hello World', year: 2021, tags: ['greeting'] } },
  { id: 2, vector: [0.3, 0.2, 0.1], attributes: { title: 'Goodbye Moon', year: 1989, tags: ['farewell'] } },
];

export const WRITE_OPERATIONS: ApiOperation[] = [
  {
    method: 'PUT', route: '/v1/namespaces/:ns', operationId: 'createNamespace', tag: 'namespaces', summary: 'Create a namespace',
    description: 'Creating one that exists with the same schema answers 200 with created false; with another schema, 409 SILT_ERR_NAMESPACE_SCHEMA_CONFLICT.',
    params,
    body: { required: true, content: { 'application/json': { schema: ref('CreateNamespaceRequest'), examples: {
      schema: { summary: 'vectors, a full-text title, filterable year and tags', value: {
        vector_dim: 3, vector_metric: 'cosine',
        attributes: { title: { type: 'string', full_text: true }, year: { type: 'integer' }, tags: { type: 'array<string>' } },
      } },
    } } } },
    responses: {
      201: { description: 'created', schema: ref('CreateNamespaceResponse') },
      200: { description: 'it existed with the same schema', schema: ref('CreateNamespaceResponse') },
    },
    errors: [...WITH_BODY, 409, 421, 504],
  },
  {
    method: 'POST', route: UPSERT_ROUTE, operationId: 'upsert', tag: 'documents', summary: 'Insert or replace documents',
    description: 'Answered once the batch is durable in the WAL. application/x-ndjson streams one document a line, written in chunks of 1,000 ' +
      '(docs/api.md, "Streaming upsert"); a bad line ends it with the error and how many documents were written (upserted).',
    params,
    body: { required: true, content: {
      'application/json': { schema: ref('UpsertRequest'), examples: { batch: { summary: 'two documents', value: { documents: DOCS } } } },
      'application/x-ndjson': {
        schema: { type: 'string', description: 'one Document a line' },
        lineSchema: ref('Document'),
        examples: { stream: { summary: 'the same documents, streamed', value: DOCS.map((d) => JSON.stringify(d)).join('\n') + '\n' } },
      },
    } },
    responses: { 200: { description: 'written and durable', schema: ref('UpsertResponse') } },
    errors: [...WITH_BODY, ...WRITE_ERRORS, 429],
  },
  {
    method: 'POST', route: '/v1/namespaces/:ns/delete', operationId: 'deleteDocuments', tag: 'documents', summary: 'Delete documents by id or by filter',
    params,
    body: { required: true, content: { 'application/json': { schema: ref('DeleteRequest'), examples: {
      ids: { summary: 'by id', value: { ids: [2] } },
      filter: { summary: 'by filter, resolved when committed', value: { filter: { field: 'year', op: 'lt', value: 1990 } } },
    } } } },
    responses: { 200: { description: 'deleted and durable', schema: ref('DeleteResponse') } },
    errors: [...WITH_BODY, ...WRITE_ERRORS, 429],
  },
  {
    method: 'POST', route: '/v1/namespaces/:ns/flush', operationId: 'flush', tag: 'namespaces', summary: 'Fold the unindexed tail into a segment now',
    params,
    responses: { 200: { description: 'flushed (false when the tail was empty), and the namespace\'s stats', schema: ref('FlushResponse') } },
    errors: WRITE_ERRORS,
  },
  {
    method: 'DELETE', route: '/v1/namespaces/:ns', operationId: 'deleteNamespace', tag: 'namespaces', summary: 'Delete a namespace and all its objects',
    params,
    responses: { 200: { description: 'deleted', schema: ref('DeleteNamespaceResponse') } },
    errors: [404, 421, 504],
  },
];
