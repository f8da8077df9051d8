// What `silt import` reads: a file, from a byte offset on, as batches of NDJSON lines ready to
// send, each knowing where in the file its documents end (so an import resumes exactly after
// the last one the server acknowledged).
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { CliError } from './client.ts';

export type Format = 'jsonl' | 'fvecs' | 'parquet';

export interface Position {
  /** Bytes of the file consumed. */
  offset: number;
  /** Lines (JSONL) or rows (fvecs) consumed. */
  line: number;
}

export interface Batch {
  body: Buffer;
  /** Where the file was before this batch. */
  start: Position;
  /** Where it is after each of the batch's documents, in order. */
  ends: Position[];
}

export function formatOf(path: string, given?: string): Format {
  const f = given ?? (/\.fvecs$/i.test(path) ? 'fvecs' : /\.parquet$/i.test(path) ? 'parquet' : /\.(jsonl|ndjson|json)$/i.test(path) ? 'jsonl' : undefined);
  if (f === 'jsonl' || f === 'fvecs' || f === 'parquet') return f;
  throw new CliError(given
    ? `unknown --format '${given}'; use jsonl, fvecs or parquet`
    : `cannot tell the format of ${path} from its name; use --format jsonl (one document a line), fvecs or parquet`);
}

/** JSONL: one document a line, as the API takes them; blank lines are skipped (the server skips them too). */
export async function* jsonlBatches(path: string, from: Position, batchDocs: number, maxBatchBytes: number): AsyncGenerator<Batch> {
  let pos = { ...from };
  let batch: Batch = { body: Buffer.alloc(0), start: pos, ends: [] };
  let parts: Buffer[] = [];
  let bytes = 0;
  let carry: Buffer[] = [];
  const take = (line: Buffer, newline = 1): Batch | null => {
    pos = { offset: pos.offset + line.length + newline, line: pos.line + 1 };
    if (line.toString('utf8').trim() === '') {
      if (batch.ends.length === 0) batch.start = pos; // nothing sent yet: the batch starts after it
      return null;
    }
    parts.push(line, NEWLINE);
    bytes += line.length + 1;
    batch.ends.push(pos);
    if (batch.ends.length < batchDocs && bytes < maxBatchBytes) return null;
    return cut();
  };
  const cut = (): Batch => {
    const done = { ...batch, body: Buffer.concat(parts) };
    batch = { body: Buffer.alloc(0), start: pos, ends: [] };
    parts = [];
    bytes = 0;
    return done;
  };
  for await (const chunk of createReadStream(path, { start: from.offset, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const line = carry.length ? Buffer.concat([...carry, chunk.subarray(start, nl)]) : chunk.subarray(start, nl);
      carry = [];
      start = nl + 1;
      const full = take(line);
      if (full) yield full;
    }
    if (start < chunk.length) carry.push(chunk.subarray(start));
  }
  if (carry.length) {
    const last = take(Buffer.concat(carry), 0);
    if (last) yield last;
  }
  if (batch.ends.length) yield cut();
}

const NEWLINE = Buffer.from('\n');

/**
 * .fvecs (the ANN benchmarks' format): each row a little-endian int32 dimension, then that many
 * float32. Rows become {"id": idOffset + row, "vector": [...]}.
 */
export async function* fvecsBatches(path: string, from: Position, batchDocs: number, idOffset: number): AsyncGenerator<Batch> {
  const file = await open(path, 'r');
  try {
    const size = (await file.stat()).size;
    if (size === 0) return;
    const head = Buffer.alloc(4);
    await file.read(head, 0, 4, 0);
    const dim = head.readInt32LE(0);
    const rowBytes = 4 + 4 * dim;
    if (dim < 1 || dim > 65536 || size % rowBytes !== 0) {
      throw new CliError(`${path} is not an .fvecs file: its first row says ${dim} dimensions, and ${size} bytes is not a whole number of such rows`);
    }
    let pos = { ...from };
    while (pos.offset < size) {
      const rows = Math.min(batchDocs, (size - pos.offset) / rowBytes);
      const buf = Buffer.alloc(rows * rowBytes);
      await file.read(buf, 0, buf.length, pos.offset);
      const start = pos;
      const ends: Position[] = [];
      const lines: string[] = [];
      for (let r = 0; r < rows; r++) {
        const at = r * rowBytes;
        const row = pos.line;
        if (buf.readInt32LE(at) !== dim) throw new CliError(`${path}: row ${row} has ${buf.readInt32LE(at)} dimensions, the first row ${dim}`);
        const vector = Array.from({ length: dim }, (_, i) => buf.readFloatLE(at + 4 + 4 * i));
        lines.push(JSON.stringify({ id: idOffset + row, vector }));
        pos = { offset: pos.offset + rowBytes, line: row + 1 };
        ends.push(pos);
      }
      yield { body: Buffer.from(lines.join('\n') + '\n'), start, ends };
    }
  } finally {
    await file.close();
  }
}
