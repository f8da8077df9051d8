// Forwards a request to another node over HTTP (Node's fetch, with its keep-alive pool) and
// classifies what went wrong: a node that refuses connections or times out is "unreachable",
// which callers turn into a fallback (queries) or a 503 naming the owner (writes).

export const FORWARDED_BY = 'x-silt-forwarded-by';

export interface ForwardRequest {
  method: string;
  /** Path and query string, e.g. "/v1/namespaces/a/query". */
  path: string;
  body: Buffer | null;
  contentType: string | undefined;
  timeoutMs: number;
  /** This node's id, sent so the receiver can tell a forwarded request from a client's. */
  from: string;
}

export interface ForwardResponse {
  status: number;
  headers: Headers;
  body: Buffer;
}

export class UnreachableError extends Error {
  constructor(readonly url: string, readonly timedOut: boolean, detail: string) {
    super(detail);
  }
}

export async function forward(baseUrl: string, req: ForwardRequest): Promise<ForwardResponse> {
  const url = baseUrl + req.path;
  const headers: Record<string, string> = { [FORWARDED_BY]: req.from };
  if (req.contentType) headers['content-type'] = req.contentType;
  const signal = AbortSignal.timeout(req.timeoutMs);
  try {
    const res = await fetch(url, {
      method: req.method,
      headers,
      body: req.body && req.body.length > 0 ? (req.body as Uint8Array as Uint8Array<ArrayBuffer>) : undefined,
      signal,
    });
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  } catch (e) {
    if (signal.aborted) throw new UnreachableError(url, true, `no answer within ${req.timeoutMs} ms`);
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new UnreachableError(url, false, cause?.code ?? cause?.message ?? (e as Error).message);
  }
}
