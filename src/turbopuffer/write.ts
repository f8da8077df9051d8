// turbopuffer's write, POST /v2/namespaces/:ns (docs/turbopuffer.md, "Writes and namespaces").
// The namespace is created on its first write, with the types its values imply; later writes
// may add attributes. Everything a request asks is decided on the owner when its turn at the
// WAL comes (Namespace's 'resolve' write): conditions and patches read the stored rows as every
// earlier write left them, and all of it goes into ONE WAL entry, so it applies atomically and
// no other write can slip between a condition and its effect.
//
// Order within a request, as turbopuffer documents it: delete_by_filter, patch_by_filter,
// upserts, patches, deletes. Each step sees the ones before it.
import { Errors } from '../errors.ts';
import type { NamespaceCatalog } from '../indexer/catalog.ts';
import type { Namespace, ResolvedWrite, WriteState } from '../indexer/namespace.ts';
import { idKey, idToJson } from '../schema/document.ts';
import { checkNamespaceName } from '../schema/parse.ts';
import { toNameRecord } from '../schema/records.ts';
import type { DocId, Document, NamespaceSchema } from '../schema/types.ts';
import type { WalOp } from '../wal/format.ts';
import { extendSchema, initialSchema } from './schema.ts';
import { compileWrite, readWriteBody, type CompiledWrite, type WriteBody } from './write-body.ts';

export interface WriteReport {
  upserted: DocId[];
  patched: DocId[];
  deleted: DocId[];
}

/** Applies a turbopuffer write to namespace `name`; returns the response body. */
export async function turbopufferWrite(catalog: NamespaceCatalog, name: string, rawBody: unknown, bodyBytes: number) {
  const started = performance.now();
  checkNamespaceName(name);
  const body = readWriteBody(rawBody);
  // The rows are checked against the schema they will be written under before it is committed;
  // a check is redone only if another request changed the schema meanwhile.
  let checked: { schema: string; write: CompiledWrite } | null = null;
  const check = (schema: NamespaceSchema): CompiledWrite => {
    const key = JSON.stringify(schema);
    if (checked?.schema !== key) checked = { schema: key, write: compileWrite(body, schema, name) };
    return checked.write;
  };
  const ns = await namespaceFor(catalog, name, body, check);
  const write = check(await settleSchema(catalog, ns, body, check));
  const { result } = await ns.write({ kind: 'resolve', bytes: write.bytes, resolve: (state) => resolveWrite(write, state) });
  if (result.detail instanceof Error) throw result.detail;
  const report = result.detail as WriteReport;
  const affected = report.upserted.length + report.patched.length + report.deleted.length;
  const ids = (list: DocId[]) => list.map(idToJson);
  return {
    status: 'OK',
    message: `${affected} row${affected === 1 ? '' : 's'} affected`,
    rows_affected: affected,
    rows_upserted: report.upserted.length,
    rows_patched: report.patched.length,
    rows_deleted: report.deleted.length,
    ...(write.deleteByFilter || write.patchByFilter ? { rows_remaining: false } : {}),
    ...(write.returnIds && report.upserted.length ? { upserted_ids: ids(report.upserted) } : {}),
    ...(write.returnIds && report.patched.length ? { patched_ids: ids(report.patched) } : {}),
    ...(write.returnIds && report.deleted.length ? { deleted_ids: ids(report.deleted) } : {}),
    billing: { billable_logical_bytes_written: bodyBytes },
    performance: { server_total_ms: Math.round((performance.now() - started) * 1000) / 1000 },
  };
}

/**
 * The namespace, created when the write upserts into a name that does not exist. The schema is
 * checked whole against the rows first, so a bad row creates nothing.
 */
async function namespaceFor(catalog: NamespaceCatalog, name: string, body: WriteBody, check: (s: NamespaceSchema) => unknown): Promise<Namespace> {
  try {
    return await catalog.get(name);
  } catch (e) {
    if ((e as { code?: string }).code !== Errors.namespaceNotFound.code) throw e;
    // Only rows or a declared schema make a namespace; patches and deletes of nothing are a 404.
    const declared = [...body.wanted.attributes.values()].some((a) => a.declared) || body.wanted.vectorDim !== undefined;
    if (body.upserts.length === 0 && !declared) throw e;
  }
  const first = initialSchema({ ...body.wanted, vectorDim: body.wanted.vectorDim ?? body.rowDim ?? undefined }, body.upserts[0]?.id);
  check(first);
  return (await catalog.ensure(name, () => first)).ns;
}

/** Adds what the write's values and `schema` need; the schema the write is checked against. */
async function settleSchema(catalog: NamespaceCatalog, ns: Namespace, body: WriteBody, check: (s: NamespaceSchema) => unknown): Promise<NamespaceSchema> {
  const wanted = body.wanted;
  if (body.rowDim !== null && ns.schema.vector_dim === 0) wanted.vectorDim = body.rowDim;
  const change = (current: NamespaceSchema) => extendSchema(ns.name, current, wanted);
  const proposed = change(ns.schema);
  if (proposed === null) return ns.schema;
  check(proposed);
  return changeSchema(catalog, ns, change);
}

/**
 * Namespace.changeSchema; when another writer won the manifest (two nodes think they own it),
 * the namespace is dropped here like a fenced flush drops it, and the 409 goes to the client.
 */
export async function changeSchema(catalog: NamespaceCatalog, ns: Namespace, change: (current: NamespaceSchema) => NamespaceSchema | null): Promise<NamespaceSchema> {
  try {
    return await ns.changeSchema(change);
  } catch (e) {
    if ((e as { code?: string }).code === Errors.writeConflict.code) await catalog.evict(ns);
    throw e;
  }
}

/** Runs on the owner at seal time: the WAL ops of the write, and what it reports. */
export async function resolveWrite(write: CompiledWrite, state: WriteState): Promise<ResolvedWrite> {
  const mine = new Map<string, Document | null>();
  const current = async (id: DocId): Promise<Document | null> => {
    const k = idKey(id);
    return mine.has(k) ? mine.get(k)! : state.get(id);
  };
  const ops: WalOp[] = [];
  const put = (doc: Document) => {
    ops.push({ kind: 'upsert', doc });
    mine.set(idKey(doc.id), doc);
  };
  const remove = (id: DocId) => {
    ops.push({ kind: 'delete', id });
    mine.set(idKey(id), null);
  };
  const patch = (doc: Document, attributes: Record<string, unknown>): Document => {
    const next = toNameRecord(doc.attributes);
    for (const [k, v] of Object.entries(attributes)) {
      if (v === null) delete next[k];
      else next[k] = v as Document['attributes'][string];
    }
    return { id: doc.id, vector: doc.vector, attributes: next };
  };
  const report: WriteReport = { upserted: [], patched: [], deleted: [] };

  if (write.deleteByFilter) {
    for (const id of state.matching(write.deleteByFilter)) {
      remove(id);
      report.deleted.push(id);
    }
  }
  if (write.patchByFilter) {
    for (const id of state.matching(write.patchByFilter.filter)) {
      const doc = await current(id);
      if (!doc) continue;
      put(patch(doc, write.patchByFilter.attributes));
      report.patched.push(id);
    }
  }
  for (const { doc, condition } of write.upserts) {
    // A condition is tested against the stored row; a row that does not exist yet is written.
    const stored = condition ? await current(doc.id) : null;
    if (stored && condition && !condition.match(stored)) continue;
    put(doc);
    report.upserted.push(doc.id);
  }
  for (const { id, attributes, condition } of write.patches) {
    const stored = await current(id);
    // Patches never create rows (turbopuffer ignores patches of missing ids).
    if (!stored || (condition && !condition.match(stored))) continue;
    put(patch(stored, attributes));
    report.patched.push(id);
  }
  for (const { id, condition } of write.deletes) {
    const stored = await current(id);
    if (!stored || (condition && !condition.match(stored))) continue;
    remove(id);
    report.deleted.push(id);
  }
  return { ops, detail: report };
}
