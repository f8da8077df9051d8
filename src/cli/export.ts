// `silt export NS`: every document as JSONL (the lines `silt import` takes), paging by id through
// GET /v1/namespaces/:ns/documents. Written to a temporary file renamed at the end with --out, so
// an interrupted export never leaves a file that looks complete.
import { createWriteStream, renameSync, rmSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { Command, InvalidArgumentError } from 'commander';
import { Client, nsPath, serverOptions, type ServerOptions } from './client.ts';

interface ExportOptions extends ServerOptions {
  out?: string;
  pageSize: number;
}

interface Page {
  documents: unknown[];
  next_after: number | string | null;
}

function pageSize(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('must be an integer from 1 to 10000');
  return n;
}

export function exportCommand(): Command {
  return serverOptions(new Command('export').description('write every document of a namespace as JSONL, in id order'))
    .argument('<namespace>', 'the namespace')
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--page-size <n>', 'documents per request', pageSize, 5000)
    .action(async (ns: string, opts: ExportOptions) => {
      const client = new Client(opts);
      const tmp = opts.out ? `${opts.out}.partial` : null;
      const out: WriteStream | NodeJS.WriteStream = tmp ? createWriteStream(tmp) : process.stdout;
      let count = 0;
      try {
        let after: number | string | null = null;
        do {
          const query: string = `limit=${opts.pageSize}${after === null ? '' : `&after=${encodeURIComponent(String(after))}`}`;
          const page = await client.request('GET', nsPath(ns, `/documents?${query}`)) as Page;
          const text = page.documents.map((d) => `${JSON.stringify(d)}\n`).join('');
          count += page.documents.length;
          if (!out.write(text)) await once(out, 'drain');
          after = page.next_after;
        } while (after !== null);
        if (tmp) {
          (out as WriteStream).end();
          await once(out, 'finish');
          renameSync(tmp, opts.out!);
          process.stderr.write(`exported ${count} documents of '${ns}' to ${opts.out}\n`);
        }
      } catch (e) {
        if (tmp) {
          (out as WriteStream).destroy();
          rmSync(tmp, { force: true });
        }
        throw e;
      }
    });
}
