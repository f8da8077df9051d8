// How a route describes itself for GET /openapi.json: one ApiOperation per method and path,
// written beside the routes it describes (indexer/openapi.ts, namespace/openapi.ts, …) and
// assembled by document.ts. Schemas are JSON Schema 2020-12, the dialect of OpenAPI 3.1.

export type JsonSchema = Readonly<Record<string, unknown>>;

/** A reference to a schema of components.schemas (schemas.ts). */
export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

export interface ApiParameter {
  description: string;
  schema: JsonSchema;
  /** The value the examples are sent with. */
  example?: unknown;
}

/** A named example request body; every one is sent to a server by test/api/openapi.test.ts. */
export interface ApiExample {
  summary: string;
  value: unknown;
}

export interface ApiMedia {
  schema: JsonSchema;
  examples?: Record<string, ApiExample>;
  /** application/x-ndjson: the schema of each line (OpenAPI 3.1 has no item schema for a stream). */
  lineSchema?: JsonSchema;
}

export interface ApiResponse {
  description: string;
  /** A reference (ref()) to the body's schema; absent for a body-less answer. */
  schema?: JsonSchema;
  /** application/json unless said. */
  contentType?: string;
}

export interface ApiOperation {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** The fastify path as registered, e.g. /v1/namespaces/:ns. */
  route: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  params?: Record<string, ApiParameter>;
  query?: Record<string, ApiParameter>;
  body?: { required: boolean; content: Record<string, ApiMedia> };
  /** Successful answers by status. */
  responses: Record<number, ApiResponse>;
  /**
   * Statuses of SILT_ERR_* errors this route answers besides those any request can get
   * (document.ts, ANY_REQUEST) and those its access class brings (401, 403).
   */
  errors: readonly number[];
}

/** The :ns path parameter of every namespace route; the examples all use namespace my-docs. */
export const NAMESPACE_PARAM: ApiParameter = {
  description: 'namespace name: 1–128 characters of [A-Za-z0-9_.-], not starting with "."',
  schema: { type: 'string', pattern: '^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$' },
  example: 'my-docs',
};

/** What a route with a body adds to its errors: too large (413), not JSON (415). */
export const WITH_BODY: readonly number[] = [413, 415];
