// The CLI's only way to Silt: its HTTP API, with the Bearer key when one is given. Nothing here
// imports the engine, so the CLI works against any Silt node, local or remote.
import type { Command } from 'commander';

export const DEFAULT_URL = 'http://127.0.0.1:3000';

/** A failure the CLI reports as one line and exits non-zero for. */
export class CliError extends Error {
  constructor(message: string, readonly body?: unknown, readonly status?: number, readonly retryAfterSecs?: number) {
    super(message);
  }
}

export interface ServerOptions {
  url: string;
  key?: string;
}

/** --url and --key, on every command that talks to a server. */
export function serverOptions(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'the Silt node to talk to (env SILT_URL)', process.env.SILT_URL ?? DEFAULT_URL)
    // The key's env fallback is read at run time, so --help never prints it.
    .option('--key <key>', 'API key, sent as Authorization: Bearer (default: env SILT_API_KEY)');
}

export class Client {
  private readonly base: string;

  constructor(private readonly opts: ServerOptions) {
    this.base = opts.url.replace(/\/+$/, '');
  }

  /** The parsed JSON answer of a 2xx; anything else throws a CliError with the server's code and message. */
  async request(method: string, path: string, body?: { json: unknown } | { ndjson: Buffer | string }): Promise<any> {
    const headers: Record<string, string> = {};
    const key = this.opts.key ?? process.env.SILT_API_KEY;
    if (key) headers.authorization = `Bearer ${key}`;
    let payload: string | undefined;
    if (body && 'json' in body) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body.json);
    } else if (body) {
      headers['content-type'] = 'application/x-ndjson';
      payload = body.ndjson.toString();
    }
    let res: Response;
    try {
      res = await fetch(this.base + path, { method, headers, ...(payload === undefined ? {} : { body: payload }) });
    } catch (e) {
      const cause = (e as Error & { cause?: Error }).cause;
      throw new CliError(`cannot reach ${this.base}: ${cause?.message ?? (e as Error).message}`);
    }
    const text = await res.text();
    let parsed: any = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: a proxy's page, say; reported as text below
    }
    if (res.ok) return parsed;
    const retryAfter = Number(res.headers.get('retry-after'));
    const err = parsed?.error;
    const message = err?.code ? `${res.status} ${err.code}: ${err.message}` : `${res.status} ${res.statusText}: ${text.slice(0, 200)}`;
    throw new CliError(message, parsed, res.status, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined);
  }
}

export function nsPath(ns: string, rest = ''): string {
  return `/v1/namespaces/${encodeURIComponent(ns)}${rest}`;
}
