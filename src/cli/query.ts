// `silt query NS`: a vector, full-text or hybrid query; prints the server's answer as JSON.
import { Command, InvalidArgumentError } from 'commander';
import { Client, CliError, nsPath, serverOptions, type ServerOptions } from './client.ts';

interface QueryOptions extends ServerOptions {
  vector?: number[];
  text?: string;
  field?: string;
  topK?: number;
  filter?: unknown;
}

function json(what: string) {
  return (value: string): unknown => {
    try {
      return JSON.parse(value);
    } catch (e) {
      throw new InvalidArgumentError(`${what} must be JSON: ${(e as Error).message}`);
    }
  };
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

export function queryCommand(): Command {
  return serverOptions(new Command('query').description('query a namespace: --vector, --text with --field, or both (hybrid)'))
    .argument('<namespace>', 'the namespace')
    .option('--vector <json>', 'query vector, e.g. "[0.1, 0.2, 0.3]"', json('--vector'))
    .option('--text <query>', 'full-text query')
    .option('--field <name>', 'attribute searched by --text')
    .option('--top-k <n>', 'results to return', positive)
    .option('--filter <json>', 'filter (docs/filters.md)', json('--filter'))
    .action(async (ns: string, opts: QueryOptions) => {
      if (opts.vector === undefined && opts.text === undefined) throw new CliError('give --vector, --text (with --field), or both');
      if ((opts.text === undefined) !== (opts.field === undefined)) throw new CliError('--text and --field go together');
      const body: Record<string, unknown> = {};
      if (opts.vector !== undefined) body.vector = opts.vector;
      if (opts.text !== undefined) body.full_text = { field: opts.field, query: opts.text };
      if (opts.topK !== undefined) body.top_k = opts.topK;
      if (opts.filter !== undefined) body.filter = opts.filter;
      const res = await new Client(opts).request('POST', nsPath(ns, '/query'), { json: body });
      process.stdout.write(`${JSON.stringify(res, null, 2)}\n`);
    });
}
