// The read routes of routes.ts as GET /openapi.json describes them (src/openapi/). Their
// examples read namespace my-docs as indexer/openapi.ts's examples create it.
import { NAMESPACE_PARAM, ref, WITH_BODY, type ApiOperation } from '../openapi/types.ts';
import { LIST_LIMIT, NAMESPACE_PAGE } from './routes.ts';

const params = { ns: NAMESPACE_PARAM };
/** A read of a namespace: not there, or relayed to a node whose cluster list disagrees. */
const READ_ERRORS = [404, 421];

export const READ_OPERATIONS: ApiOperation[] = [
  { method: 'GET', route: '/v1/namespaces', operationId: 'listNamespaces', tag: 'namespaces', summary: 'The namespaces, by name, a page at a time',
    query: {
      prefix: { description: 'only names starting with this', schema: { type: 'string' }, example: 'my-' },
      page_size: { description: `names per page, 1 to ${NAMESPACE_PAGE.max} (default ${NAMESPACE_PAGE.default})`, schema: { type: 'integer', minimum: 1, maximum: NAMESPACE_PAGE.max }, example: 10 },
      cursor: { description: 'next_cursor of the previous page', schema: { type: 'string' } },
    },
    responses: { 200: { description: 'names', schema: ref('NamespaceList') } }, errors: [400] },
  { method: 'GET', route: '/v1/namespaces/:ns', operationId: 'getNamespace', tag: 'namespaces', summary: 'A namespace\'s schema and stats',
    params, responses: { 200: { description: 'schema and stats', schema: ref('Namespace') } }, errors: READ_ERRORS },
  {
    method: 'GET', route: '/v1/namespaces/:ns/documents', operationId: 'listDocuments', tag: 'documents',
    summary: 'Live documents in id order, a page at a time',
    description: 'u64 ids ascending, then string ids. Pass the previous page\'s next_after as after.',
    params,
    query: {
      after: { description: 'the next_after of the previous page; absent for the first', schema: { type: 'string' } },
      limit: { description: `documents per page, 1 to ${LIST_LIMIT.max}`, schema: { type: 'integer', minimum: 1, maximum: LIST_LIMIT.max, default: LIST_LIMIT.default }, example: 100 },
    },
    responses: { 200: { description: 'a page', schema: ref('DocumentPage') } },
    errors: READ_ERRORS,
  },
  {
    method: 'GET', route: '/v1/namespaces/:ns/documents/:id', operationId: 'getDocument', tag: 'documents', summary: 'One document',
    params: { ...params, id: { description: 'a u64 or a string id, percent-encoded', schema: { type: 'string' }, example: '1' } },
    responses: { 200: { description: 'the document', schema: ref('StoredDocument') } },
    errors: READ_ERRORS,
  },
  {
    method: 'POST', route: '/v1/namespaces/:ns/query', operationId: 'query', tag: 'query', summary: 'Vector, full-text or hybrid search, optionally filtered',
    description: 'At least one of vector and full_text. Hybrid results are fused by reciprocal rank fusion (docs/api.md, "Query").',
    params,
    body: { required: true, content: { 'application/json': { schema: ref('QueryRequest'), examples: {
      vector: { summary: 'nearest neighbours', value: { vector: [0.1, 0.2, 0.3], top_k: 10 } },
      fullText: { summary: 'BM25 on title', value: { full_text: { field: 'title', query: 'hello' }, top_k: 5 } },
      hybrid: { summary: 'vector and BM25 fused', value: { vector: [0.1, 0.2, 0.3], full_text: { field: 'title', query: 'hello', weight: 1 }, vector_weight: 1 } },
      filtered: { summary: 'nearest neighbours from 2000 on, with their vectors', value: {
        vector: [0.1, 0.2, 0.3], filter: { field: 'year', op: 'gte', value: 2000 }, include_vector: true, include_attributes: ['title'],
      } },
    } } } },
    responses: { 200: { description: 'hits, best first', schema: ref('QueryResponse') } },
    errors: [...WITH_BODY, ...READ_ERRORS],
  },
];
