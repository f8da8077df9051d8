// Every call the console makes to Silt: same origin, the API key as Bearer. The key lives in
// sessionStorage: it survives a reload of the tab and is gone when the tab closes.
const KEY_ITEM = 'silt-console-key';

export function apiKey() {
  return sessionStorage.getItem(KEY_ITEM) ?? '';
}

export function setApiKey(key) {
  if (key === '') sessionStorage.removeItem(KEY_ITEM);
  else sessionStorage.setItem(KEY_ITEM, key);
}

/** A refused call: Silt's error envelope, or what went wrong before there was one. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }

  /** "401 SILT_ERR_AUTH_MISSING: …", the form the silt command prints. */
  describe() {
    return this.status === 0 ? this.message : `${this.status} ${this.code}: ${this.message}`;
  }

  get isAuth() {
    return this.status === 401 || this.status === 403;
  }
}

async function send(method, path, body, accept) {
  const headers = { accept };
  const key = apiKey();
  if (key !== '') headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, 'NETWORK', `Silt did not answer ${method} ${path}: ${e.message}`);
  }
  if (res.ok) return res;
  const text = await res.text();
  let error = null;
  try {
    error = envelopeError(JSON.parse(text));
  } catch {
    // not Silt's envelope: a proxy in front of it, say
  }
  throw new ApiError(res.status, error?.code ?? `HTTP_${res.status}`, error?.message ?? (text.slice(0, 200) || res.statusText));
}

/**
 * The error of either body Silt answers with: its own `{"error": {code, message}}`, or, on the
 * turbopuffer-compatible routes (such as _debug/recall), `{"status": "error", "error": "message (CODE)"}`.
 */
function envelopeError(body) {
  if (typeof body?.error === 'string') {
    const m = /^(.*) \((SILT_ERR_[A-Z_]+)\)$/s.exec(body.error);
    return m ? { code: m[2], message: m[1] } : { message: body.error };
  }
  return body?.error ?? null;
}

export async function getJson(path) {
  return (await send('GET', path, undefined, 'application/json')).json();
}

export async function postJson(path, body) {
  return (await send('POST', path, body, 'application/json')).json();
}

export async function getText(path) {
  return (await send('GET', path, undefined, 'text/plain')).text();
}

export const nsPath = (ns) => `/v1/namespaces/${encodeURIComponent(ns)}`;
