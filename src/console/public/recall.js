// The recall check: POST /v1/namespaces/:ns/_debug/recall {"num", "top_k"} answers how much of
// the exhaustive top_k the index finds (turbopuffer's endpoint of the same name).
import { nsPath, postJson } from './api.js';
import { fillStats, formatNumber } from './dom.js';

export async function runRecall(form, dl) {
  const ns = form.querySelector('#r-ns').value;
  const body = { num: Number(form.querySelector('#r-num').value), top_k: Number(form.querySelector('#r-topk').value) };
  const r = await postJson(`${nsPath(ns)}/_debug/recall`, body);
  fillStats(dl, [
    ['Average recall', `${(100 * r.avg_recall).toFixed(1)}%`],
    ['Hits from the index', formatNumber(r.avg_ann_count)],
    ['Hits, exhaustive', formatNumber(r.avg_exhaustive_count)],
  ]);
  dl.hidden = false;
}
