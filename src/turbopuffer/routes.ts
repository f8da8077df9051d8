// The turbopuffer-compatible API (docs/turbopuffer.md), beside Silt's own /v1 API from the guide.
// Each request is translated into the same namespace operations Silt's own routes use: writes go
// through the namespace's WAL like /v1 upserts, reads through serveRead (src/namespace/routes.ts).
import type { FastifyInstance } from 'fastify';
import type { ReadRouteDeps } from '../namespace/routes.ts';
import { registerTurbopufferReadRoutes } from './read-routes.ts';
import { registerTurbopufferWriteRoutes, type TurbopufferWriteDeps } from './namespaces.ts';

export type TurbopufferDeps = ReadRouteDeps & TurbopufferWriteDeps;

export function registerTurbopufferRoutes(app: FastifyInstance, deps: TurbopufferDeps): void {
  registerTurbopufferReadRoutes(app, deps);
  registerTurbopufferWriteRoutes(app, deps);
}
