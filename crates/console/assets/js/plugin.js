// One provider instance or extension: metadata, capabilities, models (with
// context length and prices), its config as a form from its JSON Schema
// (save → PUT → the new status; a failed reload stays visible while the old
// instance keeps serving), and enable / disable / reload / health check.

import { h, replace, pill, notice, defs, ms, usd } from './dom.js';
import { api, get, models as listModels } from './api.js';
import { schemaForm } from './schema-form.js';

export async function render(main, kind, name) {
  if (!name) {
    location.hash = '#/overview';
    return undefined;
  }
  return kind === 'extension' ? extensionPage(main, name) : providerPage(main, name);
}

function head(title, sub, state) {
  return h('div', { class: 'page-head' },
    h('p', { class: 'crumbs' }, h('a', { href: '#/overview' }, 'Overview'), ' / '),
    h('h1', { id: 'plugin-title' }, title, ' ', state),
    sub ? h('p', { class: 'muted' }, sub) : null);
}

function statePill(state) {
  const tone = state === 'ready' || state === 'running' ? 'ok' : state === 'failed' ? 'bad' : 'off';
  return pill(state, tone);
}

/** The action bar: each button runs `fn`, shows its outcome in `out`, then re-renders. */
function action(label, out, fn, { id, tone = '' } = {}) {
  const b = h('button', { type: 'button', id, class: tone }, label);
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      const message = await fn();
      if (message) replace(out, notice(message, 'ok'));
    } catch (e) {
      replace(out, notice(`${label} failed: ${e.message}`, 'error'));
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

async function providerPage(main, name) {
  const path = `/plugins/${encodeURIComponent(name)}`;
  const [status, schema, metadata, models] = await Promise.all([
    get(`${path}/status`),
    get(`${path}/config-schema`).catch(() => null),
    get('/plugins/metadata').catch(() => []),
    listModels().catch(() => ({ data: [] })),
  ]);
  const descriptor = (metadata || []).find((d) => d.name === status.kind) || {};
  const out = h('div', { id: 'action-result', 'aria-live': 'polite' });
  const reloadError = h('div', { id: 'reload-error' });
  const statusBox = h('div', { id: 'status-box' });
  const stateSlot = h('span', { id: 'plugin-state' });

  const showStatus = (s) => {
    replace(stateSlot, statePill(s.state));
    replace(statusBox, defs([
      ['State', h('span', { id: 'state-text' }, s.state)],
      ['Generation', h('span', { id: 'generation' }, String(s.generation))],
      ['Health', s.health && s.health.available === false ? pill(`cooling ${ms(s.health.cooldown_remaining_ms)}`, 'bad') : pill('available', 'ok')],
      ['Latency (avg)', ms(s.health && s.health.avg_latency_ms)],
      ['Requests / failures', `${s.health ? s.health.total_requests : 0} / ${s.health ? s.health.total_failures : 0}`],
      s.state === 'failed' ? ['Error', h('span', { class: 'error-text' }, s.error || '')] : null,
    ]));
    // A failed reload stays in view until a reload succeeds: the old instance keeps serving.
    replace(reloadError, s.last_reload_error
      ? notice(`The last reload failed; the previous instance keeps serving. ${s.last_reload_error}`, 'error')
      : null);
    enableButton.textContent = s.state === 'disabled' ? 'Enable' : 'Disable';
  };
  const refresh = async () => showStatus(await get(`${path}/status`));

  const enableButton = action('Disable', out, async () => {
    const s = await get(`${path}/status`);
    const verb = s.state === 'disabled' ? 'enable' : 'disable';
    const next = await api('POST', `${path}/${verb}`);
    showStatus(next);
    return `${name} ${verb}d.`;
  }, { id: 'toggle-enabled' });

  const mine = (models.data || []).filter((m) => m.id.startsWith(`${name}/`) || m.owned_by === name);
  const modelRows = mine.length ? mine : status.models.map((id) => ({ id }));
  const modelTable = h('div', { class: 'table-wrap' }, h('table', { class: 'grid', id: 'models' },
    h('thead', {}, h('tr', {}, ['Model', 'Context', 'Max output', 'Input $/M', 'Output $/M'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, modelRows.map((m) => h('tr', {},
      h('td', {}, h('code', {}, m.id)),
      h('td', { class: 'num' }, num(m.context_length)),
      h('td', { class: 'num' }, num(m.max_output_tokens)),
      h('td', { class: 'num' }, price(m, 'input')),
      h('td', { class: 'num' }, price(m, 'output')))))));

  const form = schema ? schemaForm(schema, status.config, { omit: ['kind', 'enabled'], prefix: 'cfg', envRefs: status.env_refs || {} }) : null;
  const formMessage = h('div', { id: 'config-message', 'aria-live': 'polite' });
  const save = h('button', { type: 'submit', class: 'primary', id: 'save-config' }, 'Save and reload');
  const configForm = h('form', { id: 'config-form', novalidate: true }, form ? form.element : h('p', {}, 'No schema: this provider kind is not linked.'),
    h('div', { class: 'actions' }, save), formMessage);
  configForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!form) return;
    replace(formMessage);
    let patch;
    try {
      patch = form.patch();
    } catch (e) {
      form.showLocal(e);
      replace(formMessage, notice(e.message, 'error'));
      return;
    }
    if (!Object.keys(patch).length) {
      replace(formMessage, notice('Nothing changed.', 'info'));
      return;
    }
    save.disabled = true;
    try {
      const next = await api('PUT', `${path}/config`, patch);
      showStatus(next);
      replace(formMessage, notice(`Saved: ${name} reloaded (generation ${next.generation}).`, 'ok'));
    } catch (e) {
      form.showError(e.param, e.message);
      replace(formMessage, notice(`Not saved: ${e.message} (the running instance is unchanged and keeps serving)`, 'error'));
      refresh().catch(() => {});
    } finally {
      save.disabled = false;
    }
  });

  replace(main,
    head(name, `${status.display_name || status.kind} · provider kind ${status.kind}${status.version ? ` · v${status.version}` : ''}`, stateSlot),
    h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Instance actions' },
      enableButton,
      action('Reload', out, async () => {
        showStatus(await api('POST', `${path}/reload`));
        return `${name} reloaded.`;
      }, { id: 'reload' }),
      action('Health check', out, async () => {
        const all = await get('/plugins/health');
        const r = all.find((x) => x.name === name);
        await refresh();
        if (!r) return 'No result.';
        if (!r.healthy) throw new Error(r.error || 'unhealthy');
        return `Healthy (${ms(r.latency_ms)}${r.detail ? `: ${r.detail}` : ''}).`;
      }, { id: 'health-check' })),
    out,
    reloadError,
    h('div', { class: 'columns' },
      h('section', { class: 'card' }, h('h2', {}, 'Status'), statusBox),
      h('section', { class: 'card' }, h('h2', {}, 'About'),
        descriptor.description ? h('p', {}, descriptor.description) : null,
        h('h3', {}, 'Capabilities'),
        h('p', { class: 'chips' }, (status.capabilities || []).map((c) => pill(c, 'info'))))),
    h('section', { class: 'card' }, h('h2', {}, 'Models'), modelTable),
    h('section', { class: 'card', 'aria-labelledby': 'config-title' }, h('h2', { id: 'config-title' }, 'Configuration'),
      h('p', { class: 'muted' }, 'Saving sends the changed fields as a merge patch; the gateway validates them with the same checks as ', h('code', {}, 'switchboard config check'), ', builds the new instance, and swaps it in only if that works. Runtime changes last until the config file is reloaded.'),
      configForm));
  showStatus(status);
  return undefined;
}

function num(v) {
  return v === undefined || v === null ? '–' : Number(v).toLocaleString();
}

/** A model's price per million tokens, from `/v1/models` (`pricing`). */
function price(m, dir) {
  const p = m.pricing || {};
  const v = p[`${dir}_per_million_usd`];
  return v === undefined || v === null ? '–' : usd(v);
}

async function extensionPage(main, name) {
  const [list, schema] = await Promise.all([
    get('/extensions'),
    get(`/extensions/${encodeURIComponent(name)}/config-schema`).catch(() => null),
  ]);
  const ext = list.find((e) => e.name === name);
  if (!ext) throw new Error(`no extension ${name}`);
  const out = h('div', { id: 'action-result', 'aria-live': 'polite' });
  const stateSlot = h('span', { id: 'plugin-state' }, statePill(ext.state));
  const toggle = action(ext.enabled ? 'Disable' : 'Enable', out, async () => {
    const verb = toggle.textContent === 'Enable' ? 'enable' : 'disable';
    const s = await api('POST', `/extensions/${encodeURIComponent(name)}/${verb}`);
    replace(stateSlot, statePill(s.state));
    toggle.textContent = s.enabled ? 'Disable' : 'Enable';
    return `${name} ${verb}d.`;
  }, { id: 'toggle-enabled' });

  const form = schema ? schemaForm(schema, ext.config || {}, { prefix: 'ext', envRefs: ext.env_refs || {} }) : null;
  const formMessage = h('div', { id: 'config-message', 'aria-live': 'polite' });
  const configForm = h('form', { id: 'config-form', novalidate: true }, form ? form.element : null,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'save-config' }, 'Save')), formMessage);
  configForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    replace(formMessage);
    let settings;
    try {
      settings = form.read();
    } catch (e) {
      form.showLocal(e);
      replace(formMessage, notice(e.message, 'error'));
      return;
    }
    try {
      const s = await api('PUT', `/extensions/${encodeURIComponent(name)}/config`, settings);
      replace(stateSlot, statePill(s.state));
      replace(formMessage, notice(`Saved: ${name} rebuilt with the new settings.`, 'ok'));
    } catch (e) {
      form.showError(e.param, e.message);
      replace(formMessage, notice(`Not saved (the running settings are unchanged): ${e.message}`, 'error'));
    }
  });

  const methods = ext.methods || [];
  replace(main,
    head(name, `extension${ext.mount ? ` · mounted at ${ext.mount}` : ''}`, stateSlot),
    h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Extension actions' }, toggle,
      name === 'functions' ? h('a', { class: 'button', href: '#/functions' }, 'Open functions') : null,
      name === 'keys' || name === 'usage' ? h('a', { class: 'button', href: '#/keys' }, 'Open keys & usage') : null),
    out,
    h('div', { class: 'columns' },
      h('section', { class: 'card' }, h('h2', {}, 'About'),
        ext.description ? h('p', {}, ext.description) : null,
        defs([
          ['State', ext.state], ['Order', String(ext.order)],
          ['Hooks', (ext.hooks || []).join(', ') || 'none'],
          ['Dropped records', String(ext.dropped_records || 0)],
          ext.detail ? ['Detail', h('code', {}, JSON.stringify(ext.detail))] : null,
        ])),
      h('section', { class: 'card' }, h('h2', {}, 'Methods'),
        methods.length ? h('ul', { class: 'plain methods' }, methods.map((m) => h('li', {},
          h('code', {}, `${name}.${m.name}`), m.admin ? pill('admin', 'warn') : null,
          m.description ? h('div', { class: 'small muted' }, m.description) : null))) : h('p', { class: 'muted' }, 'None (or not running).'))),
    h('section', { class: 'card' }, h('h2', {}, 'Settings'),
      h('p', { class: 'muted' }, 'Saving replaces the extension\'s settings; the gateway validates them against this schema and rebuilds the extension.'),
      configForm));
  return undefined;
}
