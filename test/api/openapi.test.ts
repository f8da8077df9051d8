// GET /openapi.json, checked both ways against a server listening on 127.0.0.1: every route
// fastify has registered is in the document (turbopuffer's aside, by their named list) and every
// documented one is registered; the document is valid OpenAPI 3.1; every error code of errors.ts
// is there with its status; and every example request validates against its schema, succeeds,
// and gets an answer that validates against the documented response.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AddressInfo } from 'node:net';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Errors } from '../../src/errors.ts';
import { isTurbopufferRoute, openApiPath } from '../../src/openapi/document.ts';
import { testApp } from '../support/app.ts';

const KEY = 'openapi-test-key';
const t = testApp({ auth: { apiKeys: [KEY], readOnlyKeys: [], clusterToken: '', metricsPublic: true } });
// Every route as fastify registers it (buildServer adds them once its plugins have loaded).
const registered: string[] = [];
t.app.addHook('onRoute', (route) => {
  for (const method of [route.method].flat()) {
    if (method !== 'HEAD' && !isTurbopufferRoute(method, route.url)) registered.push(`${method} ${openApiPath(route.url)}`);
  }
});
let base = '';
let doc: any;

before(async () => {
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  const res = await fetch(`${base}/openapi.json`, { headers: { authorization: `Bearer ${KEY}` } });
  assert.equal(res.status, 200);
  doc = await res.json();
});
after(() => t.app.close());

/** 'METHOD /openapi/{path}' of every route fastify registered, HEAD aside. */
function registeredRoutes(): string[] {
  return [...new Set(registered)].sort();
}

interface Op { method: string; path: string; op: any }
function operations(): Op[] {
  return Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ method: method.toUpperCase(), path, op })));
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
let ajvReady = false;
/** A validator for a schema of the document: a reference into it, or a self-contained one. */
function validatorFor(schema: { $ref?: string }) {
  if (!ajvReady) {
    ajv.addSchema(doc, 'openapi.json');
    ajvReady = true;
  }
  if (schema.$ref?.startsWith('#/')) return ajv.getSchema(`openapi.json${schema.$ref}`)!;
  return ajv.compile(schema);
}
function assertValid(schema: { $ref?: string }, value: unknown, what: string): void {
  const validate = validatorFor(schema);
  assert.ok(validate(value), `${what}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 500)}`);
}

/** The URL of an operation with its parameters' examples. */
function urlOf({ path, op }: Op): string {
  const params = (op.parameters ?? []) as { name: string; in: string; example?: unknown }[];
  let url = path;
  const query = new URLSearchParams();
  for (const p of params) {
    if (p.in === 'path') {
      assert.ok(p.example !== undefined, `${path}: path parameter ${p.name} has no example`);
      url = url.replace(`{${p.name}}`, encodeURIComponent(String(p.example)));
    } else if (p.example !== undefined) {
      query.set(p.name, String(p.example));
    }
  }
  return base + url + (query.size > 0 ? `?${query}` : '');
}

async function send(o: Op, body?: { type: string; text: string }, key: string | null = KEY, url = urlOf(o)) {
  const headers: Record<string, string> = { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body ? { 'content-type': body.type } : {}) };
  const res = await fetch(url, { method: o.method, headers, redirect: 'manual', ...(body ? { body: body.text } : {}) });
  const type = res.headers.get('content-type') ?? '';
  const text = await res.text();
  return { status: res.status, type, headers: res.headers, body: type.startsWith('application/json') ? JSON.parse(text) : text };
}

/** The documented response for a status, through components.responses when it is a reference. */
function documentedResponse(o: Op, status: number): any {
  const r = o.op.responses[String(status)];
  if (!r?.$ref) return r;
  return doc.components.responses[String(r.$ref).split('/').at(-1)!];
}

/** Creating comes first and deleting last, so that each example finds the namespace it needs. */
function lifecycle(o: Op): number {
  if (o.method === 'PUT') return 0;
  if (o.method === 'DELETE') return 3;
  // A restore (to the namespace as created) empties it: after the reads, like a delete.
  return /\/(delete|restore)$/.test(o.path) ? 2 : 1;
}

describe('GET /openapi.json', () => {
  it('is behind the API keys like the API it describes', async () => {
    assert.equal((await fetch(`${base}/openapi.json`)).status, 401);
  });

  it('is a valid OpenAPI 3.1 document whose references all resolve', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.equal(validator.version, '3.1');
    assert.doesNotThrow(() => validator.resolveRefs());
    assert.ok(validatorFor({ $ref: '#/components/schemas/QueryRequest' }), 'schemas compile as JSON Schema 2020-12');
  });

  it('describes every registered route, and only registered ones', () => {
    const documented = operations().map((o) => `${o.method} ${o.path}`).sort();
    assert.deepEqual(documented, registeredRoutes(),
      'a route is registered but not documented (add its ApiOperation beside the route), or documented but not registered');
  });

  it('lists every SILT_ERR_* code under its status, and every route\'s errors resolve to them', () => {
    for (const e of Object.values(Errors)) {
      const schema = doc.components.schemas[`Error${e.statusCode}`];
      assert.ok(schema?.properties.error.properties.code.enum.includes(e.code), `${e.code} (${e.statusCode}) is not in the document`);
    }
    for (const o of operations()) {
      for (const [status, r] of Object.entries(o.op.responses as Record<string, any>)) {
        if (Number(status) >= 400) assert.ok(documentedResponse(o, Number(status)), `${o.method} ${o.path} ${status}: ${r.$ref} is missing`);
      }
    }
  });

  it('every example request validates, succeeds against the server, and is answered as documented', async () => {
    let sent = 0;
    const ops = operations().map((o, i) => ({ o, i })).sort((a, b) => lifecycle(a.o) - lifecycle(b.o) || a.i - b.i).map(({ o }) => o);
    for (const o of ops) {
      const requests: { name: string; body?: { type: string; text: string } }[] = [];
      for (const [type, media] of Object.entries((o.op.requestBody?.content ?? {}) as Record<string, any>)) {
        const examples = Object.entries((media.examples ?? {}) as Record<string, { value: unknown }>);
        assert.ok(examples.length > 0, `${o.method} ${o.path} ${type}: no example`);
        for (const [name, { value }] of examples) {
          const what = `${o.method} ${o.path} example ${name}`;
          assertValid(media.schema, value, `${what} against its schema`);
          if (media['x-silt-line-schema']) {
            for (const line of String(value).split('\n').filter((l) => l.trim() !== '')) assertValid(media['x-silt-line-schema'], JSON.parse(line), `${what}, a line`);
          }
          requests.push({ name, body: { type, text: typeof value === 'string' ? value : JSON.stringify(value) } });
        }
      }
      if (requests.length === 0) requests.push({ name: 'without a body' });
      for (const { name, body } of requests) {
        const what = `${o.method} ${o.path} (${name})`;
        const res = await send(o, body);
        assert.ok(res.status < 400, `${what} answered ${res.status}: ${JSON.stringify(res.body)}`);
        const documented = documentedResponse(o, res.status);
        assert.ok(documented, `${what}: status ${res.status} is not documented`);
        if (documented.content) {
          const [type, media] = Object.entries(documented.content as Record<string, { schema: { $ref?: string } }>)[0]!;
          assert.ok(res.type.startsWith(type), `${what}: content-type ${res.type}, documented ${type}`);
          assertValid(media.schema, res.body, `${what}: the answer`);
        } else {
          assert.equal(res.body, '', `${what}: documented without a body`);
        }
        assert.ok(res.headers.get('x-silt-node') && res.headers.get('x-request-id'), `${what}: documented headers`);
        sent++;
      }
    }
    assert.ok(sent >= ops.length);
  });

  it('documents the 401 of every route that needs a key, as the server answers it', async () => {
    for (const o of operations().filter((op) => op.op.security.length > 0 && !op.op.security.some((s: object) => Object.keys(s).length === 0))) {
      const res = await send(o, undefined, null);
      assert.equal(res.status, 401, `${o.method} ${o.path}`);
      assertValid(documentedResponse(o, 401).content['application/json'].schema, res.body, `${o.method} ${o.path} 401`);
    }
  });

  it('documents the 404 of every namespace route, as the server answers it for a namespace that does not exist', async () => {
    let checked = 0;
    for (const o of operations().filter((op) => op.op.responses['404'] && op.path.includes('{ns}'))) {
      const content = Object.entries((o.op.requestBody?.content ?? {}) as Record<string, any>)[0];
      const example = content && Object.values(content[1].examples as Record<string, { value: unknown }>)[0]!.value;
      const body = content && { type: content[0], text: typeof example === 'string' ? example : JSON.stringify(example) };
      const res = await send(o, body, KEY, urlOf(o).replace('/my-docs', '/absent'));
      assert.equal(res.status, 404, `${o.method} ${o.path}`);
      assertValid(documentedResponse(o, 404).content['application/json'].schema, res.body, `${o.method} ${o.path} 404`);
      checked++;
    }
    assert.ok(checked >= 8);
  });
});
