// The write path and the segment builder apply one rule (schema/limits.ts): whatever a request
// may store, a flush can encode, and whatever a flush would refuse, a request is refused first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAttributeValue, parseDocId, parseVector } from '../../src/schema/document.ts';
import type { AttributeType, NamespaceSchema } from '../../src/schema/types.ts';
import { encodeColumn } from '../../src/segment/columns.ts';
import { encodeIds } from '../../src/segment/ids.ts';
import { encodeVectors } from '../../src/segment/vectors.ts';
import { encodeWalEntry } from '../../src/wal/format.ts';

const accepts = (fn: () => unknown): boolean => {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
};

const VALUES: unknown[] = [
  'plain', '', '\u{1F600}', 'a\ud800', '\udc00b', 'x\ud83d', 0, -0, 1, -1, 1.5, 2 ** 53 - 1, 2 ** 53, -(2 ** 53),
  1e308, 5e-324, Infinity, NaN, true, false, [], ['a', 'b'], ['a', '\ud800'], [1, 2], [1, 2.5], [2 ** 60], ['a', 1], {},
];
const TYPES: AttributeType[] = ['string', 'integer', 'float', 'boolean', 'array<string>', 'array<integer>'];

test('an attribute value is accepted by a request exactly when its column can encode it', () => {
  for (const type of TYPES) {
    for (const value of VALUES) {
      const request = accepts(() => parseAttributeValue(value, type, 'v'));
      const column = accepts(() => encodeColumn('v', type, [value as never]));
      assert.equal(request, column, `${type} ${JSON.stringify(value)}: request ${request}, column ${column}`);
    }
  }
});

test('a vector is accepted by a request exactly when the vectors section can encode it', () => {
  const schema: NamespaceSchema = { vector_dim: 2, vector_metric: 'l2', attributes: {} };
  const components = [0, -0, 1e-45, 3.4028234663852886e38, 3.4028235677973366e38, 3.5e38, -1e39, 2.4e38, 3e38];
  for (const a of components) {
    for (const b of components) {
      const request = accepts(() => parseVector([a, b], schema, 'ns', 'vector'));
      const segment = accepts(() => encodeVectors(1, 2, new Float32Array([a, b]), Uint8Array.of(1)));
      assert.equal(request, segment, `[${a}, ${b}]: request ${request}, segment ${segment}`);
    }
  }
});

test('a string id is accepted by a request exactly when the WAL and the ids section can hold it', () => {
  for (const raw of ['doc', 's\u{1F600}', 's\ud800', 's\udc00', '\udbff\udfff', '\udfff\udbff']) {
    const request = accepts(() => parseDocId(raw, 'id'));
    const ids = accepts(() => encodeIds([raw]));
    const wal = accepts(() => encodeWalEntry({ seq: 1, createdAt: 0, ops: [{ kind: 'delete', id: raw }] }));
    assert.deepEqual([ids, wal], [request, request], JSON.stringify(raw));
  }
});
