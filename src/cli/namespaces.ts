// `silt namespaces`: one namespace name a line.
import { Command } from 'commander';
import { Client, serverOptions, type ServerOptions } from './client.ts';

export function namespacesCommand(): Command {
  return serverOptions(new Command('namespaces').description('list the namespaces, one a line'))
    .action(async (opts: ServerOptions) => {
      const client = new Client(opts);
      // The list comes in pages (docs/api.md); each is printed as it arrives.
      let cursor: string | null = null;
      do {
        const path: string = `/v1/namespaces?page_size=1000${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
        const page = await client.request('GET', path) as { namespaces: Array<{ id: string }>; next_cursor: string | null };
        for (const ns of page.namespaces) process.stdout.write(`${ns.id}\n`);
        cursor = page.next_cursor;
      } while (cursor);
    });
}
