// `silt backup --to LOCATION` and `silt restore --from LOCATION`: copy namespaces between the
// storage a node is configured with and a backup location, working on object storage directly
// (no server needed, like `silt serve` it reads --config and SILT_* variables). The engine side
// is src/backup/, loaded only when one of these commands runs, as serve loads main.ts.
import { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { CliError } from './client.ts';

interface MirrorCliOptions {
  config?: string;
  namespace?: string[];
  progress: boolean;
}

const human = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);

async function run(direction: 'backup' | 'restore', location: string, opts: MirrorCliOptions): Promise<void> {
  const { runMirror, MirrorError } = await import('../backup/run.ts');
  const started = Date.now();
  const bar = opts.progress ? new SingleBar({
    stream: process.stderr,
    format: '{bar} {percentage}% | {value}/{total} objects | {done} of {size} | {namespace}',
    hideCursor: true,
  }) : null;
  bar?.start(1, 0, { done: human(0), size: human(0), namespace: '' });
  try {
    const result = await runMirror({
      direction, location,
      ...(opts.config ? { config: opts.config } : {}),
      ...(opts.namespace ? { namespaces: opts.namespace } : {}),
      onProgress: (p) => {
        bar?.setTotal(Math.max(1, p.totalObjects));
        bar?.update(p.objects, { done: human(p.bytes), size: human(p.totalBytes), namespace: p.namespace });
      },
    });
    bar?.stop();
    const copied = result.namespaces.reduce((n, r) => n + r.copied, 0);
    const skipped = result.namespaces.reduce((n, r) => n + r.skipped, 0);
    const bytes = result.namespaces.reduce((n, r) => n + r.bytes, 0);
    const verb = direction === 'backup' ? 'backed up' : 'restored';
    for (const r of result.namespaces) process.stdout.write(`${verb} '${r.namespace}' at version ${r.version}\n`);
    process.stdout.write(`${verb} ${result.namespaces.length} namespaces: ${copied} objects copied (${human(bytes)}), ${skipped} segments already there, ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  } catch (e) {
    bar?.stop();
    if (e instanceof MirrorError) throw new CliError(e.message);
    throw new CliError((e as Error).name === 'ConfigError' ? `configuration error: ${(e as Error).message}` : (e as Error).message);
  }
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function backupCommand(): Command {
  return new Command('backup')
    .description('copy namespaces (segments missing there, manifest history, WAL tail) from the configured storage to a backup; incremental')
    .requiredOption('--to <location>', 'a directory, or s3://bucket/prefix (same endpoint and credentials as storage.s3)')
    .option('--config <path>', 'TOML configuration file naming the storage (as silt serve reads it)')
    .option('-n, --namespace <ns>', 'only this namespace (repeatable; default: all)', collect)
    .option('--no-progress', 'no progress bar')
    .action(async (opts: MirrorCliOptions & { to: string }) => run('backup', opts.to, opts));
}

export function restoreCommand(): Command {
  return new Command('restore')
    .description('bring namespaces back from a backup into the configured storage (they must not exist there)')
    .requiredOption('--from <location>', 'a directory, or s3://bucket/prefix, written by silt backup')
    .option('--config <path>', 'TOML configuration file naming the storage (as silt serve reads it)')
    .option('-n, --namespace <ns>', 'only this namespace (repeatable; default: all in the backup)', collect)
    .option('--no-progress', 'no progress bar')
    .action(async (opts: MirrorCliOptions & { from: string }) => run('restore', opts.from, opts));
}
