// Shared schema and documents for the filter tests (not a test file itself).
import type { AttributeSchema, AttributeType, NamespaceSchema } from '../../src/schema/types.ts';
import type { FilterableDoc } from '../../src/query/filter/index.ts';

function attribute(type: AttributeType, filterable = true): AttributeSchema {
  return { type, full_text: null, filterable };
}

export const schema: NamespaceSchema = {
  vector_dim: 3,
  vector_metric: 'cosine',
  attributes: {
    title: attribute('string'),
    price: attribute('float'),
    stock: attribute('integer'),
    active: attribute('boolean'),
    tags: attribute('array<string>'),
    sizes: attribute('array<integer>'),
    body: attribute('string', false),
  },
};

export function doc(id: bigint | string, attributes: Record<string, unknown>): FilterableDoc {
  return { id, attributes };
}
