// Paging a namespace by id, as turbopuffer users export (`rank_by: ["id", "asc"]` with
// `["id", "Gt", last]`): one page of 1,000 at increasing depths of one 200k-row segment, walked
// from the bound in the segment's id order (src/turbopuffer/order.ts pageById) vs a scan of every
// row per page (listDocuments, what GET /v1/namespaces/:ns/documents does) and a full sort by
// attribute (orderByAttributes on id). In process, no HTTP.
//
//   npx tsx bench/id-paging.ts [--rows 200000] [--pages 20]
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import type { NamespaceSchema } from '../src/schema/types.ts';
import { buildSegment, readSegmentMeta, SegmentReader } from '../src/segment/index.ts';
import { LiveSegment } from '../src/segment/live-segment.ts';
import { listDocuments } from '../src/namespace/read.ts';
import { orderByAttributes, pageById } from '../src/turbopuffer/order.ts';
import { parseFilters } from '../src/turbopuffer/query-parse.ts';
import { fmt, printTable, writeResult } from './lib/report.ts';
import { summarize } from './lib/stats.ts';

const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '200000' }, pages: { type: 'string', default: '20' } } });
const ROWS = Number(args.rows);
const PAGES = Number(args.pages);
const PAGE = 1000;

const schema: NamespaceSchema = { vector_dim: 2, vector_metric: 'cosine', attributes: { n: { type: 'integer', full_text: null, filterable: true } } };
// Ids written in a shuffled order, so id order is not row order.
const ids = Array.from({ length: ROWS }, (_, i) => BigInt(i * 3));
for (let i = ids.length - 1; i > 0; i--) {
  const j = (i * 7919) % (i + 1);
  [ids[i], ids[j]] = [ids[j]!, ids[i]!];
}
const { bytes } = await buildSegment({
  schema, ids, vectors: new Float32Array(ROWS * 2).fill(1), hasVector: new Uint8Array(ROWS).fill(1),
  attributes: ids.map((_, i) => ({ n: i % 100 })), hnsw: { m: 16, efConstruction: 200, seed: 100 }, exactScanBelow: Infinity,
});
const meta = readSegmentMeta(bytes.subarray(Math.max(0, bytes.length - 65_536)), bytes.length);
const reader = await SegmentReader.open({ meta, schema, tmpDir: tmpdir(), readSection: async (_n, { offset, length }) => bytes.subarray(offset, offset + length) });
const sources = [new LiveSegment('bench', reader, [])];

// Awaited: listDocuments is async (IVF segments read vectors on demand).
async function time(run: () => unknown): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < PAGES; i++) {
    const t = performance.now();
    await run();
    ms.push(performance.now() - t);
  }
  return ms;
}

const rows: Array<Array<string | number>> = [];
const results: Record<string, unknown>[] = [];
for (const depth of [0, 0.25, 0.5, 0.99]) {
  const after = BigInt(Math.floor(depth * ROWS) * 3);
  const filter = parseFilters(['id', 'Gt', Number(after)], schema, 'filters');
  const walk = summarize(await time(() => pageById(sources, filter, false, PAGE)));
  const scan = summarize(await time(() => listDocuments(schema, sources, after, PAGE)));
  const sort = summarize(await time(() => orderByAttributes(sources, filter, [{ attr: 'id', desc: false }]).slice(0, PAGE)));
  rows.push([`${depth * 100}%`, fmt(walk.p50), fmt(scan.p50), fmt(sort.p50)]);
  results.push({ depth, walk_p50_ms: walk.p50, scan_p50_ms: scan.p50, sort_p50_ms: sort.p50 });
}
printTable(`one page of ${PAGE} by id from one ${ROWS}-row segment: p50 ms over ${PAGES} pages`, ['depth', 'id-order walk', 'scan every row', 'sort every match'], rows);
writeResult('id-paging', { rows: ROWS, page: PAGE, pages: PAGES, results });
