// The turbopuffer-compatible API (docs/turbopuffer.md), beside Silt's own /v1 API from the guide.
// Each request is translated into the same namespace operations Silt's own routes use: writes go
// through the namespace's WAL like /v1 upserts, reads through serveRead (src/namespace/routes.ts).
import type { FastifyInstance } from 'fastify';
import { registerTurbopufferWriteRoutes, type TurbopufferWriteDeps } from './namespaces.ts';

export type TurbopufferDeps = TurbopufferWriteDeps;

export function registerTurbopufferRoutes(app: FastifyInstance, deps: TurbopufferDeps): void {
  registerTurbopufferWriteRoutes(app, deps);
}
