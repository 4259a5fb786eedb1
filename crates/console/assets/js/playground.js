// The playground: pick a model or alias from /v1/models, a system prompt
// and parameters, and chat. Tokens stream in as they arrive; tool calls
// show as structured blocks (answerable with a result); reasoning is
// collapsible; each answer says which instance answered, in how long and
// at what cost. The model can change mid-conversation (history kept).

import { h, replace, notice, ms, usd, copyButton } from './dom.js';
import { clientKey, models as listModels, setClientKey, token } from './api.js';
import { chat } from './chat-stream.js';
import { curl, python } from './snippets.js';

const EXAMPLE_TOOLS = [{
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The current weather in a city.',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', description: 'City name' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['city'],
    },
  },
}];

// The conversation survives navigating away and back within the tab.
const session = { history: [], lastRequest: null, model: '' };

export async function render(main) {
  let list = [];
  let modelError = null;
  let needsKey = null;
  try {
    const answer = await listModels(clientKey() || token());
    list = answer.data || [];
    needsKey = answer.needsKey || null;
  } catch (e) {
    modelError = e;
  }
  const prices = new Map(list.map((m) => [m.id, m]));
  const model = h('select', { id: 'pg-model' }, list.map((m) => h('option', { value: m.id }, m.id)));
  if (session.model && prices.has(session.model)) model.value = session.model;
  model.addEventListener('change', () => { session.model = model.value; });
  session.model = model.value;
  const system = h('textarea', { id: 'pg-system', rows: 3, placeholder: 'You are a helpful assistant.' });
  const temperature = h('input', { id: 'pg-temperature', type: 'number', min: '0', max: '2', step: '0.1', placeholder: 'default' });
  const maxTokens = h('input', { id: 'pg-max-tokens', type: 'number', min: '1', step: '1', placeholder: 'default' });
  const reasoning = h('select', { id: 'pg-reasoning' }, ['', 'low', 'medium', 'high'].map((v) => h('option', { value: v }, v || 'off')));
  const stream = h('input', { id: 'pg-stream', type: 'checkbox', checked: true });
  const tools = h('textarea', { id: 'pg-tools', rows: 4, class: 'code', spellcheck: false, placeholder: 'Tools as a JSON array (OpenAI format), optional' });
  const key = h('input', { id: 'pg-key', type: 'password', autocomplete: 'off', placeholder: 'optional', value: clientKey() });
  key.addEventListener('change', () => setClientKey(key.value.trim()));
  const transcript = h('div', { id: 'transcript', class: 'transcript', 'aria-live': 'polite', 'aria-label': 'Conversation' });
  const prompt = h('textarea', { id: 'pg-prompt', rows: 3, placeholder: 'Message (Ctrl+Enter to send)', required: true });
  const send = h('button', { type: 'submit', class: 'primary', id: 'pg-send' }, 'Send');
  const stop = h('button', { type: 'button', id: 'pg-stop', hidden: true }, 'Stop');
  const status = h('div', { id: 'pg-status', 'aria-live': 'polite' });
  const snippets = h('div', { id: 'pg-snippets' });
  let controller = null;

  const composer = h('form', { class: 'composer', id: 'pg-form' }, h('label', { for: 'pg-prompt', class: 'sr-only' }, 'Message'), prompt,
    h('div', { class: 'actions' }, send, stop,
      h('button', { type: 'button', class: 'quiet', id: 'pg-clear', onclick: () => {
        session.history = [];
        replace(transcript);
        replace(status);
      } }, 'New conversation')));
  prompt.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      composer.requestSubmit();
    }
  });
  stop.addEventListener('click', () => controller && controller.abort());

  /** Sends the history (plus the system prompt) to the chosen model. */
  async function run() {
    let toolList;
    try {
      toolList = tools.value.trim() ? JSON.parse(tools.value) : null;
      if (toolList && !Array.isArray(toolList)) throw new Error('expected a JSON array');
    } catch (e) {
      replace(status, notice(`Tools: ${e.message}`, 'error'));
      tools.focus();
      return;
    }
    const messages = [];
    if (system.value.trim()) messages.push({ role: 'system', content: system.value.trim() });
    for (const m of session.history) messages.push(wire(m));
    const body = { model: model.value, messages, stream: stream.checked };
    if (stream.checked) body.stream_options = { include_usage: true };
    if (temperature.value !== '') body.temperature = Number(temperature.value);
    if (maxTokens.value !== '') body.max_tokens = Number(maxTokens.value);
    if (reasoning.value) body.reasoning_effort = reasoning.value;
    if (toolList) body.tools = toolList;
    session.lastRequest = body;
    showSnippets();
    const view = assistantView(model.value);
    transcript.appendChild(view.el);
    view.el.scrollIntoView({ block: 'end' });
    controller = new AbortController();
    send.disabled = true;
    stop.hidden = false;
    replace(status);
    try {
      const answer = await chat(body, key.value.trim() || token(), {
        text: (t) => view.text(t),
        reasoning: (t) => view.reasoning(t),
        tool: (calls) => view.tools(calls, answerTool),
      }, controller.signal);
      const msg = { role: 'assistant', content: answer.message.content, tool_calls: answer.message.tool_calls, model: model.value };
      session.history.push(msg);
      const served = `${answer.headers.get('x-switchboard-instance')}/${answer.headers.get('x-switchboard-model')}`;
      view.finish(meta(answer, prices.get(served) || prices.get(model.value)));
    } catch (e) {
      if (e.name === 'AbortError') view.finish('stopped');
      else {
        view.fail(e.message);
        if (e.status === 401) replace(status, notice('This gateway wants a client key for chat: create one under Keys & usage (“Use in playground”) or paste one in the parameters.', 'info'));
      }
    } finally {
      controller = null;
      send.disabled = false;
      stop.hidden = true;
    }
  }

  /** A tool result typed under a tool call: added to the history, then the model answers. */
  function answerTool(call, result) {
    const m = { role: 'tool', tool_call_id: call.id, content: result };
    session.history.push(m);
    transcript.appendChild(bubble(m));
    run();
  }

  composer.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = prompt.value.trim();
    if (!text || controller) return;
    const m = { role: 'user', content: text };
    session.history.push(m);
    transcript.appendChild(bubble(m));
    prompt.value = '';
    run();
  });

  function showSnippets() {
    const body = session.lastRequest;
    if (!body) return replace(snippets);
    const c = curl(body);
    const p = python(body);
    return replace(snippets, h('details', { class: 'snippets' }, h('summary', {}, 'Last request as code'),
      h('div', { class: 'snippet' }, h('div', { class: 'snippet-head' }, 'curl', copyButton(() => c, 'Copy as curl')), h('pre', { id: 'snippet-curl' }, c)),
      h('div', { class: 'snippet' }, h('div', { class: 'snippet-head' }, 'Python (openai)', copyButton(() => p, 'Copy as Python')), h('pre', { id: 'snippet-python' }, p))));
  }

  for (const m of session.history) transcript.appendChild(bubble(m));
  showSnippets();
  replace(main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Playground')),
    modelError ? notice(`Cannot list models: ${modelError.message}`, 'error') : null,
    needsKey ? notice(`This gateway wants a client key for chat (${needsKey}): create one under Keys & usage and press “Use in playground”, or paste one in “Client key”. Until then only the instances' own models are listed.`, 'info') : null,
    h('div', { class: 'playground' },
      h('section', { class: 'card settings', 'aria-label': 'Parameters' },
        field('pg-model', 'Model or alias', model, 'Change it at any time: the conversation is kept.'),
        field('pg-system', 'System prompt', system),
        h('div', { class: 'row' }, field('pg-temperature', 'Temperature', temperature), field('pg-max-tokens', 'Max tokens', maxTokens)),
        h('div', { class: 'row' }, field('pg-reasoning', 'Reasoning', reasoning),
          h('div', { class: 'field check' }, h('label', { for: 'pg-stream' }, 'Stream'), stream)),
        field('pg-tools', 'Tools', tools, null,
          h('button', { type: 'button', class: 'quiet small', id: 'pg-example-tool', onclick: () => { tools.value = JSON.stringify(EXAMPLE_TOOLS, null, 2); } }, 'Add an example tool')),
        field('pg-key', 'Client key', key, 'Needed when the gateway checks client keys (server.api_keys, the keys extension); else the admin token is sent. Kept in this tab only.')),
      h('section', { class: 'chat', 'aria-label': 'Chat' }, transcript, status, composer, snippets)));
  prompt.focus();
  return () => controller && controller.abort();
}

function field(id, label, control, help, extra) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, extra || null, help ? h('p', { class: 'help' }, help) : null);
}

/** A history entry as the wire wants it (our bookkeeping fields dropped). */
function wire(m) {
  const out = { role: m.role, content: m.content ?? '' };
  if (m.tool_calls && m.tool_calls.length) out.tool_calls = m.tool_calls;
  if (m.tool_call_id) out.tool_call_id = m.tool_call_id;
  return out;
}

function bubble(m) {
  const el = h('div', { class: `msg ${m.role}` }, h('div', { class: 'who' }, m.role === 'tool' ? 'tool result' : m.role, m.model ? ` · ${m.model}` : ''));
  if (m.content) el.appendChild(h('div', { class: 'content' }, m.content));
  for (const c of m.tool_calls || []) el.appendChild(toolBlock(c));
  return el;
}

function toolBlock(call, onResult) {
  let args = call.function.arguments;
  try {
    args = JSON.stringify(JSON.parse(args), null, 2);
  } catch {
    // Still streaming, or not JSON: show it as it is.
  }
  const block = h('div', { class: 'tool-call', 'data-tool': call.function.name },
    h('div', { class: 'tool-head' }, h('span', { class: 'pill info' }, 'tool call'), ' ', h('code', { class: 'tool-name' }, call.function.name), call.id ? h('span', { class: 'small muted' }, ` ${call.id}`) : null),
    h('pre', { class: 'tool-args' }, args));
  if (onResult) {
    const input = h('input', { type: 'text', placeholder: 'Result to send back (e.g. {"temp": 21})', 'aria-label': `Result of ${call.function.name}` });
    const form = h('form', { class: 'inline tool-result' }, input, h('button', { type: 'submit', class: 'small' }, 'Send result'));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      form.remove();
      onResult(call, input.value || '{}');
    });
    block.appendChild(form);
  }
  return block;
}

/** The assistant's bubble, filled as deltas arrive. */
function assistantView(modelId) {
  const content = h('div', { class: 'content streaming' });
  const reasoningText = h('pre', { class: 'reasoning-text' });
  const reasoning = h('details', { class: 'reasoning', hidden: true }, h('summary', {}, 'Reasoning'), reasoningText);
  const toolsBox = h('div', { class: 'tools' });
  const metaLine = h('div', { class: 'meta small muted' }, 'waiting for the first token…');
  const el = h('div', { class: 'msg assistant' }, h('div', { class: 'who' }, `assistant · ${modelId}`), reasoning, content, toolsBox, metaLine);
  let calls = [];
  let onResult = null;
  return {
    el,
    text(t) {
      content.appendChild(document.createTextNode(t));
      metaLine.textContent = 'streaming…';
    },
    reasoning(t) {
      reasoning.hidden = false;
      reasoningText.appendChild(document.createTextNode(t));
    },
    tools(list, answer) {
      calls = list;
      onResult = answer;
      replace(toolsBox, list.map((c) => toolBlock(c)));
    },
    finish(text) {
      content.classList.remove('streaming');
      if (calls.length) replace(toolsBox, calls.map((c) => toolBlock(c, onResult)));
      metaLine.textContent = text;
      el.dataset.done = 'true';
    },
    fail(message) {
      content.classList.remove('streaming');
      el.appendChild(notice(message, 'error'));
      metaLine.textContent = 'failed';
      el.dataset.done = 'true';
    },
  };
}

/** Who answered, how fast, and the cost: the header when the gateway sent one, else from the model's prices. */
function meta(answer, info) {
  const hd = answer.headers;
  const parts = [];
  const instance = hd.get('x-switchboard-instance');
  if (instance) parts.push(`instance ${instance}`);
  const m = hd.get('x-switchboard-model') || answer.model;
  if (m) parts.push(`model ${m}`);
  const attempts = hd.get('x-switchboard-attempts');
  if (attempts && attempts !== '1') parts.push(`${attempts} attempts`);
  if (answer.ttftMs !== null) parts.push(`first token ${ms(answer.ttftMs)}`);
  parts.push(`total ${ms(answer.totalMs)}`);
  const u = answer.usage;
  if (u) parts.push(`${u.prompt_tokens} in / ${u.completion_tokens} out tokens`);
  const header = hd.get('x-switchboard-cost-usd');
  if (header && header !== 'unknown') parts.push(`cost ${usd(header)}`);
  else if (u && info && info.pricing) {
    const p = info.pricing;
    const inPrice = p.input_per_million_usd;
    const outPrice = p.output_per_million_usd;
    if (inPrice !== undefined && outPrice !== undefined) parts.push(`cost ≈ ${usd((u.prompt_tokens * inPrice + u.completion_tokens * outPrice) / 1e6)}`);
  } else if (header === 'unknown') parts.push('cost unknown (no price)');
  if (answer.finish && answer.finish !== 'stop') parts.push(`finish ${answer.finish}`);
  return parts.join(' · ');
}
