// Functions (the `functions` extension, mounted at /v1/functions): list
// the defined ones, define a new one (a prompt template with typed
// parameters), and try one with a form generated from its parameter
// schema.

import { h, replace, notice } from './dom.js';
import { api, models as listModels } from './api.js';
import { schemaForm } from './schema-form.js';

const BASE = '/v1/functions';
const EXAMPLE = {
  name: 'summarize',
  description: 'Summarizes a text in a given number of words.',
  template: 'Summarize in {{words}} words: {{text}}',
  parameters: {
    type: 'object',
    properties: {
      text: { type: 'string', description: 'The text to summarize' },
      words: { type: 'integer', minimum: 1, maximum: 200, default: 20, description: 'How many words' },
    },
    required: ['text'],
  },
};

export async function render(main) {
  const listBox = h('div', { id: 'functions-list' });
  const tryBox = h('section', { class: 'card', id: 'function-try', hidden: true });
  replace(main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Functions'),
      h('p', { class: 'muted' }, 'Self-defining functions: a prompt template with typed parameters, called by name at ', h('code', {}, `POST ${BASE}/{name}`), '.')),
    h('div', { class: 'columns' },
      h('section', { class: 'card', 'aria-labelledby': 'fn-list-title' }, h('h2', { id: 'fn-list-title' }, 'Defined'), listBox),
      await defineCard(() => refresh())),
    tryBox);

  async function refresh() {
    let list;
    try {
      list = await api('POST', `${BASE}/list`, {});
    } catch (e) {
      replace(listBox, notice(e.status === 404
        ? `${e.message}. Turn on the functions extension: [extensions.functions] enabled = true.`
        : `Cannot list functions: ${e.message}`, e.status === 404 ? 'info' : 'error'));
      return;
    }
    const fns = list.functions || [];
    replace(listBox, fns.length ? h('ul', { class: 'plain fn-list' }, fns.map((f) => h('li', { 'data-function': f.name },
      h('div', {}, h('code', {}, f.name), ' ', h('span', { class: 'muted small' }, `on ${f.model}`)),
      f.description ? h('div', { class: 'small' }, f.description) : null,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'small', onclick: () => showTry(tryBox, f) }, `Try ${f.name}`),
        h('button', { type: 'button', class: 'small danger', onclick: async (ev) => {
          if (!window.confirm(`Remove the function “${f.name}”?`)) return;
          try {
            await api('POST', `${BASE}/remove`, { name: f.name });
            tryBox.hidden = true;
            refresh();
          } catch (e) {
            ev.target.after(notice(e.message, 'error'));
          }
        } }, 'Remove'))))) : h('p', { class: 'muted' }, 'None yet: define one.'));
  }
  await refresh();
  return undefined;
}

async function defineCard(done) {
  const models = await listModels().then((r) => r.data || []).catch(() => []);
  const name = h('input', { id: 'fn-name', type: 'text', required: true, pattern: '[a-z0-9_-]{1,64}', value: EXAMPLE.name, spellcheck: false });
  const description = h('input', { id: 'fn-description', type: 'text', value: EXAMPLE.description });
  const model = h('select', { id: 'fn-model' }, models.map((m) => h('option', { value: m.id }, m.id)));
  const template = h('textarea', { id: 'fn-template', rows: 3, required: true }, EXAMPLE.template);
  const parameters = h('textarea', { id: 'fn-parameters', rows: 8, class: 'code', spellcheck: false }, JSON.stringify(EXAMPLE.parameters, null, 2));
  const system = h('input', { id: 'fn-system', type: 'text', placeholder: 'optional' });
  const output = h('textarea', { id: 'fn-output', rows: 3, class: 'code', spellcheck: false, placeholder: 'optional JSON Schema of the answer; without one it answers {"text": "..."}' });
  const message = h('div', { id: 'fn-define-message', 'aria-live': 'polite' });
  const form = h('form', { id: 'define-function', novalidate: true },
    row('fn-name', 'Name', name, 'Lowercase letters, digits, - and _: the method it is called as.'),
    row('fn-description', 'Description', description),
    row('fn-model', 'Model or alias', model),
    row('fn-template', 'Prompt template', template, 'Parameters go in as {{name}}.'),
    row('fn-parameters', 'Parameters (JSON Schema)', parameters),
    row('fn-system', 'System prompt', system),
    row('fn-output', 'Output schema', output),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'define-button' }, 'Define')),
    message);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    replace(message);
    const def = { name: name.value.trim(), description: description.value, model: model.value, template: template.value };
    try {
      def.parameters = JSON.parse(parameters.value);
      if (output.value.trim()) def.output_schema = JSON.parse(output.value);
    } catch (e) {
      replace(message, notice(`Not valid JSON: ${e.message}`, 'error'));
      return;
    }
    if (system.value.trim()) def.system = system.value.trim();
    try {
      const r = await api('POST', `${BASE}/define`, def);
      replace(message, notice(`${r.replaced ? 'Replaced' : 'Defined'} ${def.name}.`, 'ok'));
      done();
    } catch (e) {
      replace(message, notice(`${e.param ? `${e.param}: ` : ''}${e.message}`, 'error'));
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'fn-define-title' }, h('h2', { id: 'fn-define-title' }, 'Define a function'), form);
}

function row(id, label, control, help) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, help ? h('p', { class: 'help' }, help) : null);
}

function showTry(box, fn) {
  const form = schemaForm(fn.parameters || { type: 'object', properties: {} }, {}, { prefix: `try-${fn.name}` });
  const result = h('div', { id: 'function-result', 'aria-live': 'polite' });
  const run = h('button', { type: 'submit', class: 'primary', id: 'run-function' }, `Run ${fn.name}`);
  const f = h('form', { id: 'try-form', novalidate: true }, form.element, h('div', { class: 'actions' }, run), result);
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    let args;
    try {
      args = form.read();
    } catch (e) {
      form.showLocal(e);
      return;
    }
    run.disabled = true;
    replace(result, h('p', { class: 'muted' }, 'Running…'));
    try {
      const out = await api('POST', `${BASE}/${encodeURIComponent(fn.name)}`, args);
      replace(result, h('h3', {}, 'Result'), h('pre', { class: 'result' }, JSON.stringify(out, null, 2)));
    } catch (e) {
      if (!form.showError(e.param, e.message)) replace(result, notice(e.message, 'error'));
      else replace(result, notice(`Refused: ${e.message}`, 'error'));
    } finally {
      run.disabled = false;
    }
  });
  box.hidden = false;
  replace(box, h('h2', {}, `Try ${fn.name}`), fn.description ? h('p', { class: 'muted' }, fn.description) : null,
    h('p', { class: 'small muted' }, 'Template: ', h('code', {}, fn.template || '')), f);
  box.scrollIntoView({ block: 'start' });
  const first = box.querySelector('input, textarea, select');
  if (first) first.focus();
}
