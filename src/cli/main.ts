// `silt`: the command line. Each command is one file; all but `serve`, `backup` and `restore`
// (which work on object storage) talk to a node over HTTP.
import { Command, CommanderError } from 'commander';
import { CliError } from './client.ts';
import { serveCommand } from './serve.ts';
import { importCommand } from './import.ts';
import { exportCommand } from './export.ts';
import { queryCommand } from './query.ts';
import { namespacesCommand } from './namespaces.ts';
import { statsCommand } from './stats.ts';
import { backupCommand, restoreCommand } from './backup.ts';

const program = new Command('silt')
  .description('Vector and full-text search on object storage')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();
for (const make of [serveCommand, importCommand, exportCommand, queryCommand, namespacesCommand, statsCommand, backupCommand, restoreCommand]) program.addCommand(make());

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode); // commander printed it already
  const command = process.argv[2] && !process.argv[2].startsWith('-') ? ` ${process.argv[2]}` : '';
  const message = e instanceof CliError ? e.message : (e as Error).message;
  process.stderr.write(`silt${command}: ${message.split('\n')[0]}\n`);
  process.exit(1);
}
