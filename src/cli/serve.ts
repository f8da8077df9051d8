// `silt serve`: the server itself, as `npm start` runs it (src/main.ts, in this process so that
// signals reach it). The options are main.ts's own: `--config PATH`, then SILT_* variables.
import { Command } from 'commander';

export function serveCommand(): Command {
  return new Command('serve')
    .description('run a Silt node (configuration: --config PATH, SILT_* environment variables; see docs/configuration.md)')
    .option('--config <path>', 'TOML configuration file')
    .action(async (opts: { config?: string }) => {
      // main.ts reads its arguments from process.argv, as under `node src/main.ts`.
      process.argv = [process.argv[0]!, 'silt', ...(opts.config ? ['--config', opts.config] : [])];
      await import('../main.ts');
    });
}
