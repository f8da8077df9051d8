// The console: a few static files under /console/ (src/console/public/ and uPlot's build), served
// by @fastify/static. The files hold no data and no secret, so they are served without a key
// (ROUTE_ACCESS: open): a browser cannot send a Bearer header when it navigates to a page. The
// page asks for the key and sends it as Bearer on every API call it makes, so the data stays
// behind the keys exactly as for any other client. A cookie session instead would need a login
// route and CSRF protection on every write route.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

/** Without the trailing slash, so that @fastify/static adds GET /console (a redirect to /console/). */
export const CONSOLE_PREFIX = '/console';

const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));
// uPlot's dist/ also holds its CommonJS and IIFE builds and types: only these two are served.
const UPLOT_DIR = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.esm.js'));
const UPLOT_FILES = new Set(['/uPlot.esm.js', '/uPlot.min.css']);

/**
 * The page keeps an API key in memory and sessionStorage: nothing but its own files may run in
 * it, and no other site may frame it. connect-src 'self': it talks to this node only.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export function registerConsole(app: FastifyInstance): void {
  void app.register(fastifyStatic, {
    root: [PUBLIC_DIR, UPLOT_DIR],
    prefix: CONSOLE_PREFIX,
    // GET /console answers 301 to /console/, where the page's relative URLs resolve.
    redirect: true,
    index: 'index.html',
    allowedPath: (pathname) => !pathname.startsWith('/uPlot.') || UPLOT_FILES.has(pathname),
    decorateReply: false,
    // The URLs carry no version, so a browser revalidates every file on each load (ETag and
    // Last-Modified answer 304 when nothing changed): an upgraded node never runs a stale page.
    cacheControl: false,
    setHeaders(res) {
      res.setHeader('cache-control', 'no-cache');
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    },
  });
}
