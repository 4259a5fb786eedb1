// Building the DOM safely: every piece of text goes in through textContent
// (or a text node), never through HTML parsing.

/**
 * Creates an element. `attrs` sets properties and attributes (`class`,
 * `for`, `data-*`, `aria-*`, event handlers as `onclick`); children are
 * nodes or strings (strings become text nodes), nested arrays flattened,
 * null/undefined/false skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = String(v);
    else if (k in el && !k.includes('-') && k !== 'list' && k !== 'form') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Replaces every child of `el` with `children`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** An SVG element (for charts), attributes set with setAttribute. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) {
    if (c === undefined || c === null) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** A status pill: `ok`, `warn`, `bad` or `off`. */
export function pill(text, tone) {
  return h('span', { class: `pill ${tone || ''}` }, text);
}

/** A message box that stays until replaced; `tone` is `error`, `ok` or `info`. */
export function notice(text, tone = 'info') {
  return h('div', { class: `notice ${tone}`, role: tone === 'error' ? 'alert' : 'status' }, text);
}

/** Milliseconds as `12 ms` / `1.2 s`; `–` when unknown. */
export function ms(v) {
  if (v === undefined || v === null || Number.isNaN(v)) return '–';
  if (v >= 1000) return `${(v / 1000).toFixed(v >= 10000 ? 0 : 1)} s`;
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;
}

/** A ratio as a percentage. */
export function pct(v) {
  if (v === undefined || v === null || Number.isNaN(v)) return '–';
  return `${(v * 100).toFixed(v > 0 && v < 0.1 ? 1 : 0)}%`;
}

/** US dollars with enough digits for tiny amounts. */
export function usd(v) {
  if (v === undefined || v === null || Number.isNaN(Number(v))) return '–';
  const n = Number(v);
  if (n === 0) return '$0';
  return n < 0.01 ? `$${n.toPrecision(2)}` : `$${n.toFixed(2)}`;
}

/** Copies `text` to the clipboard; resolves to whether it worked. */
export async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** A copy button for the text `get()` returns, saying "Copied" briefly. */
export function copyButton(get, label = 'Copy') {
  const b = h('button', { type: 'button', class: 'quiet small' }, label);
  b.addEventListener('click', async () => {
    const ok = await copy(get());
    b.textContent = ok ? 'Copied' : 'Select and copy by hand';
    setTimeout(() => { b.textContent = label; }, 1500);
  });
  return b;
}

/** A `<dl>` from [term, value] pairs (values: text or nodes). */
export function defs(pairs) {
  return h('dl', { class: 'defs' }, pairs.filter(Boolean).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}
