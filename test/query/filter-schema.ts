// The schema every filter test runs against: one attribute of each type, one not filterable.
import type { AttributeSchema, AttributeType, NamespaceSchema } from '../../src/schema/types.ts';

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
