// Test data for the turbopuffer query tests, written through Silt's own /v1 API (a namespace
// with a schema, upserts, a flush into a segment), so the queries read what Silt stores.
import assert from 'node:assert/strict';
import { TPUF_KEY, type TurbopufferServer } from './turbopuffer.ts';

export interface SiltDoc {
  id: number | string;
  vector?: number[] | null;
  attributes?: Record<string, unknown>;
}

async function call(server: TurbopufferServer, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(new URL(path, server.baseURL), {
    method, headers: { authorization: `Bearer ${TPUF_KEY}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

/** Creates `ns` with `schema` and writes `docs`; `flushAfter` of them go into a segment first, the rest stay in the tail. */
export async function seed(server: TurbopufferServer, ns: string, schema: object, docs: SiltDoc[], flushAfter = docs.length): Promise<void> {
  await call(server, 'PUT', `/v1/namespaces/${ns}`, schema);
  const put = async (batch: SiltDoc[]) => {
    for (let i = 0; i < batch.length; i += 500) await call(server, 'POST', `/v1/namespaces/${ns}/upsert`, { documents: batch.slice(i, i + 500) });
  };
  await put(docs.slice(0, flushAfter));
  if (flushAfter > 0) await call(server, 'POST', `/v1/namespaces/${ns}/flush`, {});
  await put(docs.slice(flushAfter));
}

export async function deleteIds(server: TurbopufferServer, ns: string, ids: Array<number | string>): Promise<void> {
  await call(server, 'POST', `/v1/namespaces/${ns}/delete`, { ids });
}
