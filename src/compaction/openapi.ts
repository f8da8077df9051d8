// The compaction route of routes.ts as GET /openapi.json describes it (src/openapi/).
import { NAMESPACE_PARAM, ref, type ApiOperation } from '../openapi/types.ts';

export const COMPACTION_OPERATIONS: ApiOperation[] = [
  {
    method: 'POST', route: '/v1/namespaces/:ns/compact', operationId: 'compact', tag: 'namespaces', summary: 'Run one round of the merge policy now',
    params: { ns: NAMESPACE_PARAM },
    responses: { 200: { description: 'merges run, and the namespace\'s stats', schema: ref('CompactResponse') } },
    errors: [404, 409, 421, 504],
  },
];
