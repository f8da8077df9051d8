// Checks one filter leaf's operator and value against the type of its field, producing the typed
// leaf. Split from parse.ts (which handles the tree structure) to keep both files readable.

import { readDocId } from '../../schema/document.ts';
import { unicodeProblem } from '../../schema/limits.ts';
import {
  FilterError,
  type FieldType,
  type FilterOp,
  type LeafNode,
  type ScalarValue,
} from './ast.ts';
import { compileGlob, GlobSyntaxError } from './glob.ts';


/** Checks that `op` applies to the field's type and that `value` has the right shape and type. */
export function parseOperand(
  op: FilterOp,
  field: string,
  fieldType: FieldType,
  value: unknown,
  valuePath: string,
  opPath: string,
): LeafNode {
  const subject = fieldType === 'id' ? 'the document id' : `attribute '${field}' is ${fieldType};`;
  const isArrayType = fieldType === 'array<string>' || fieldType === 'array<integer>';
  if (fieldType === 'id' && op !== 'eq' && op !== 'ne' && op !== 'in' && op !== 'nin') {
    throw new FilterError(opPath, `the document id supports eq, ne, in and nin only, not '${op}'`);
  }
  const base = { kind: 'leaf' as const, field, fieldType };
  switch (op) {
    case 'eq':
    case 'ne': {
      if (isArrayType) {
        throw new FilterError(
          opPath,
          `${subject} '${op}' does not compare whole arrays; use 'contains' for one element ` +
            `or 'containsany' for any of several`,
        );
      }
      if (value === null) {
        if (fieldType === 'id') {
          throw new FilterError(valuePath, `the document id is never null; compare it with an id value`);
        }
        return { ...base, op, value: null };
      }
      return { ...base, op, value: parseScalar(fieldType, field, value, valuePath) };
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      if (fieldType !== 'integer' && fieldType !== 'float' && fieldType !== 'string') {
        const hint = fieldType === 'boolean' ? `booleans have no order; use 'eq'` : `use 'contains' or 'containsany'`;
        throw new FilterError(opPath, `${subject} '${op}' orders numbers and strings only; ${hint}`);
      }
      if (value === null) {
        throw new FilterError(valuePath, `null cannot be ordered; test for a missing value with 'eq' null`);
      }
      const scalar = parseScalar(fieldType, field, value, valuePath);
      return { ...base, op, value: scalar as number | string };
    }
    case 'in':
    case 'nin': {
      if (isArrayType) {
        throw new FilterError(opPath, `${subject} use 'containsany' to match arrays sharing any of several values`);
      }
      if (!Array.isArray(value)) {
        throw new FilterError(
          valuePath,
          `'${op}' takes a list of values such as ["a", "b"], got ${describe(value)}; use 'eq'/'ne' for one value`,
        );
      }
      const values = value.map((item, i) => {
        if (item === null) {
          throw new FilterError(
            `${valuePath}[${i}]`,
            `null cannot be listed in '${op}'; combine with {"field": "${field}", "op": "eq", "value": null} in an 'or'`,
          );
        }
        return parseScalar(fieldType, field, item, `${valuePath}[${i}]`);
      });
      return { ...base, op, value: values };
    }
    case 'contains': {
      if (fieldType !== 'string' && !isArrayType) {
        throw new FilterError(
          opPath,
          `${subject} 'contains' works on string attributes (substring) and array attributes; use 'eq'`,
        );
      }
      const elementType = fieldType === 'array<integer>' ? 'integer' : 'string';
      const element = parseScalar(elementType, field, value, valuePath, fieldType);
      return { ...base, op, value: element as string | number };
    }
    case 'containsany': {
      if (!isArrayType) {
        const hint = fieldType === 'string' ? `use an 'or' of 'contains' filters` : `use 'in'`;
        throw new FilterError(opPath, `${subject} 'containsany' works on array attributes only; ${hint}`);
      }
      if (!Array.isArray(value)) {
        throw new FilterError(
          valuePath,
          `'containsany' takes a list of values such as ["a", "b"], got ${describe(value)}; use 'contains' for one value`,
        );
      }
      const elementType = fieldType === 'array<integer>' ? 'integer' : 'string';
      const values = value.map(
        (item, i) => parseScalar(elementType, field, item, `${valuePath}[${i}]`, fieldType) as string | number,
      );
      return { ...base, op, value: values };
    }
    case 'glob': {
      if (fieldType !== 'string') {
        throw new FilterError(opPath, `${subject} 'glob' matches string attributes only`);
      }
      if (typeof value !== 'string') {
        throw new FilterError(valuePath, `'glob' takes a pattern string such as "img_*.png", got ${describe(value)}`);
      }
      checkUnicode(value, valuePath);
      try {
        compileGlob(value);
      } catch (error) {
        if (error instanceof GlobSyntaxError) {
          throw new FilterError(valuePath, `invalid glob pattern ${describe(value)}: ${error.message}`);
        }
        throw error;
      }
      return { ...base, op, value };
    }
  }
}

/** A single value of a scalar type (or an array's element type), or of the document id. */
function parseScalar(
  type: FieldType,
  field: string,
  value: unknown,
  path: string,
  declaredType: FieldType = type,
): ScalarValue {
  if (type === 'id') return parseId(value, path);
  const problem = (what: string): FilterError =>
    new FilterError(path, `attribute '${field}' is ${declaredType}; value ${describe(value)} ${what}`);
  switch (type) {
    case 'string':
    case 'array<string>':
      if (typeof value !== 'string') throw problem('is not a string');
      checkUnicode(value, path);
      return value;
    case 'integer':
    case 'array<integer>':
      if (typeof value !== 'number') throw problem('is not a number');
      if (!Number.isInteger(value)) throw problem('is not an integer');
      if (!Number.isSafeInteger(value)) throw problem('is outside the integer range ±(2^53 - 1)');
      return value;
    case 'float':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw problem('is not a number');
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw problem('is not true or false');
      return value;
  }
}

/** Strings are compared with stored ones, which are well-formed (schema/limits.ts). */
function checkUnicode(value: string, path: string): void {
  const problem = unicodeProblem(value);
  if (problem !== null) throw new FilterError(path, problem);
}

/** A document id, by exactly the rules of ids in documents (schema/document.ts). */
function parseId(value: unknown, path: string): bigint | string {
  const r = readDocId(value);
  if ('problem' in r) throw new FilterError(path, r.problem);
  return r.id;
}

/** A short rendering of a user's value for an error message. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'bigint') return value.toString();
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined || text.length > 60) {
    if (Array.isArray(value)) return `a list of ${value.length} values`;
    if (typeof value === 'object' && value !== null) return 'an object';
    return text === undefined ? String(value) : `${text.slice(0, 57)}...`;
  }
  return text;
}
