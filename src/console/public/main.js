// Wires the console's panels together: the key, the periodic refresh, the forms.
import { apiKey, setApiKey } from './api.js';
import { el, showError } from './dom.js';
import { loadNamespaces, loadNode } from './namespaces.js';
import { fillFields, runQuery } from './query.js';
import { runRecall } from './recall.js';
import { startCharts } from './charts.js';

const REFRESH_MS = 5000;
const $ = (selector) => document.querySelector(selector);
let schemas = new Map();

/** What the banner says about a refused or failed call. */
function explain(error) {
  if (error.status === 401) {
    const hint = apiKey() === '' ? 'This node needs an API key: enter it above.' : 'The key was refused: enter another one.';
    return `${hint} (${error.describe()})`;
  }
  if (error.status === 403) return `This key may not do that. (${error.describe()})`;
  return error.describe();
}

function fillNamespaceSelects() {
  for (const select of document.querySelectorAll('.ns-select')) {
    const keep = select.value;
    select.replaceChildren(...[...schemas.keys()].map((ns) => el('option', { value: ns }, ns)));
    if (schemas.has(keep)) select.value = keep;
  }
  fillFields($('#q-field'), schemas.get($('#q-ns').value));
}

function pick(ns) {
  $('#q-ns').value = ns;
  $('#r-ns').value = ns;
  fillFields($('#q-field'), schemas.get(ns));
}

async function refresh() {
  try {
    await loadNode($('#node-stats'), $('#node-name'));
    schemas = await loadNamespaces($('#namespaces tbody'), $('#namespaces-empty'), pick);
    fillNamespaceSelects();
    showError($('#banner'), null);
  } catch (e) {
    showError($('#banner'), explain(e));
  }
}

/** Runs `action` on submit, its error shown in `errorBox`. */
function onSubmit(form, errorBox, action) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showError(errorBox, null);
    form.classList.add('busy');
    try {
      await action();
    } catch (e) {
      showError(errorBox, explain(e));
    } finally {
      form.classList.remove('busy');
    }
  });
}

$('#key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  setApiKey($('#key').value.trim());
  $('#key').value = '';
  void refresh();
});
$('#forget-key').addEventListener('click', () => {
  setApiKey('');
  void refresh();
});
$('#refresh').addEventListener('click', () => void refresh());
$('#q-ns').addEventListener('change', () => fillFields($('#q-field'), schemas.get($('#q-ns').value)));
// Typing a vector or a document id picks that kind of vector.
$('#q-vector').addEventListener('input', () => { $('input[name="q-vec"][value="pasted"]').checked = true; });
$('#q-doc').addEventListener('input', () => { $('input[name="q-vec"][value="doc"]').checked = true; });

onSubmit($('#query-form'), $('#query-error'), () => runQuery($('#query-form'), $('#results tbody'), $('#query-summary')));
onSubmit($('#recall-form'), $('#recall-error'), () => {
  $('#recall-result').hidden = true;
  return runRecall($('#recall-form'), $('#recall-result'));
});

startCharts($('#charts-panel'), (e) => showError($('#charts-error'), e ? `The metrics could not be read: ${explain(e)}` : null));
void refresh();
setInterval(refresh, REFRESH_MS);
