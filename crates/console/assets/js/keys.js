// Keys and usage: virtual keys (the `keys` extension through `/keys`):
// create (the key shown once, with a copy button), list, revoke, limits
// and budget; then the usage charts and tables (`usage.js`).

import { h, replace, pill, notice, copyButton, usd } from './dom.js';
import { api, get, setClientKey } from './api.js';
import { schemaForm } from './schema-form.js';
import * as usage from './usage.js';

export async function render(main) {
  const keysBox = h('section', { class: 'card', id: 'keys-section', 'aria-labelledby': 'keys-title' }, h('h2', { id: 'keys-title' }, 'Virtual keys'));
  const usageBox = h('section', { class: 'card', id: 'usage-section', 'aria-labelledby': 'usage-title' }, h('h2', { id: 'usage-title' }, 'Usage'));
  replace(main, h('div', { class: 'page-head' }, h('h1', {}, 'Keys & usage')), keysBox, usageBox);
  await Promise.all([renderKeys(keysBox), usage.render(usageBox)]);
  return undefined;
}

async function renderKeys(box) {
  let list;
  try {
    list = await get('/keys');
  } catch (e) {
    box.appendChild(notice(e.status === 404 ? `Virtual keys are not available: ${e.message}.` : `Cannot list keys: ${e.message}`,
      e.status === 404 ? 'info' : 'error'));
    return;
  }
  const extensions = await get('/extensions').catch(() => []);
  const keysExt = extensions.find((e) => e.name === 'keys');
  const create = keysExt && (keysExt.methods || []).find((m) => m.name === 'create');
  const schema = create && (create.parameters || create.arguments || create.schema);
  const tbody = h('tbody', { id: 'keys-rows' });
  const once = h('div', { id: 'new-key', 'aria-live': 'polite' });
  const form = schemaForm(schema || { type: 'object', required: ['name'], properties: { name: { type: 'string' } } }, {}, { prefix: 'key', omit: ['metadata'] });
  const message = h('div', { 'aria-live': 'polite' });
  const createForm = h('form', { id: 'create-key', novalidate: true },
    h('details', { class: 'create' }, h('summary', {}, 'Create a key'),
      form.element,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'create-key-button' }, 'Create key')),
      message));
  createForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    replace(message);
    let body;
    try {
      body = form.read();
    } catch (e) {
      form.showLocal(e);
      return;
    }
    try {
      const made = await api('POST', '/keys', body);
      showOnce(once, made);
      await refresh();
    } catch (e) {
      if (!form.showError(e.param, e.message)) replace(message, notice(e.message, 'error'));
      else replace(message, notice(`Not created: ${e.message}`, 'error'));
    }
  });
  const update = keysExt && (keysExt.methods || []).find((m) => m.name === 'update');
  const updateSchema = update && (update.parameters || update.arguments || update.schema);
  const refresh = async () => fill(tbody, (await get('/keys')).data || [], refresh, updateSchema);
  fill(tbody, list.data || [], refresh, updateSchema);
  box.append(once, createForm,
    h('div', { class: 'table-wrap' }, h('table', { class: 'grid', id: 'keys' },
      h('thead', {}, h('tr', {}, ['Name', 'Id / prefix', 'Models', 'Limits', 'Budget', 'Expires', 'State', ''].map((t) => h('th', { scope: 'col' }, t)))),
      tbody)));
}

/** The new key, shown once with a copy button. */
function showOnce(box, made) {
  const key = made.key || '';
  replace(box, h('div', { class: 'notice ok secret-once', role: 'status' },
    h('strong', {}, `Key “${made.name}” created. Copy it now: it is shown once, only its hash is kept.`),
    h('div', { class: 'key-row' },
      h('input', { type: 'text', readonly: true, value: key, id: 'new-key-value', 'aria-label': 'The new key', spellcheck: false }),
      copyButton(() => key, 'Copy key'),
      h('button', { type: 'button', class: 'quiet small', id: 'use-in-playground', onclick: (ev) => {
        setClientKey(key);
        ev.target.textContent = 'The playground will use this key';
      } }, 'Use in playground'),
      h('button', { type: 'button', class: 'quiet small', onclick: () => replace(box) }, 'Done'))));
}

/** The row under a key with its settings as a form; saving sends what changed (PATCH). */
function editRow(k, schema, refresh) {
  const form = schemaForm(schema, k, { prefix: `edit-${k.id}`, omit: ['id', 'metadata'] });
  const message = h('div', { 'aria-live': 'polite' });
  const f = h('form', { class: 'edit-key', novalidate: true }, form.element,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary small' }, 'Save changes')), message);
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    let patch;
    try {
      patch = form.patch();
    } catch (e) {
      form.showLocal(e);
      return;
    }
    if (!Object.keys(patch).length) {
      replace(message, notice('Nothing changed.', 'info'));
      return;
    }
    try {
      await api('PATCH', `/keys/${encodeURIComponent(k.id)}`, patch);
      await refresh();
    } catch (e) {
      form.showError(e.param, e.message);
      replace(message, notice(`Not saved: ${e.message}`, 'error'));
    }
  });
  return h('tr', { class: 'edit-row' }, h('td', { colspan: 8 }, f));
}

function fill(tbody, keys, refresh, updateSchema) {
  replace(tbody, keys.map((k) => {
    const revoked = Boolean(k.revoked_at || k.revoked);
    const limits = [k.rpm && `${k.rpm} rpm`, k.tpm && `${k.tpm} tpm`, k.max_parallel && `${k.max_parallel} parallel`].filter(Boolean).join(', ') || 'none';
    const b = k.budget;
    const budget = b ? `${usd(b.amount_usd)} / ${b.period || 'month'}${b.soft_amount_usd ? ` (soft ${usd(b.soft_amount_usd)})` : ''}` : 'none';
    const revoke = h('button', { type: 'button', class: 'small danger', disabled: revoked, 'aria-label': `Revoke ${k.name}` }, 'Revoke');
    revoke.addEventListener('click', async () => {
      if (!window.confirm(`Revoke the key “${k.name}” (${k.id})? Requests with it are refused from now on.`)) return;
      revoke.disabled = true;
      try {
        await api('DELETE', `/keys/${encodeURIComponent(k.id)}`);
        await refresh();
      } catch (e) {
        revoke.disabled = false;
        revoke.after(notice(e.message, 'error'));
      }
    });
    const edit = h('button', { type: 'button', class: 'small', disabled: revoked || !updateSchema, 'aria-expanded': 'false', 'aria-label': `Edit ${k.name}` }, 'Edit');
    edit.addEventListener('click', () => {
      const row = edit.closest('tr');
      const open = row.nextElementSibling && row.nextElementSibling.classList.contains('edit-row');
      if (open) row.nextElementSibling.remove();
      else row.after(editRow(k, updateSchema, refresh));
      edit.setAttribute('aria-expanded', String(!open));
    });
    return h('tr', { 'data-id': k.id },
      h('th', { scope: 'row' }, k.name, k.team ? h('div', { class: 'small muted' }, `team ${k.team}`) : null),
      h('td', {}, h('code', {}, k.id), h('div', { class: 'small muted' }, k.prefix ? `${k.prefix}…` : '')),
      h('td', {}, (k.models || []).length ? k.models.join(', ') : h('span', { class: 'muted' }, 'all')),
      h('td', {}, limits),
      h('td', {}, budget),
      h('td', {}, k.expires_at ? String(k.expires_at) : h('span', { class: 'muted' }, 'never')),
      h('td', {}, revoked ? pill('revoked', 'bad') : pill('active', 'ok')),
      h('td', { class: 'row-actions' }, edit, revoke));
  }));
  if (!keys.length) tbody.appendChild(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'No keys yet.')));
}
