// fulltext: BEIR SciFact (5,183 abstracts, 300 test queries) through Silt's engine: a namespace
// with one full-text attribute `text` = "title text" (english analyzer, k1=1.2 b=0.75: the
// defaults, and the `english` configuration of bench/scifact.ts), queried with parseQuery +
// Namespace.query. Three namespaces hold the same corpus in different layouts: all in the
// write tail, folded into one segment by flushTail, and three segments plus a tail. BM25's
// collection statistics are namespace-wide, so nDCG@10 must be identical across layouts.
//
//   npm run bench -- fulltext          (or: npx tsx bench/fulltext.ts)

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { flushTail } from '../src/indexer/flush.ts';
import type { Namespace } from '../src/indexer/namespace.ts';
import { parseDocument } from '../src/schema/document.ts';
import { beirAvailable, evaluate, loadBeir, type BeirDataset, type EvalResult } from './lib/beir.ts';
import { SCIFACT_DIR } from './lib/data.ts';
import { fmt, printTable, RESULTS_DIR, verdict, writeResult } from './lib/report.ts';
import { createNamespace, indexingOptions, inProcessSilt, query, schemaOf, tempDir, upsertAll } from './lib/silt.ts';
import { median } from './lib/stats.ts';

const PASSES = 3;
const K = 100;

interface Layout {
  name: string;
  description: string;
  /** Corpus rows after which the tail is flushed into a segment. */
  flushAfter: number[];
}

async function main(): Promise<void> {
  if (!beirAvailable(SCIFACT_DIR)) {
    console.log(`fulltext: SciFact not found at ${SCIFACT_DIR}; skipping.`);
    return;
  }
  const data = loadBeir(SCIFACT_DIR, 'test');
  const n = data.corpus.length;
  console.log(`fulltext: SciFact ${n} docs, ${data.queries.length} test queries; one full-text field "title text", english analyzer`);
  const layouts: Layout[] = [
    { name: 'tail', description: 'everything in the write tail (memtable)', flushAfter: [] },
    { name: 'segment', description: 'flushTail: one segment, empty tail', flushAfter: [n] },
    {
      name: '3 segments + tail', description: 'three segments and the last ~10% in the tail',
      flushAfter: [Math.floor(n * 0.3), Math.floor(n * 0.6), Math.floor(n * 0.9)],
    },
  ];

  const dir = await tempDir('fulltext');
  const silt = await inProcessSilt(dir, indexingOptions());
  const schema = schemaOf({ vector_dim: 1, attributes: { text: { type: 'string', full_text: true } } });
  const docs = data.corpus.map((d, i) => parseDocument({ id: d.id, attributes: { text: `${d.title} ${d.text}` } }, schema, 'scifact', `corpus[${i}]`));
  const namespaces: Namespace[] = [];
  for (const [i, layout] of layouts.entries()) {
    const ns = await createNamespace(silt.catalog, `scifact-${i}`, schema);
    let from = 0;
    for (const cut of [...layout.flushAfter, n]) {
      await upsertAll(ns, docs.slice(from, cut), 1000);
      if (cut < n || layout.flushAfter.includes(n)) await flushTail(ns);
      from = cut;
    }
    const s = ns.stats();
    console.log(`${layout.name}: ${s.segments.length} segment(s) holding ${s.documents - s.unindexed_documents}, ${s.unindexed_documents} in the tail`);
    namespaces.push(ns);
  }

  const searchOf = (ns: Namespace) => async (text: string, k: number) =>
    (await query(ns, { full_text: { field: 'text', query: text }, top_k: k, include_attributes: false })).map((h) => String(h.id));

  // Passes rotate through the layouts; evaluate() runs every query once to warm up, once timed.
  const runs: EvalResult[][] = layouts.map(() => []);
  for (let pass = 0; pass < PASSES; pass++) {
    for (let j = 0; j < layouts.length; j++) {
      const l = (pass + j) % layouts.length;
      runs[l]!.push(await evaluate(searchOf(namespaces[l]!), data, K));
    }
  }
  const differing = await rankingDifferences(namespaces, data);
  await silt.close();
  await rm(dir, { recursive: true, force: true });

  const results = layouts.map((layout, l) => ({
    layout: layout.name,
    description: layout.description,
    ndcg10: runs[l]![0]!.ndcg10,
    recall100: runs[l]![0]!.recall100,
    latencyMs: {
      p50: median(runs[l]!.map((r) => r.latencyMs.p50)),
      p95: median(runs[l]!.map((r) => r.latencyMs.p95)),
      mean: median(runs[l]!.map((r) => r.latencyMs.mean)),
    },
    latencyP50PerPass: runs[l]!.map((r) => r.latencyMs.p50),
  }));
  printTable(`SciFact test (300 queries), top ${K + 1} per query, median of ${PASSES} passes (latency in ms)`,
    ['layout', 'nDCG@10', 'R@100', 'p50', 'p95', 'mean'],
    results.map((r) => [r.layout, fmt(r.ndcg10, 4), fmt(r.recall100, 4), fmt(r.latencyMs.p50), fmt(r.latencyMs.p95), fmt(r.latencyMs.mean)]));

  const identical = results.every((r) => r.ndcg10 === results[0]!.ndcg10 && r.recall100 === results[0]!.recall100);
  console.log(`\nnDCG@10 identical across layouts: ${identical ? 'yes' : 'NO'}; ` +
    `queries whose top 10 differ from the tail's: ${differing.map((d, i) => `${layouts[i]!.name} ${d.differ} (${d.tiesOnly} only in the order of equal scores)`).slice(1).join(', ')}`);
  const reference = referenceNdcg();
  if (reference !== null) console.log(`bench/scifact.ts 'english' (MemTextIndex directly, last run): nDCG@10 ${fmt(reference, 4)}`);
  console.log(`target identical nDCG@10 in tail and segments: ${verdict(identical)}`);

  writeResult('fulltext', {
    data: { docs: n, queries: data.queries.length, field: 'text = title + " " + text', analyzer: 'english, k1=1.2, b=0.75' },
    method: `${PASSES} passes rotating over the layouts; bench/lib/beir.ts evaluate() (one warm-up run, one timed) per pass; medians`,
    results,
    queriesWithDifferentTop10: Object.fromEntries(layouts.map((l, i) => [l.name, differing[i]])),
    referenceScifactEnglishNdcg10: reference,
    target: { identicalNdcg: true, met: identical },
  });
}

/**
 * Per layout, the queries whose top-10 ids differ from the first layout's, and how many of those
 * differ only in the order of equal scores (ties are broken by row position, which the layout
 * changes).
 */
async function rankingDifferences(namespaces: Namespace[], data: BeirDataset): Promise<Array<{ differ: number; tiesOnly: number }>> {
  const out = namespaces.map(() => ({ differ: 0, tiesOnly: 0 }));
  for (const q of data.queries) {
    const lists = await Promise.all(namespaces.map((ns) => query(ns, { full_text: { field: 'text', query: q.text }, top_k: 10, include_attributes: false })));
    const ids0 = lists[0]!.map((h) => String(h.id)).join(',');
    const scores0 = lists[0]!.map((h) => h.score);
    lists.forEach((list, i) => {
      if (list.map((h) => String(h.id)).join(',') === ids0) return;
      out[i]!.differ++;
      if (list.length === scores0.length && list.every((h, j) => h.score === scores0[j])) out[i]!.tiesOnly++;
    });
  }
  return out;
}

/** The 'english' nDCG@10 of bench/scifact.ts's last run (its own JSON), for comparison. */
function referenceNdcg(): number | null {
  const path = join(RESULTS_DIR, 'scifact.json');
  if (!existsSync(path)) return null;
  try {
    const json = JSON.parse(readFileSync(path, 'utf8')) as { results?: Array<{ name: string; ndcg10: number }> };
    return json.results?.find((r) => r.name === 'english')?.ndcg10 ?? null;
  } catch {
    return null;
  }
}

await main();
