// The object layout: every key parses back to what built it, one namespace's keys never fall
// under another's prefix, and the reserved root-level names cannot be a namespace's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CATALOG_PREFIX, LOCAL_TEMP_DIR, catalogKey, isNeverReused, manifestPointerKey, manifestPrefix,
  manifestVersionKey, manifestVersionOfKey, namespaceOfCatalogKey, namespacePrefix, parseKey,
  segmentKey, segmentPrefix, walKey, walPrefix, walSeqOfKey,
} from '../../src/storage/layout.ts';
import { newSegmentId } from '../../src/indexer/flush.ts';
import { checkNamespaceName } from '../../src/schema/parse.ts';
import { EDGE_NAMESPACE_NAMES } from './conformance-suite.ts';

const NAMES = ['a', 'a.b', 'a-b', 'a_b', 'ab', 'a.', 'A', ...EDGE_NAMESPACE_NAMES];
const isValidName = (name: string) => {
  try {
    checkNamespaceName(name);
    return true;
  } catch {
    return false;
  }
};

test('every key parses back to the namespace and number or id that built it', () => {
  for (const ns of NAMES) {
    assert.ok(isValidName(ns), ns);
    for (const n of [0, 1, 9, 10, 123456, Number.MAX_SAFE_INTEGER]) {
      assert.deepEqual(parseKey(walKey(ns, n)), { kind: 'wal', ns, seq: n });
      assert.deepEqual(parseKey(manifestVersionKey(ns, n)), { kind: 'manifest_version', ns, version: n });
      assert.equal(walSeqOfKey(walKey(ns, n)), n);
      assert.equal(manifestVersionOfKey(manifestVersionKey(ns, n)), n);
    }
    const id = newSegmentId();
    assert.deepEqual(parseKey(segmentKey(ns, id)), { kind: 'segment', ns, id });
    assert.deepEqual(parseKey(manifestPointerKey(ns)), { kind: 'manifest_pointer', ns });
    assert.deepEqual(parseKey(catalogKey(ns)), { kind: 'catalog', ns });
    assert.equal(namespaceOfCatalogKey(catalogKey(ns)), ns);
    assert.equal(manifestVersionOfKey(manifestPointerKey(ns)), null);
    assert.equal(walSeqOfKey(manifestVersionKey(ns, 1)), null);
  }
});

test('numbered keys sort in numeric order, as LIST returns them', () => {
  assert.equal(walKey('ns', 7), 'ns/wal/00000000000000000007.wal');
  assert.ok(walKey('ns', 9) < walKey('ns', 10));
  assert.ok(manifestVersionKey('ns', 99) < manifestVersionKey('ns', 100));
  // The pointer sorts after every version ('c' > '0'..'9'), so a listing meets versions first.
  assert.ok(manifestVersionKey('ns', Number.MAX_SAFE_INTEGER) < manifestPointerKey('ns'));
});

test("no namespace's prefix matches another namespace's keys", () => {
  for (const ns of NAMES) {
    for (const other of NAMES) {
      if (other === ns) continue;
      const keys = [walKey(other, 1), manifestVersionKey(other, 1), manifestPointerKey(other), segmentKey(other, 'x'), catalogKey(other)];
      for (const prefix of [namespacePrefix(ns), walPrefix(ns), manifestPrefix(ns), segmentPrefix(ns)]) {
        for (const key of keys) assert.ok(!key.startsWith(prefix), `${prefix} must not match ${key}`);
      }
      assert.ok(!catalogKey(other).startsWith(catalogKey(ns) + '/'));
    }
    for (const key of [walKey(ns, 1), manifestPointerKey(ns), segmentKey(ns, 'x')]) {
      assert.equal(parseKey(key)?.ns, ns, key);
      assert.ok(key.startsWith(namespacePrefix(ns)));
    }
  }
});

test('the reserved root-level names cannot be a namespace', () => {
  for (const reserved of [CATALOG_PREFIX.slice(0, -1), LOCAL_TEMP_DIR]) {
    assert.ok(!isValidName(reserved), reserved);
    for (const ns of NAMES) {
      for (const key of [walKey(ns, 1), manifestPointerKey(ns), segmentKey(ns, 'x')]) {
        assert.ok(!key.startsWith(`${reserved}/`) && key !== reserved, `${key} is under ${reserved}`);
      }
    }
  }
  assert.notEqual(CATALOG_PREFIX, `${LOCAL_TEMP_DIR}/`);
  assert.equal(parseKey(`${LOCAL_TEMP_DIR}/0123456789abcdef`), null);
});

test('foreign or malformed keys do not parse', () => {
  for (const key of [
    '', 'ns', 'ns/', 'ns/wal/7.wal', 'ns/wal/00000000000000000007.json', 'ns/manifest/00000000000000000001',
    'ns/manifest/currentx', 'ns/seg/.seg', 'ns/seg/a/b.seg', 'ns/other/x', '.hidden/wal/00000000000000000001.wal',
    'a/b/wal/00000000000000000001.wal', '.catalog/', '.catalog/a/b', '.catalog/.x',
  ]) {
    assert.equal(parseKey(key), null, key);
  }
});

test('only segment keys are never reused', () => {
  assert.ok(isNeverReused(segmentKey('ns', newSegmentId())));
  for (const key of [walKey('ns', 1), manifestVersionKey('ns', 1), manifestPointerKey('ns'), catalogKey('ns'), 'ns/other']) {
    assert.ok(!isNeverReused(key), key);
  }
});
