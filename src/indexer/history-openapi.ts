// The history routes of history-routes.ts as GET /openapi.json describes them (src/openapi/).
import { NAMESPACE_PARAM, ref, WITH_BODY, type ApiOperation } from '../openapi/types.ts';

const params = { ns: NAMESPACE_PARAM };

export const HISTORY_OPERATIONS: ApiOperation[] = [
  {
    method: 'GET', route: '/v1/namespaces/:ns/versions', operationId: 'listVersions', tag: 'history',
    summary: 'The versions a namespace can be restored to (compaction.history_retention_secs)', params,
    responses: { 200: { description: 'oldest first', schema: ref('VersionList') } },
    errors: [404, 421, 504],
  },
  {
    method: 'POST', route: '/v1/namespaces/:ns/restore', operationId: 'restore', tag: 'history',
    summary: 'Make an earlier version current again, as a new version (a restore can itself be undone)',
    description: 'Writes acknowledged after the restore point are gone afterwards; dropped_writes counts them.',
    params,
    body: { required: true, content: { 'application/json': { schema: ref('RestoreRequest'), examples: {
      version: { summary: 'the namespace as first created', value: { version: 1 } },
    } } } },
    responses: { 200: { description: 'restored and durable', schema: ref('RestoreResponse') } },
    errors: [...WITH_BODY, 404, 409, 410, 421, 504],
  },
  {
    method: 'POST', route: '/v1/namespaces/:ns/copy', operationId: 'copy', tag: 'history',
    summary: 'Create a namespace sharing this one\'s segments (copy-on-write: no data is copied)',
    params,
    body: { required: true, content: { 'application/json': { schema: ref('CopyRequest'), examples: {
      copy: { summary: 'the current state', value: { to: 'my-docs-copy' } },
    } } } },
    responses: {
      201: { description: 'copied', schema: ref('CopyResponse') },
      200: { description: 'an unfinished copy, finished by this retry', schema: ref('CopyResponse') },
    },
    errors: [...WITH_BODY, 404, 409, 410, 421, 504],
  },
];
