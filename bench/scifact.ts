// BEIR SciFact evaluation of Silt's BM25: nDCG@10 and Recall@100 over the 300 test queries.
//
//   npx tsx bench/scifact.ts            (npm run eval:scifact)
//
// Reads ../shared/data/scifact relative to the repository root (exits 0 with a message when it
// is absent), prints a table and writes bench/results/scifact.json. evaluate() takes any
// `search(queryText, k) => Promise<string[]>`, so the same evaluation can be pointed at the full
// engine or the HTTP API; here it runs directly over MemTextIndex + scoreView, and (config
// english-segment) over one text format 2 segment with block-max top-k, whose top-100 rows and
// scores are also checked to be bit for bit the tail's on every query.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FullTextOptions } from '../src/schema/types.ts';
import { createAnalyzer, type Analyzer } from '../src/segment/text/analyzer.ts';
import { TopK } from '../src/query/topk.ts';
import { encodeBlockTextField } from '../src/segment/text/block-index.ts';
import { BlockTextIndex, loadedSection } from '../src/segment/text/block-reader.ts';
import type { BlockTextView } from '../src/segment/text/block-view.ts';
import { blockMaxTopK } from '../src/segment/text/block-max.ts';
import { combineStats, scoreViewRows } from '../src/segment/text/index-view.ts';
import { MemTextIndex } from '../src/segment/text/mem-index.ts';
import { TopKCollector } from '../src/segment/text/top-k.ts';
import type { TokenizerName } from '../src/segment/text/tokenizer.ts';
import { beirAvailable, evaluate, loadBeir, type BeirDoc, type EvalResult, type SearchFn } from './lib/beir.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DATA = resolve(ROOT, '../shared/data/scifact');
const OUT = join(ROOT, 'bench/results/scifact.json');

const ENGLISH: FullTextOptions = {
  language: 'english', stemming: true, remove_stopwords: true, case_sensitive: false, k1: 1.2, b: 0.75,
};
const PLAIN: FullTextOptions = { ...ENGLISH, language: 'none', stemming: false, remove_stopwords: false };

interface Config {
  name: string;
  description: string;
  options: FullTextOptions;
  tokenizer?: TokenizerName;
  /** One field "title text", or two fields scored separately and summed with these boosts. */
  fields: 'combined' | { title: number; text: number };
  /** Split the corpus over this many views (segments + tail) scored with combined statistics. */
  views?: number;
  /** 'segment': one text format 2 section searched by block-max top-k (combined field only). */
  index?: 'tail' | 'segment';
}

const CONFIGS: Config[] = [
  { name: 'english', description: 'english analyzer, title+text as one field, k1=1.2 b=0.75 (Silt defaults)', options: ENGLISH, fields: 'combined' },
  { name: 'english-anserini', description: 'english analyzer, one field, k1=0.9 b=0.4 (Anserini defaults)', options: { ...ENGLISH, k1: 0.9, b: 0.4 }, fields: 'combined' },
  { name: 'english-2f', description: 'english analyzer, title and text as two fields, score = title + text', options: ENGLISH, fields: { title: 1, text: 1 } },
  { name: 'english-2f-t0.5', description: 'english analyzer, two fields, score = 0.5·title + text', options: ENGLISH, fields: { title: 0.5, text: 1 } },
  { name: 'english-nostem', description: 'english analyzer without stemming (possessives, stop words), one field', options: { ...ENGLISH, stemming: false }, fields: 'combined' },
  { name: 'plain', description: "language 'none' (lower-case only), one field, k1=1.2 b=0.75", options: PLAIN, fields: 'combined' },
  { name: 'plain-anserini', description: "language 'none', one field, k1=0.9 b=0.4", options: { ...PLAIN, k1: 0.9, b: 0.4 }, fields: 'combined' },
  { name: 'english-segment', description: 'as english, one segment: block postings (text format 2), block-max top-k', options: ENGLISH, fields: 'combined', index: 'segment' },
  { name: 'english-5views', description: 'as english, corpus split over 5 views scored with combined stats', options: ENGLISH, fields: 'combined', views: 5 },
  { name: 'english-regex', description: 'as english, tokenized with the UAX29_WORD regex instead of the scanner', options: ENGLISH, tokenizer: 'regex', fields: 'combined' },
  { name: 'english-segmenter', description: 'as english, tokenized with Intl.Segmenter instead of the scanner', options: ENGLISH, tokenizer: 'segmenter', fields: 'combined' },
];

interface Built {
  search: SearchFn;
  indexMs: number;
}

/** Indexes the corpus into MemTextIndex views and returns a search over them. */
async function segmentView(corpus: readonly BeirDoc[], analyze: Analyzer): Promise<BlockTextView> {
  const { bytes } = encodeBlockTextField(analyze, corpus.map((d) => `${d.title} ${d.text}`));
  return (await BlockTextIndex.open(loadedSection(bytes), 'text:text')).view(new Uint8Array(corpus.length).fill(1));
}

/** The query's terms fetched first (as the executor does), then block-max top-k over them. */
async function blockTop(base: BlockTextView, terms: string[], params: { k1: number; b: number }, k: number) {
  const view = await base.withTerms(terms);
  const top = new TopK(k);
  blockMaxTopK([{ view, terms, stats: combineStats([view]), params }], top, 0);
  return top.sorted();
}

/** Queries whose top k through the segment (rows and scores) differ from the tail's. */
async function scoreMismatches(corpus: readonly BeirDoc[], queries: ReadonlyArray<{ text: string }>, k: number): Promise<number> {
  const analyze = createAnalyzer(ENGLISH);
  const params = { k1: ENGLISH.k1, b: ENGLISH.b };
  const tail = new MemTextIndex(analyze);
  corpus.forEach((d, row) => tail.add(row, `${d.title} ${d.text}`));
  const view = await segmentView(corpus, analyze);
  let differ = 0;
  for (const q of queries) {
    const terms = analyze(q.text);
    const want = new TopK(k);
    const { rows, scores } = scoreViewRows(tail, terms, combineStats([tail]), params);
    rows.forEach((row, i) => want.push(row, scores[i]!));
    if (JSON.stringify(await blockTop(view, terms, params, k)) !== JSON.stringify(want.sorted())) differ++;
  }
  return differ;
}

function buildMemSearch(corpus: readonly BeirDoc[], cfg: Config): Built {
  const analyze = createAnalyzer(cfg.options, { tokenizer: cfg.tokenizer ?? 'scan' });
  const params = { k1: cfg.options.k1, b: cfg.options.b };
  const t0 = performance.now();
  if (cfg.index === 'segment') {
    // Encoding runs before segmentView's first await, so indexMs covers it.
    const view = segmentView(corpus, analyze);
    const indexMs = performance.now() - t0;
    const search: SearchFn = async (q, k) => (await blockTop(await view, analyze(q), params, k)).map(({ key }) => corpus[key]!.id);
    return { search, indexMs };
  }
  if (cfg.fields !== 'combined') {
    const { title: wt, text: wx } = cfg.fields;
    const titles = new MemTextIndex(analyze);
    const texts = new MemTextIndex(analyze);
    corpus.forEach((d, row) => {
      titles.add(row, d.title);
      texts.add(row, d.text);
    });
    const indexMs = performance.now() - t0;
    const search: SearchFn = async (q, k) => {
      const terms = analyze(q);
      const t = scoreViewRows(titles, terms, combineStats([titles]), { ...params, boost: wt });
      const x = scoreViewRows(texts, terms, combineStats([texts]), { ...params, boost: wx });
      // Sum the two fields per row (a most_fields query), then keep the best k.
      const sum = new Float64Array(corpus.length);
      const rows: number[] = [];
      for (const field of [t, x]) {
        field.rows.forEach((row, i) => {
          if (sum[row] === 0) rows.push(row);
          sum[row] = sum[row]! + field.scores[i]!;
        });
      }
      const top = new TopKCollector(k);
      for (const row of rows) top.offer(row, sum[row]!);
      return top.result().map(([row]) => corpus[row]!.id);
    };
    return { search, indexMs };
  }

  // Views hold contiguous slices of the corpus with their own row numbers, like segments.
  const n = cfg.views ?? 1;
  const views: Array<{ index: MemTextIndex; first: number }> = [];
  const per = Math.ceil(corpus.length / n);
  for (let v = 0; v < n; v++) {
    const index = new MemTextIndex(analyze);
    const first = v * per;
    corpus.slice(first, first + per).forEach((d, row) => index.add(row, `${d.title} ${d.text}`));
    views.push({ index, first });
  }
  const indexMs = performance.now() - t0;
  const search: SearchFn = async (q, k) => {
    const terms = analyze(q);
    const stats = combineStats(views.map((v) => v.index));
    const top = new TopKCollector(k);
    for (const { index, first } of views) top.offerAll(scoreViewRows(index, terms, stats, params), first);
    return top.result().map(([row]) => corpus[row]!.id);
  };
  return { search, indexMs };
}

/**
 * Picks the title weight of the two-field setup on SciFact's train split (809 queries), so the
 * test figure for it is not tuned on the test queries. null when the train qrels are absent.
 */
async function tuneTitleWeight(corpus: readonly BeirDoc[]): Promise<number | null> {
  if (!beirAvailable(DATA, 'train')) return null;
  const train = { ...loadBeir(DATA, 'train'), corpus: [...corpus] };
  let best = { weight: 1, ndcg: -1 };
  const line: string[] = [];
  for (const weight of [0.1, 0.25, 0.5, 0.75, 1, 1.5]) {
    const cfg: Config = { name: 'tune', description: '', options: ENGLISH, fields: { title: weight, text: 1 } };
    const { ndcg10 } = await evaluate(buildMemSearch(corpus, cfg).search, train, 100);
    line.push(`${weight}: ${ndcg10.toFixed(4)}`);
    if (ndcg10 > best.ndcg) best = { weight, ndcg: ndcg10 };
  }
  console.log(`title weight on train (nDCG@10): ${line.join(', ')} → ${best.weight}`);
  return best.weight;
}

/**
 * Throughput of each tokenizer over the corpus (the measurement cited in tokenizer.ts), and the
 * number of documents whose tokens differ from the default scanner's.
 */
function timeAnalysis(corpus: readonly BeirDoc[]): Record<TokenizerName, { ms: number; tokens: number; docsDifferingFromScan: number }> {
  const out = {} as Record<TokenizerName, { ms: number; tokens: number; docsDifferingFromScan: number }>;
  const texts = corpus.map((d) => `${d.title} ${d.text}`);
  const reference = texts.map((t) => createAnalyzer(PLAIN, { tokenizer: 'scan' })(t).join('\u0000'));
  for (const tokenizer of ['scan', 'regex', 'segmenter'] as const) {
    const analyze: Analyzer = createAnalyzer(PLAIN, { tokenizer });
    let tokens = 0;
    let best = Infinity;
    for (let rep = 0; rep < 3; rep++) {
      const t0 = performance.now();
      tokens = 0;
      for (const t of texts) tokens += analyze(t).length;
      best = Math.min(best, performance.now() - t0);
    }
    const differing = texts.filter((t, i) => analyze(t).join('\u0000') !== reference[i]).length;
    out[tokenizer] = { ms: best, tokens, docsDifferingFromScan: differing };
  }
  return out;
}

async function main(): Promise<void> {
  if (!beirAvailable(DATA)) {
    console.log(`SciFact not found at ${DATA}; skipping the evaluation (see DESIGN.md §9).`);
    return;
  }
  const data = loadBeir(DATA, 'test');
  console.log(`SciFact: ${data.corpus.length} docs, ${data.queries.length} test queries\n`);

  buildMemSearch(data.corpus, CONFIGS[0]!); // warm up the JIT so the first index time is comparable
  const results: Array<{ name: string; description: string; indexMs: number } & EvalResult> = [];
  for (const cfg of CONFIGS) {
    const { search, indexMs } = buildMemSearch(data.corpus, cfg);
    const r = await evaluate(search, data, 100);
    results.push({ name: cfg.name, description: cfg.description, indexMs, ...r });
  }
  const tuned = await tuneTitleWeight(data.corpus);
  if (tuned !== null) {
    const cfg: Config = {
      name: 'english-2f-train',
      description: `english analyzer, two fields, score = ${tuned}·title + text (weight chosen on the train split)`,
      options: ENGLISH, fields: { title: tuned, text: 1 },
    };
    const { search, indexMs } = buildMemSearch(data.corpus, cfg);
    results.push({ name: cfg.name, description: cfg.description, indexMs, ...(await evaluate(search, data, 100)) });
  }
  const analysis = timeAnalysis(data.corpus);
  const mismatches = { top10: await scoreMismatches(data.corpus, data.queries, 10), top100: await scoreMismatches(data.corpus, data.queries, 100) };

  const rows = results.map((r) => [
    r.name, r.ndcg10.toFixed(4), r.recall100.toFixed(4), r.latencyMs.p50.toFixed(3),
    r.latencyMs.p95.toFixed(3), r.indexMs.toFixed(0),
  ]);
  printTable(['config', 'nDCG@10', 'R@100', 'p50 ms', 'p95 ms', 'index ms'], rows);
  console.log('\nanalysis of title+text, best of 3 (lower-case + tokenize):');
  for (const [name, a] of Object.entries(analysis)) {
    console.log(`  ${name.padEnd(10)} ${a.ms.toFixed(0).padStart(6)} ms  ${a.tokens} tokens  ` +
      `${(a.tokens / a.ms / 1000).toFixed(2)}M tokens/s  ${a.docsDifferingFromScan} docs differ from scan`);
  }
  console.log(`\nsegment (block-max) vs tail, rows and scores bit for bit: ${mismatches.top10} of ${data.queries.length} queries differ at top 10, ${mismatches.top100} at top 100`);
  console.log('\nreference: BEIR BM25 (Anserini) 0.665; LanceDB FTS 0.684 (english) / 0.662 (plain)');

  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify({
    benchmark: 'scifact',
    command: 'npx tsx bench/scifact.ts',
    date: new Date().toISOString(),
    node: process.version,
    docs: data.corpus.length,
    queries: data.queries.length,
    metrics: 'nDCG@10 (pytrec_eval ndcg_cut_10), Recall@100; query ids dropped from results as BEIR does',
    results,
    analysis,
    segmentVsTailMismatches: mismatches,
    reference: { beir_bm25_anserini: 0.665, lancedb_fts_english: 0.684, lancedb_fts_plain: 0.662 },
  }, null, 2) + '\n');
  console.log(`\nwrote ${OUT}`);
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

await main();
