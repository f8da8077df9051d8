// `silt namespaces`: one namespace name a line.
import { Command } from 'commander';
import { Client, serverOptions, type ServerOptions } from './client.ts';

export function namespacesCommand(): Command {
  return serverOptions(new Command('namespaces').description('list the namespaces, one a line'))
    .action(async (opts: ServerOptions) => {
      const res = await new Client(opts).request('GET', '/v1/namespaces') as { namespaces: string[] };
      for (const ns of res.namespaces) process.stdout.write(`${ns}\n`);
    });
}
