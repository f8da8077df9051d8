// Streaming bulk upsert: an application/x-ndjson body (one document per line) is read as it
// arrives and written in chunks, each through the namespace's normal write path (durable WAL ack,
// backpressure) before the next is read. Memory holds one chunk, never the whole body, and the
// event loop parses one line at a time instead of one giant JSON.parse. A bad line stops the
// import there: the chunks before it stay written (they were acknowledged) and the answer says
// how many documents that is, so a client resumes after them.
//
// What bounds such a body is not server.body_limit_bytes (an import can be far larger than one
// JSON batch) but: one line at most body_limit_bytes, server.request_timeout_ms for the whole
// request, and write backpressure (429) for the unindexed tail.
import type { Readable } from 'node:stream';
import { Errors, SiltError } from '../errors.ts';
import { parseDocument } from '../schema/document.ts';
import type { Document } from '../schema/types.ts';
import type { Namespace } from './namespace.ts';
import { BackpressureError } from './backpressure.ts';

/** A chunk is written when it reaches this many documents… */
export const CHUNK_DOCS = 1000;
/** …or this many bytes of lines, whichever comes first. */
export const CHUNK_BYTES = 4 << 20;

export interface Line {
  /** 1-based, counting blank lines too, so it matches what an editor shows. */
  n: number;
  text: string;
  bytes: number;
}

/**
 * The lines of a byte stream. Hand-written (split2/readline would do the splitting) because the
 * limit must apply to one line while it is still being received, not after it was buffered.
 * Splitting on the byte 0x0a is safe in UTF-8: it never occurs inside a multi-byte character.
 */
export async function* lines(stream: AsyncIterable<Buffer>, maxLineBytes: number): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let pending = 0;
  let n = 0;
  const line = (tail: Buffer): Line => {
    const buf = parts.length === 0 ? tail : Buffer.concat([...parts, tail]);
    parts = [];
    pending = 0;
    n++;
    const end = buf.length > 0 && buf[buf.length - 1] === 0x0d ? buf.length - 1 : buf.length;
    return { n, text: buf.toString('utf8', 0, end), bytes: buf.length + 1 };
  };
  for await (const chunk of stream) {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      if (pending + nl - start > maxLineBytes) throw lineTooLong(n + 1, maxLineBytes);
      yield line(chunk.subarray(start, nl));
      start = nl + 1;
    }
    if (start < chunk.length) {
      pending += chunk.length - start;
      if (pending > maxLineBytes) throw lineTooLong(n + 1, maxLineBytes);
      parts.push(chunk.subarray(start));
    }
  }
  if (pending > 0) yield line(Buffer.alloc(0));
}

function lineTooLong(n: number, max: number): SiltError {
  return Errors.invalidRequest(`line ${n}`, `is longer than ${max} bytes (server.body_limit_bytes), the most one document may take`);
}

export interface NdjsonResult {
  upserted: number;
  walSeq: number | null;
  chunks: number;
}

/** A refused line or chunk, with how many documents were written before it. */
export class PartialUpsertError extends Error {
  constructor(readonly error: SiltError, readonly upserted: number) {
    super(error.message);
  }

  get retryAfterSecs(): number | null {
    return this.error instanceof BackpressureError ? this.error.retryAfterSecs : null;
  }
}

/**
 * Reads `body` to the end and upserts its documents into `ns`, chunk by chunk. Throws a
 * PartialUpsertError for any client-facing error (so the count reaches the client); anything else
 * (a storage failure) is rethrown as it is, after `onWritten` has been told the count.
 */
export async function upsertNdjson(
  ns: Namespace,
  body: Readable,
  maxLineBytes: number,
  onWritten: (n: number) => void,
  /**
   * The namespace as the catalog has it now, taken again for every chunk: a long stream must keep
   * counting as use (indexing.idle_close_secs), and a namespace closed meanwhile is reopened.
   */
  current: () => Promise<Namespace> = async () => ns,
): Promise<NdjsonResult> {
  const result: NdjsonResult = { upserted: 0, walSeq: null, chunks: 0 };
  let chunk: Document[] = [];
  let chunkBytes = 0;
  const write = async () => {
    const target = await current();
    const { seq, result: written } = await target.write({ kind: 'upsert', docs: chunk });
    result.upserted += written.count;
    result.walSeq = seq;
    result.chunks++;
    onWritten(result.upserted);
    chunk = [];
    chunkBytes = 0;
  };
  try {
    for await (const line of lines(body, maxLineBytes)) {
      if (line.text.trim() === '') continue;
      let raw: unknown;
      try {
        raw = JSON.parse(line.text);
      } catch (e) {
        throw Errors.invalidJson(`line ${line.n}: ${(e as Error).message}`);
      }
      chunk.push(parseDocument(raw, ns.schema, ns.name, `line ${line.n}`));
      chunkBytes += line.bytes;
      if (chunk.length >= CHUNK_DOCS || chunkBytes >= CHUNK_BYTES) await write();
    }
    if (chunk.length > 0) await write();
    if (result.upserted === 0) throw Errors.invalidRequest('body', 'must contain at least one document, one JSON object per line');
  } catch (e) {
    if (e instanceof SiltError) throw new PartialUpsertError(e, result.upserted);
    throw e;
  }
  return result;
}
