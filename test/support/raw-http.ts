// HTTP/1.1 over a bare TCP socket, so tests can send what fetch and node:http refuse to: broken
// percent-encoding, odd or duplicate headers, lying content-lengths, trickled bytes.
import net from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection without sending a full response. */
  closedEarly: boolean;
}

/** Sends `request` (bytes as given) and reads the first response; `end` half-closes after writing. */
export function rawRequest(port: number, request: string | Buffer, opts: { end?: boolean; head?: boolean } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let done = false;
    const finish = (closedEarly: boolean) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ ...parseResponse(data, opts.head ?? false), closedEarly });
    };
    socket.on('connect', () => (opts.end ? socket.end(request) : socket.write(request)));
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (isComplete(data, opts.head ?? false)) finish(false);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? finish(true) : reject(e)));
    socket.on('close', () => finish(!isComplete(data, opts.head ?? false)));
  });
}

/** The final response's head and body; interim 1xx responses (100 Continue) are skipped. */
function split(data: Buffer): { head: string; body: Buffer } | null {
  for (;;) {
    const at = data.indexOf('\r\n\r\n');
    if (at < 0) return null;
    const head = data.subarray(0, at).toString('latin1');
    if (!/^HTTP\/1\.[01] 1\d\d/.test(head)) return { head, body: data.subarray(at + 4) };
    data = data.subarray(at + 4);
  }
}

function isComplete(data: Buffer, head: boolean): boolean {
  const parts = split(data);
  if (!parts) return false;
  if (head) return true;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(parts.head);
  return length !== null && parts.body.length >= Number(length[1]);
}

function parseResponse(data: Buffer, head: boolean): Omit<RawResponse, 'closedEarly'> {
  const parts = split(data);
  if (!parts) return { status: 0, headers: {}, body: data.toString('utf8') };
  const [statusLine = '', ...lines] = parts.head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? parts.body.length);
  return {
    status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0),
    headers,
    body: head ? '' : parts.body.subarray(0, length).toString('utf8'),
  };
}

/** A well-framed request: content-length matches the body unless headers say otherwise. */
export function httpRequest(method: string, path: string, opts: { headers?: Array<[string, string]>; body?: string | Buffer } = {}): Buffer {
  const body = opts.body === undefined ? Buffer.alloc(0) : Buffer.from(opts.body);
  const headers = opts.headers ?? [];
  const lines = [`${method} ${path} HTTP/1.1`, 'host: 127.0.0.1', ...headers.map(([k, v]) => `${k}: ${v}`)];
  const framed = headers.some(([k]) => /^(content-length|transfer-encoding)$/i.test(k));
  if (!framed && (opts.body !== undefined)) lines.push(`content-length: ${body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), body]);
}
