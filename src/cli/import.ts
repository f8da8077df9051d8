// `silt import FILE --namespace NS`: sends a JSONL, Parquet or .fvecs file through the streaming upsert
// (application/x-ndjson), one batch a request. After each acknowledged batch the resume point is
// saved (import-state.ts), so an interrupted import goes on with --resume from the first document
// not acknowledged; a batch sent twice is harmless, as an upsert replaces.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { SingleBar } from 'cli-progress';
import { Client, CliError, nsPath, serverOptions, type ServerOptions } from './client.ts';
import { formatOf, fvecsBatches, jsonlBatches, type Batch, type Position } from './sources.ts';
import { parquetBatches, parquetRows } from './parquet.ts';
import { loadState, removeState, saveState, statePath, type ImportState } from './import-state.ts';

interface ImportOptions extends ServerOptions {
  namespace: string;
  batch: number;
  format?: string;
  idOffset: number;
  resume?: boolean;
  state?: string;
  progress: boolean;
}

/** A request body stays well under any server's request timeout. */
const MAX_BATCH_BYTES = 16 << 20;
/** 429 (backpressure) and 503 are waited out this many times per batch, then reported. */
const RETRIES = 30;

function integer(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`must be an integer >= ${min}`);
    return n;
  };
}

export function importCommand(): Command {
  return serverOptions(new Command('import').description('import a JSONL (one document a line, as the API takes them), Parquet or .fvecs file into a namespace'))
    .argument('<file>', 'the file: .jsonl/.ndjson; .parquet (columns id, vector?, attributes); .fvecs (vectors only; ids are row numbers)')
    .requiredOption('-n, --namespace <ns>', 'the namespace (it must exist)')
    .option('--batch <n>', 'documents per request', integer(1), 5000)
    .option('--format <format>', 'jsonl, parquet or fvecs (default: from the file name)')
    .option('--id-offset <n>', '.fvecs: the id of the first row', integer(0), 0)
    .option('--resume', 'go on with an interrupted import of this file (its state file)')
    .option('--state <path>', 'where the resume point is kept (default: FILE.silt-import.json)')
    .option('--no-progress', 'no progress bar')
    .action(async (file: string, opts: ImportOptions) => runImport(file, opts));
}

async function runImport(file: string, opts: ImportOptions): Promise<void> {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const format = formatOf(file, opts.format);
  // Progress counts bytes, except in Parquet (compressed columns), where it counts rows.
  const total = format === 'parquet' ? await parquetRows(file).catch((e: unknown) => {
    throw new CliError(`${file} is not a readable Parquet file: ${(e as Error).message}`);
  }) : size;
  const unit = format === 'parquet' ? (n: number) => `${n} rows` : human;
  const where = statePath(file, opts.state);
  const saved = loadState(where);
  let state: ImportState;
  if (opts.resume) {
    if (!saved) throw new CliError(`nothing to resume: ${where} does not exist`);
    if (saved.namespace !== opts.namespace) throw new CliError(`${where} is an import into '${saved.namespace}', not '${opts.namespace}'`);
    // The part already imported may not change; the rest may (a bad line fixed, say).
    const { offset } = saved.position;
    if (saved.format !== format || offset > total || (offset < total && !atLineStart(file, offset, format))) {
      throw new CliError(`${file} changed before the point where the import stopped (${where}); delete that file to start over`);
    }
    state = { ...saved, size };
  } else {
    if (saved) throw new CliError(`${where} records an interrupted import (${saved.documents} documents); pass --resume to go on, or delete it to start over`);
    state = { namespace: opts.namespace, format, size, id_offset: opts.idOffset, position: { offset: 0, line: 0 }, documents: 0 };
  }

  const client = new Client(opts);
  const upsert = nsPath(opts.namespace, '/upsert');
  const started = Date.now();
  const resumedAt = state.documents;
  const bar = opts.progress ? new SingleBar({
    stream: process.stderr,
    format: '{bar} {percentage}% | {docs} docs | {rate} docs/s | {done} of {size} | ETA {eta_formatted}',
    hideCursor: true,
    etaBuffer: 20,
  }) : null;
  const payload = () => {
    const secs = (Date.now() - started) / 1000;
    return { docs: state.documents, rate: secs > 0 ? Math.round((state.documents - resumedAt) / secs) : 0, done: unit(state.position.offset), size: unit(total) };
  };
  bar?.start(total, state.position.offset, payload());
  const interrupted = () => {
    bar?.stop();
    process.stderr.write(`silt import: interrupted after ${state.documents} documents; run again with --resume to go on\n`);
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  const acknowledge = (to: Position, docs: number) => {
    state = { ...state, position: to, documents: state.documents + docs };
    saveState(where, state);
    bar?.update(to.offset, payload());
  };

  try {
    const batches = format === 'fvecs'
      ? fvecsBatches(file, state.position, opts.batch, state.id_offset)
      : format === 'parquet'
        ? parquetBatches(file, state.position, opts.batch)
        : jsonlBatches(file, state.position, opts.batch, MAX_BATCH_BYTES);
    for await (const batch of batches) await send(client, upsert, batch, acknowledge, file, format);
  } catch (e) {
    if (e instanceof CliError && state.documents > 0) {
      throw new CliError(`${e.message} (the ${state.documents} documents before it are imported: run again with --resume to go on)`);
    }
    throw e;
  } finally {
    bar?.stop();
    process.removeListener('SIGINT', interrupted);
  }
  removeState(where);
  const secs = (Date.now() - started) / 1000;
  process.stdout.write(`imported ${state.documents - resumedAt} documents into '${opts.namespace}' (${human(size)} file, ${secs.toFixed(1)} s${resumedAt ? `; ${resumedAt} before resuming` : ''})\n`);
}

async function send(client: Client, path: string, batch: Batch, acknowledge: (to: Position, docs: number) => void, file: string, format: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const sent = batch;
    try {
      await client.request('POST', path, { ndjson: batch.body });
      acknowledge(batch.ends[batch.ends.length - 1]!, batch.ends.length);
      return;
    } catch (e) {
      if (!(e instanceof CliError)) throw e;
      // What the server wrote before it refused stays written: the resume point moves past it.
      const written = Number((e.body as { upserted?: unknown } | undefined)?.upserted ?? 0);
      if (written > 0 && written <= batch.ends.length) {
        acknowledge(batch.ends[written - 1]!, written);
        batch = { ...batch, body: dropLines(batch.body, written), start: batch.ends[written - 1]!, ends: batch.ends.slice(written) };
      }
      if ((e.status === 429 || e.status === 503) && attempt < RETRIES) {
        await new Promise((r) => setTimeout(r, 1000 * Math.min(e.retryAfterSecs ?? 1, 30)));
        continue;
      }
      // The server numbers the lines of its request; say which line of the file that is.
      const m = format === 'jsonl' ? /\bline (\d+)\b/.exec(e.message) : null;
      const at = m ? ` at line ${fileLine(sent, Number(m[1]))} of ${file}` : '';
      throw new CliError(`import stopped${at}: ${e.message}`);
    }
  }
}

/** True when `offset` is where a JSONL line starts (after a newline); .fvecs rows are checked as they are read. */
function atLineStart(file: string, offset: number, format: string): boolean {
  if (format !== 'jsonl' || offset === 0) return true;
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, offset - 1);
    return b[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}

/** The body without its first `n` lines (blank lines were never sent, so every line is a document). */
function dropLines(body: Buffer, n: number): Buffer {
  let at = 0;
  for (let i = 0; i < n; i++) at = body.indexOf(0x0a, at) + 1;
  return body.subarray(at);
}

/** The file line of the request's line `n` (1-based): documents are sent one a line, blank lines dropped. */
function fileLine(batch: Batch, n: number): number {
  return n <= batch.ends.length ? batch.ends[n - 1]!.line : batch.start.line + n;
}

function human(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}
