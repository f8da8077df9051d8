// Translates failures from the layers below into the API's errors at the indexer boundary.
import { Errors, SiltError } from '../errors.ts';
import { isStorageError } from '../storage/errors.ts';
import { ManifestConflictError } from '../manifest/manifest.ts';

export function storageFailure(e: unknown): Error {
  if (e instanceof SiltError) return e;
  if (e instanceof ManifestConflictError) return Errors.writeConflict(e.namespace);
  if (isStorageError(e, 'precondition_failed')) return e;
  if (isStorageError(e)) return Errors.storageUnavailable(e.operation, e.message);
  return Errors.internal((e as Error).message ?? String(e));
}
