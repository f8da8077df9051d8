// Full-text ranking of the turbopuffer API: `[attr, "BM25", query]` clauses combined by `Sum`
// (scores added), `Max` (the best clause) and `Product` (a clause's score times a weight), as
// turbopuffer documents them. Each clause is scored by Silt's BM25 with namespace-wide statistics
// (segment/text/index-view.ts), so a document scores the same whichever source holds it.
import { Errors } from '../errors.ts';
import type { NamespaceSchema } from '../schema/types.ts';
import type { RowSource } from '../segment/row-source.ts';
import { combineStats, scoreViewRows, viewsWithTerms, type TextIndexView } from '../segment/text/index-view.ts';
import { analyzerOf } from '../query/filter/extended.ts';
import { ownValue } from '../schema/records.ts';

export type TextExpr =
  | { kind: 'bm25'; field: string; terms: string[]; prefix: string | null }
  | { kind: 'sum' | 'max'; children: TextExpr[] }
  | { kind: 'product'; weight: number; child: TextExpr };

/**
 * Terms a prefix stands for, at most, per source. A prefix scores as its best-scoring expansion
 * (one query term typed partly), not as the sum of every term it begins.
 */
const PREFIX_EXPANSIONS = 64;

const bad = Errors.invalidQuery;
const SHAPE = 'expected [attr, "BM25", "query"], ["Sum", [...]], ["Max", [...]] or ["Product", weight, clause]';

export function parseTextRank(raw: unknown, schema: NamespaceSchema, path: string): TextExpr {
  if (!Array.isArray(raw)) throw bad(path, SHAPE);
  const [head, second, third] = raw as unknown[];
  if ((head === 'Sum' || head === 'Max') && raw.length === 2) {
    if (!Array.isArray(second) || second.length === 0) throw bad(`${path}[1]`, `expected a non-empty list of clauses`);
    return { kind: head === 'Sum' ? 'sum' : 'max', children: second.map((c, i) => parseTextRank(c, schema, `${path}[1][${i}]`)) };
  }
  if (head === 'Product' && raw.length === 3) {
    // turbopuffer accepts the weight on either side.
    const [weight, child, childPath] = typeof second === 'number' ? [second, third, `${path}[2]`] : [third, second, `${path}[1]`];
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) throw bad(path, 'Product takes a non-negative number and a clause');
    return { kind: 'product', weight, child: parseTextRank(child, schema, childPath) };
  }
  if (second !== 'BM25' || (raw.length !== 3 && raw.length !== 4) || typeof head !== 'string') throw bad(path, SHAPE);
  const attr = ownValue(schema.attributes, head);
  const textFields = Object.entries(schema.attributes).filter(([, a]) => a.full_text).map(([n]) => n);
  if (!attr?.full_text) {
    throw bad(`${path}[0]`, `'${head}' is not a full-text attribute${textFields.length ? `; full-text attributes are ${textFields.join(', ')}` : ''}`);
  }
  const params = raw[3];
  let lastAsPrefix = false;
  if (params !== undefined) {
    const p = params as { last_as_prefix?: unknown };
    if (typeof params !== 'object' || params === null || Array.isArray(params) || Object.keys(params).some((k) => k !== 'last_as_prefix') || (p.last_as_prefix !== undefined && typeof p.last_as_prefix !== 'boolean')) {
      throw bad(`${path}[3]`, 'expected {"last_as_prefix": true|false}');
    }
    lastAsPrefix = p.last_as_prefix === true;
  }
  const analyze = analyzerOf(attr.full_text);
  let terms: string[];
  if (typeof third === 'string') terms = analyze(third);
  else if (Array.isArray(third) && third.every((t) => typeof t === 'string')) terms = third.flatMap((t) => analyze(t));
  else throw bad(`${path}[2]`, 'expected the query text, or a list of tokens');
  const prefix = lastAsPrefix && terms.length > 0 ? terms.pop()! : null;
  return { kind: 'bm25', field: head, terms, prefix };
}

/** Scores by source and row: one map per source, rows absent score nothing. */
export type Scores = Map<number, number>[];

/**
 * Scores every row the expression reaches (live rows `accept` allows, per source), whatever the
 * top_k: Sum and Max need a clause's score for rows the other clauses rank low.
 */
export async function scoreText(expr: TextExpr, schema: NamespaceSchema, sources: readonly RowSource[], accept: (s: number) => ((row: number) => boolean) | undefined): Promise<Scores> {
  switch (expr.kind) {
    case 'bm25':
      return scoreClause(expr, schema, sources, accept);
    case 'product':
      return (await scoreText(expr.child, schema, sources, accept)).map((m) => new Map([...m].map(([row, v]) => [row, v * expr.weight])));
    case 'sum':
    case 'max': {
      const parts = await Promise.all(expr.children.map((c) => scoreText(c, schema, sources, accept)));
      return sources.map((_, s) => {
        const out = new Map<number, number>();
        for (const part of parts) {
          for (const [row, v] of part[s]!) {
            const prev = out.get(row);
            out.set(row, prev === undefined ? v : expr.kind === 'sum' ? prev + v : Math.max(prev, v));
          }
        }
        return out;
      });
    }
  }
}

async function scoreClause(expr: Extract<TextExpr, { kind: 'bm25' }>, schema: NamespaceSchema, sources: readonly RowSource[], accept: (s: number) => ((row: number) => boolean) | undefined): Promise<Scores> {
  const opts = schema.attributes[expr.field]!.full_text!;
  const all = sources.map((s) => s.textIndex(expr.field));
  const prefix = expr.prefix;
  // A prefix's expansions before its terms are fetched: segments read their dictionaries by range.
  const expansions = prefix === null ? [] : [...new Set((await Promise.all(all.map((v) => v?.termsWithPrefix?.(prefix, PREFIX_EXPANSIONS) ?? []))).flat())];
  // Segments read postings by range: every term this clause scores is fetched first.
  const views = await viewsWithTerms(all, [...expr.terms, ...expansions]);
  const present = views.filter((v): v is TextIndexView => v !== undefined);
  const stats = combineStats(present);
  const params = { k1: opts.k1, b: opts.b, boost: 1 };
  return sources.map((_, s) => {
    const out = new Map<number, number>();
    const view = views[s];
    if (!view) return out;
    const ok = accept(s);
    if (expr.terms.length > 0) {
      const { rows, scores } = scoreViewRows(view, expr.terms, stats, params, ok);
      for (let i = 0; i < rows.length; i++) out.set(rows[i]!, scores[i]!);
    }
    const best = new Map<number, number>();
    for (const term of expansions) {
      const { rows, scores } = scoreViewRows(view, [term], stats, params, ok);
      for (let i = 0; i < rows.length; i++) best.set(rows[i]!, Math.max(best.get(rows[i]!) ?? 0, scores[i]!));
    }
    for (const [row, v] of best) out.set(row, (out.get(row) ?? 0) + v);
    return out;
  });
}
