// The query panel: full text, a vector (a document's own or pasted), a filter and the hybrid
// weights, as POST /v1/namespaces/:ns/query takes them (docs/api.md), and the hits it returns.
import { ApiError, getJson, nsPath, postJson } from './api.js';
import { el } from './dom.js';

/** A mistake in the form, said before anything is sent. */
const formError = (message) => new ApiError(0, 'FORM', message);

function parseJsonField(text, what) {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw formError(`${what} is not JSON: ${e.message}`);
  }
}

function numberField(input, what) {
  const n = Number(input.value);
  if (input.value.trim() === '' || !Number.isFinite(n)) throw formError(`${what} must be a number`);
  return n;
}

async function queryVector(form, ns) {
  const mode = form.querySelector('input[name="q-vec"]:checked').value;
  if (mode === 'pasted') {
    const vector = parseJsonField(form.querySelector('#q-vector').value, 'The pasted vector');
    if (!Array.isArray(vector)) throw formError('The pasted vector must be a JSON array of numbers');
    return vector;
  }
  if (mode === 'doc') {
    const id = form.querySelector('#q-doc').value.trim();
    if (id === '') throw formError('Enter the id of the document whose vector to search with');
    const doc = await getJson(`${nsPath(ns)}/documents/${encodeURIComponent(id)}`);
    if (!doc.vector) throw formError(`Document ${id} of '${ns}' has no vector`);
    return doc.vector;
  }
  return null;
}

/** The query body the form describes (fetching the document's vector when asked). */
export async function buildQuery(form) {
  const ns = form.querySelector('#q-ns').value;
  if (ns === '') throw formError('Pick a namespace');
  const body = { top_k: numberField(form.querySelector('#q-topk'), 'top_k') };
  const text = form.querySelector('#q-text').value.trim();
  if (text !== '') {
    const field = form.querySelector('#q-field').value;
    if (field === '') throw formError(`Namespace '${ns}' has no full-text attribute`);
    body.full_text = { field, query: text, weight: numberField(form.querySelector('#q-text-weight'), 'The full-text weight') };
  }
  const vector = await queryVector(form, ns);
  if (vector) {
    body.vector = vector;
    body.vector_weight = numberField(form.querySelector('#q-vec-weight'), 'The vector weight');
  }
  if (!body.full_text && !body.vector) throw formError('Give a full-text query, a vector, or both');
  const filter = form.querySelector('#q-filter').value.trim();
  if (filter !== '') body.filter = parseJsonField(filter, 'The filter');
  return { ns, body };
}

const score = (n) => (typeof n === 'number' ? n.toPrecision(4) : '');

export async function runQuery(form, tbody, summary) {
  const { ns, body } = await buildQuery(form);
  const started = performance.now();
  const answer = await postJson(`${nsPath(ns)}/query`, body);
  const kind = body.vector && body.full_text ? 'hybrid' : body.vector ? 'vector' : 'full text';
  const served = answer.served_from ? `, served from ${answer.served_from}` : '';
  summary.textContent = `${answer.results.length} hits (${kind}) in ${answer.took_ms} ms on the server, ` +
    `${Math.round(performance.now() - started)} ms here${served}`;
  tbody.replaceChildren(...answer.results.map((hit, i) => el('tr', { 'data-id': String(hit.id) },
    el('td', {}, i + 1),
    el('td', { class: 'id' }, String(hit.id)),
    el('td', { class: 'num' }, score(hit.score)),
    el('td', { class: 'num' }, score(hit.distance)),
    el('td', { class: 'num' }, score(hit.bm25)),
    el('td', { class: 'attrs' }, hit.attributes ? JSON.stringify(hit.attributes) : ''))));
}

/** The field select: the namespace's full-text attributes. */
export function fillFields(select, schema) {
  const fields = schema ? Object.entries(schema.attributes).filter(([, a]) => a.full_text).map(([name]) => name) : [];
  const keep = select.value;
  select.replaceChildren(...fields.map((name) => el('option', { value: name }, name)));
  if (fields.includes(keep)) select.value = keep;
}
