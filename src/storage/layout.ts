// The object layout: every key Silt writes is built here, and parsed back here.
//
//   {ns}/wal/{seq:020}.wal               one WAL entry (group commit); created once
//   {ns}/manifest/{version:020}.json     one manifest version; created once
//   {ns}/manifest/current                the pointer to the current version; replaced by CAS
//   {ns}/seg/{id}.seg                    one segment; id is random (indexer/flush.ts newSegmentId)
//   {ns}/borrowers/{other}               empty marker: namespace {other} (a copy) may reference {ns}'s segments
//   .catalog/{ns}                        empty marker: the namespace exists (listing)
//   .silt-tmp/                           local-fs only: temp files of puts in flight, never a key
//
// Namespace names match /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/ (schema/parse.ts): no '/', so
// "{ns}/" never prefixes another namespace's keys ('a/' vs 'a.b/' vs 'a-b/'), and no leading '.',
// so the two root-level reserved names cannot be a namespace's. Numbers are zero-padded to 20
// digits (every u64 fits) so that key order, which LIST returns, is numeric order.
//
// Reuse: a namespace deleted and created again starts its WAL seqs and manifest versions over,
// under the same keys but with different bytes, and the pointer and catalog markers are rewritten
// in place. Only segment keys are never reused (isNeverReused): whoever caches any other object
// must tell its incarnations apart by something else, such as its etag (storage/cached.ts).

export const CATALOG_PREFIX = '.catalog/';
/** The root-level directory of local-fs temp files; keys under it are refused. */
export const LOCAL_TEMP_DIR = '.silt-tmp';

const DIGITS = 20;
const pad = (n: number) => String(n).padStart(DIGITS, '0');

/** Every key of namespace `ns` starts with this (catalog marker excepted). */
export const namespacePrefix = (ns: string) => `${ns}/`;

export const walPrefix = (ns: string) => `${ns}/wal/`;
export const walKey = (ns: string, seq: number) => `${walPrefix(ns)}${pad(seq)}.wal`;

export const manifestPrefix = (ns: string) => `${ns}/manifest/`;
export const manifestPointerKey = (ns: string) => `${manifestPrefix(ns)}current`;
export const manifestVersionKey = (ns: string, version: number) => `${manifestPrefix(ns)}${pad(version)}.json`;

export const segmentPrefix = (ns: string) => `${ns}/seg/`;
export const segmentKey = (ns: string, id: string) => `${segmentPrefix(ns)}${id}.seg`;

/** Written before a copy's manifest (indexer/copy.ts); the lender's GC asks the borrower it names. */
export const borrowerPrefix = (lender: string) => `${lender}/borrowers/`;
export const borrowerKey = (lender: string, borrower: string) => `${borrowerPrefix(lender)}${borrower}`;

export const catalogKey = (ns: string) => `${CATALOG_PREFIX}${ns}`;

/** What a key is, with its parts; the inverse of the builders above. */
export type ParsedKey =
  | { kind: 'wal'; ns: string; seq: number }
  | { kind: 'manifest_version'; ns: string; version: number }
  | { kind: 'manifest_pointer'; ns: string }
  | { kind: 'segment'; ns: string; id: string }
  | { kind: 'borrower'; ns: string; borrower: string }
  | { kind: 'catalog'; ns: string };

// Segment ids are what newSegmentId makes (base-36 time, '-', hex) or, in tests, any name
// without '/'. A namespace part never starts with '.' and never holds '/'.
const NAMESPACE_KEY = /^([^./][^/]*)\/(wal|manifest|seg|borrowers)\/([^/]+)$/;
const NUMBER = /^\d{20}$/;

/** Parses a key Silt builds; null for anything else (foreign objects, temp files, typos). */
export function parseKey(key: string): ParsedKey | null {
  if (key.startsWith(CATALOG_PREFIX)) {
    const ns = key.slice(CATALOG_PREFIX.length);
    return ns !== '' && !ns.includes('/') && !ns.startsWith('.') ? { kind: 'catalog', ns } : null;
  }
  const m = NAMESPACE_KEY.exec(key);
  if (!m) return null;
  const ns = m[1]!;
  const area = m[2]!;
  const name = m[3]!;
  if (area === 'wal') {
    const digits = name.slice(0, -'.wal'.length);
    return name.endsWith('.wal') && NUMBER.test(digits) ? { kind: 'wal', ns, seq: Number(digits) } : null;
  }
  if (area === 'manifest') {
    if (name === 'current') return { kind: 'manifest_pointer', ns };
    const digits = name.slice(0, -'.json'.length);
    return name.endsWith('.json') && NUMBER.test(digits) ? { kind: 'manifest_version', ns, version: Number(digits) } : null;
  }
  if (area === 'borrowers') return name.startsWith('.') ? null : { kind: 'borrower', ns, borrower: name };
  const id = name.slice(0, -'.seg'.length);
  return name.endsWith('.seg') && id !== '' ? { kind: 'segment', ns, id } : null;
}

/** The seq of a WAL key, or null when the key is not a WAL object. */
export function walSeqOfKey(key: string): number | null {
  const parsed = parseKey(key);
  return parsed?.kind === 'wal' ? parsed.seq : null;
}

/** The version number of a manifest version key; null for the pointer and anything else. */
export function manifestVersionOfKey(key: string): number | null {
  const parsed = parseKey(key);
  return parsed?.kind === 'manifest_version' ? parsed.version : null;
}

/** The borrower a borrower marker names; null for other keys. */
export function borrowerOfKey(key: string): string | null {
  const parsed = parseKey(key);
  return parsed?.kind === 'borrower' ? parsed.borrower : null;
}

/** The namespace whose prefix holds `key` (a segment another namespace's manifest may name); null for other keys. */
export function namespaceOfKey(key: string): string | null {
  const parsed = parseKey(key);
  return parsed && parsed.kind !== 'catalog' ? parsed.ns : null;
}

/** The namespace a catalog marker names; null for other keys. */
export function namespaceOfCatalogKey(key: string): string | null {
  const parsed = parseKey(key);
  return parsed?.kind === 'catalog' ? parsed.ns : null;
}

/**
 * True when the bytes under `key` can never change: a segment's id is random and never written
 * twice, so a copy is good for as long as it exists. Every other key may be rewritten, in place
 * (pointer, markers) or by a later incarnation of its namespace (WAL, manifest versions).
 */
export function isNeverReused(key: string): boolean {
  return parseKey(key)?.kind === 'segment';
}
