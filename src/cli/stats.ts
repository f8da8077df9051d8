// `silt stats [NS]`: a namespace's schema and counts, or the node's figures, as JSON.
import { Command } from 'commander';
import { Client, nsPath, serverOptions, type ServerOptions } from './client.ts';

export function statsCommand(): Command {
  return serverOptions(new Command('stats').description("a namespace's schema and counts (GET /v1/namespaces/NS), or the node's (GET /stats)"))
    .argument('[namespace]', 'the namespace; the node when absent')
    .action(async (ns: string | undefined, opts: ServerOptions) => {
      const res = await new Client(opts).request('GET', ns === undefined ? '/stats' : nsPath(ns));
      process.stdout.write(`${JSON.stringify(res, null, 2)}\n`);
    });
}
