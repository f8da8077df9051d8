// The transport of the turbopuffer-compatible API (docs/turbopuffer.md): which requests are
// turbopuffer's, and the error body its client reads. turbopuffer's official client retries 429
// and 5xx, and also 409 unless told not to, so a permanent conflict says x-should-retry: false.
import type { FastifyReply } from 'fastify';
import type { SiltError } from '../errors.ts';

/**
 * Paths only turbopuffer's client calls: everything under /v2, and the /v1 namespace routes that
 * Silt's own API does not have. GET /v1/namespaces is both APIs' list and keeps Silt's envelope.
 */
const TURBOPUFFER_V1 = /^\/v1\/namespaces\/[^/?]+\/(schema|hint_cache_warm|_debug\/recall)(\?|$)/;

export function isTurbopufferPath(url: string): boolean {
  return url.startsWith('/v2/') || TURBOPUFFER_V1.test(url);
}

/** turbopuffer's error body: `{"status":"error","error":"message"}`. */
export function turbopufferErrorBody(e: SiltError): { status: 'error'; error: string } {
  return { status: 'error', error: `${e.message} (${e.code})` };
}

/** Sends `e` as turbopuffer's client expects it. */
export function sendTurbopufferError(reply: FastifyReply, e: SiltError): void {
  // A 409 is a conflict with what is stored (a type change, a failed condition): retrying the
  // same request cannot succeed.
  if (e.statusCode === 409) reply.header('x-should-retry', 'false');
  void reply.status(e.statusCode).send(turbopufferErrorBody(e));
}
