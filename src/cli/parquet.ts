// Parquet for `silt import` (through hyparquet): a row is a document, its `id` column the id, an
// optional `vector` column (a list of numbers) the vector, every other column an attribute (null
// = absent). The resume point counts rows: Position.offset and .line are both the row number.
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { CliError } from './client.ts';
import type { Batch, Position } from './sources.ts';

export async function parquetRows(path: string): Promise<number> {
  const meta = await parquetMetadataAsync(await asyncBufferFromFile(path));
  return Number(meta.num_rows);
}

export async function* parquetBatches(path: string, from: Position, batchDocs: number): AsyncGenerator<Batch> {
  const file = await asyncBufferFromFile(path);
  const meta = await parquetMetadataAsync(file);
  const rows = Number(meta.num_rows);
  const columns = meta.schema.slice(1).map((c) => c.name);
  if (!columns.includes('id')) throw new CliError(`${path} has no 'id' column (columns: ${columns.join(', ')})`);
  for (let start = from.offset; start < rows; start += batchDocs) {
    const end = Math.min(rows, start + batchDocs);
    const objects = await parquetReadObjects({ file, metadata: meta, rowStart: start, rowEnd: end });
    const lines = objects.map((row, i) => JSON.stringify(documentOf(row, start + i, path)));
    const ends = lines.map((_, i) => ({ offset: start + i + 1, line: start + i + 1 }));
    yield { body: Buffer.from(lines.join('\n') + '\n'), start: { offset: start, line: start }, ends };
  }
}

function documentOf(row: Record<string, unknown>, n: number, path: string): object {
  const doc: Record<string, unknown> = { id: plain(row.id) };
  if (doc.id === null || doc.id === undefined) throw new CliError(`${path}: row ${n} has no id`);
  if (row.vector !== null && row.vector !== undefined) doc.vector = Array.from(row.vector as ArrayLike<number>, Number);
  const attributes: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(row)) {
    if (name === 'id' || name === 'vector' || value === null || value === undefined) continue;
    attributes[name] = plain(value);
  }
  if (Object.keys(attributes).length > 0) doc.attributes = attributes;
  return doc;
}

/** JSON for Parquet's values: INT64 as a number when exact, else its digits (as the API takes u64 ids); dates in ISO 8601. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(plain);
  return v;
}
