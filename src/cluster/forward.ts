// Forwards a request to another node over HTTP (node:http with a keep-alive agent: measured
// cheaper per request than fetch) and classifies what went wrong: a node that refuses
// connections or times out is "unreachable", which callers turn into a fallback (queries) or a
// 503 naming the owner (writes).
import http from 'node:http';
import https from 'node:https';

export const FORWARDED_BY = 'x-silt-forwarded-by';
/** The request's id, as src/http-edge.ts reads and returns it (cluster/ does not import the edge). */
export const REQUEST_ID = 'x-request-id';
/** Proves a relayed request comes from a node (auth.cluster_token); checked in src/auth.ts. */
export const CLUSTER_TOKEN = 'x-silt-cluster-token';

export interface ForwardRequest {
  method: string;
  /** Path and query string, e.g. "/v1/namespaces/a/query". */
  path: string;
  body: Buffer | null;
  contentType: string | undefined;
  /** The client's content-encoding: the body is relayed as it arrived, compressed or not. */
  contentEncoding?: string | undefined;
  timeoutMs: number;
  /** This node's id, sent so the receiver can tell a forwarded request from a client's. */
  from: string;
  /** The client's Authorization header, passed on so the owner applies the client's own access. */
  authorization?: string | undefined;
  /** auth.cluster_token; '' when the cluster runs without keys. */
  clusterToken?: string | undefined;
  /** The request's id (x-request-id), so the owner's log lines carry the same one. */
  requestId?: string | undefined;
}

export interface ForwardResponse {
  status: number;
  header(name: string): string | undefined;
  body: Buffer;
}

export class UnreachableError extends Error {
  constructor(readonly url: string, readonly timedOut: boolean, detail: string) {
    super(detail);
  }
}

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 256 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 256 }),
};

export function forward(baseUrl: string, req: ForwardRequest): Promise<ForwardResponse> {
  const url = new URL(req.path, baseUrl);
  const secure = url.protocol === 'https:';
  const headers: Record<string, string | number> = { [FORWARDED_BY]: req.from };
  if (req.contentType) headers['content-type'] = req.contentType;
  if (req.contentEncoding) headers['content-encoding'] = req.contentEncoding;
  if (req.authorization) headers.authorization = req.authorization;
  if (req.clusterToken) headers[CLUSTER_TOKEN] = req.clusterToken;
  if (req.requestId) headers[REQUEST_ID] = req.requestId;
  const body = req.body && req.body.length > 0 ? req.body : null;
  if (body) headers['content-length'] = body.length;
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const outgoing = (secure ? https : http).request(url, {
      method: req.method, headers, agent: agents[secure ? 'https:' : 'http:'],
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 502,
          header: (name) => {
            const v = res.headers[name];
            return Array.isArray(v) ? v.join(', ') : v;
          },
          body: Buffer.concat(chunks),
        });
      });
      res.on('error', (e) => fail(e));
    });
    const fail = (e: Error & { code?: string }) => {
      clearTimeout(timer);
      reject(new UnreachableError(url.href, timedOut, timedOut ? `no answer within ${req.timeoutMs} ms` : (e.code ?? e.message)));
    };
    const timer = setTimeout(() => {
      timedOut = true;
      outgoing.destroy(new Error('timeout'));
    }, req.timeoutMs);
    outgoing.on('error', fail);
    outgoing.end(body ?? undefined);
  });
}
