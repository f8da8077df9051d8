// The node's stats and the namespace table: what /stats and /v1/namespaces(/:ns) report.
import { getJson, nsPath } from './api.js';
import { el, fillStats, formatNumber } from './dom.js';

function hitRatio(tier) {
  const asked = tier.hits + tier.misses;
  if (asked === 0) return 'no lookups yet';
  return `${((100 * tier.hits) / asked).toFixed(1)}% of ${formatNumber(asked)}`;
}

const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export async function loadNode(dl, nodeName) {
  const stats = await getJson('/stats');
  nodeName.textContent = `${stats.node} (${stats.role})`;
  const { memory, disk } = stats.cache;
  fillStats(dl, [
    ['Namespaces open', formatNumber(stats.namespaces_open)],
    ['Views', formatNumber(stats.namespace_views)],
    ['Memory cache hits', hitRatio(memory)],
    ['Memory cache', `${mib(memory.bytes)} of ${mib(memory.max_bytes)}`],
    ['Disk cache hits', hitRatio(disk)],
    ['Disk cache', `${mib(disk.bytes)} of ${mib(disk.max_bytes)}`],
    ['Unindexed', stats.unindexed ? `${mib(stats.unindexed.unindexed_bytes)} of ${mib(stats.unindexed.unindexed_limit_bytes)}` : '—'],
  ]);
}

/** Fills the table; returns the schemas by namespace name. `onPick(ns)` when a row is clicked. */
export async function loadNamespaces(tbody, empty, onPick) {
  // The first page only (up to 1,000 names): the table is for looking, not for listing everything.
  const page = await getJson('/v1/namespaces?page_size=1000');
  const namespaces = page.namespaces.map((n) => n.id);
  const described = await Promise.all(namespaces.map((ns) => getJson(nsPath(ns)).catch((error) => ({ namespace: ns, error }))));
  const schemas = new Map();
  tbody.replaceChildren(...described.map((d) => {
    if (d.error) return el('tr', { 'data-ns': d.namespace }, el('td', {}, d.namespace), el('td', { colSpan: 4, class: 'error' }, d.error.describe()));
    schemas.set(d.namespace, d.schema);
    const row = el('tr', { 'data-ns': d.namespace, class: 'pick', title: 'Query this namespace' },
      el('td', {}, d.namespace),
      el('td', { class: 'num documents' }, formatNumber(d.documents)),
      el('td', { class: 'num' }, formatNumber(d.segments.length)),
      el('td', { class: 'num' }, formatNumber(d.unindexed_documents)),
      el('td', {}, `${d.schema.vector_dim} d, ${d.schema.vector_metric}`));
    row.addEventListener('click', () => onPick(d.namespace));
    return row;
  }));
  empty.hidden = namespaces.length > 0;
  return schemas;
}
