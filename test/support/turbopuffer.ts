// turbopuffer's official client (a devDependency) pointed at an in-process Silt listening on
// 127.0.0.1, as a turbopuffer user would point it: only baseURL and the key change.
import assert from 'node:assert/strict';
import Turbopuffer, { APIError } from '@turbopuffer/turbopuffer';
import type { AuthOptions } from '../../src/auth.ts';
import { testApp, type TestApp } from './app.ts';

export const TPUF_KEY = 'tpuf-compat-test-key';
export const TPUF_AUTH: AuthOptions = { apiKeys: [TPUF_KEY], readOnlyKeys: [], clusterToken: '', metricsPublic: true };

export interface TurbopufferServer {
  silt: TestApp;
  baseURL: string;
  client: Turbopuffer;
  close(): Promise<void>;
}

/** A Silt server with an API key and a turbopuffer client for it; close() stops both. */
export async function turbopufferServer(opts: Parameters<typeof testApp>[0] = {}): Promise<TurbopufferServer> {
  const silt = testApp({ auth: TPUF_AUTH, ...opts });
  const baseURL = await silt.app.listen({ host: '127.0.0.1', port: 0 });
  // No retries: a test must see the first answer, not a retried one.
  const client = new Turbopuffer({ apiKey: TPUF_KEY, baseURL, region: null, maxRetries: 0 });
  return { silt, baseURL, client, close: () => silt.app.close() };
}

/** The APIError a client call fails with (the test fails if it succeeds). */
export async function failure(p: Promise<unknown>): Promise<APIError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof APIError, String(e));
    return e;
  }
  assert.fail('the call succeeded');
}
