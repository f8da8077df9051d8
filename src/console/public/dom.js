// Building the page's DOM from data: text always goes in as textContent, never as HTML.
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'class') node.className = value;
    else if (key.startsWith('data-')) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? ''));
  return node;
}

/** Shows `message` in the element (or hides it when null). */
export function showError(node, message) {
  node.hidden = message === null;
  node.textContent = message ?? '';
}

/** A definition list's content from [term, value] pairs. */
export function fillStats(dl, pairs) {
  dl.replaceChildren(...pairs.flatMap(([term, value]) => [el('dt', {}, term), el('dd', {}, value)]));
}

export const formatNumber = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : '—');
