// Translates failures from the layers below into the API's errors, where they reach a
// namespace's owner or a view of it.
import { Errors, SiltError } from '../errors.ts';
import { isStorageError } from '../storage/errors.ts';
import { ManifestConflictError } from '../manifest/manifest.ts';

/**
 * The client's message names the namespace; the object key and the store's own error text go
 * to the log only (SiltError.logFields).
 *
 * A conditional write that lost (a manifest commit, a WAL object, a segment upload) means another
 * writer changed the namespace: 409 for its namespace, never a 503.
 */
export function storageFailure(e: unknown, ns: string): Error {
  if (e instanceof SiltError) return e;
  if (e instanceof ManifestConflictError) return Errors.writeConflict(e.namespace);
  if (isStorageError(e, 'precondition_failed')) return Errors.writeConflict(ns);
  if (isStorageError(e)) return Errors.storageUnavailable(ns, e);
  // Anything else is a bug: passed on whole, so the server logs its stack and answers SILT_ERR_INTERNAL.
  return e instanceof Error ? e : Errors.internal(String(e));
}
