// A chat completion, streamed or not: the SSE frames of
// `/v1/chat/completions` read as they arrive, deltas handed to the caller
// one by one (text, reasoning, tool-call fragments), the whole answer
// assembled at the end.

import { failure } from './api.js';

/** Yields the `data:` payload of each SSE event in `body` as it arrives. */
export async function* sseData(body, signal) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      if (signal && signal.aborted) return;
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = frame.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
        if (data) yield data;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Sends `body` to `/v1/chat/completions` with `bearer`. `on.text(t)`,
 * `on.reasoning(t)` and `on.tool(calls)` see each delta as it arrives.
 * Resolves to `{message, usage, finish, model, headers, ttftMs, totalMs}`.
 */
export async function chat(body, bearer, on = {}, signal) {
  const started = performance.now();
  const headers = { 'content-type': 'application/json' };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const res = await fetch('/v1/chat/completions', { method: 'POST', headers, body: JSON.stringify(body), signal });
  if (!res.ok) throw await failure(res);
  const out = { message: { role: 'assistant', content: '', reasoning: '', tool_calls: [] }, usage: null, finish: null, model: null, headers: res.headers, ttftMs: null, totalMs: null };
  if (!body.stream) {
    const answer = await res.json();
    const choice = (answer.choices || [])[0] || {};
    const m = choice.message || {};
    out.ttftMs = performance.now() - started;
    out.message.content = m.content || '';
    out.message.reasoning = m.reasoning_content || m.reasoning || '';
    out.message.tool_calls = m.tool_calls || [];
    out.usage = answer.usage || null;
    out.finish = choice.finish_reason;
    out.model = answer.model;
    if (out.message.reasoning && on.reasoning) on.reasoning(out.message.reasoning);
    if (out.message.content && on.text) on.text(out.message.content);
    if (out.message.tool_calls.length && on.tool) on.tool(out.message.tool_calls);
    out.totalMs = performance.now() - started;
    return out;
  }
  const calls = [];
  for await (const data of sseData(res.body, signal)) {
    if (data === '[DONE]') break;
    let chunk;
    try {
      chunk = JSON.parse(data);
    } catch {
      continue;
    }
    if (chunk.error) {
      const e = new Error(chunk.error.message || 'the stream failed');
      e.partial = out;
      throw e;
    }
    if (out.ttftMs === null) out.ttftMs = performance.now() - started;
    out.model = chunk.model || out.model;
    if (chunk.usage) out.usage = chunk.usage;
    for (const choice of chunk.choices || []) {
      const d = choice.delta || {};
      if (d.reasoning_content || d.reasoning) {
        const t = d.reasoning_content || d.reasoning;
        out.message.reasoning += t;
        if (on.reasoning) on.reasoning(t);
      }
      if (d.content) {
        out.message.content += d.content;
        if (on.text) on.text(d.content);
      }
      for (const tc of d.tool_calls || []) {
        const i = tc.index ?? calls.length;
        calls[i] = calls[i] || { id: '', type: 'function', function: { name: '', arguments: '' } };
        if (tc.id) calls[i].id = tc.id;
        if (tc.function && tc.function.name) calls[i].function.name += tc.function.name;
        if (tc.function && tc.function.arguments) calls[i].function.arguments += tc.function.arguments;
        if (on.tool) on.tool(calls.filter(Boolean));
      }
      if (choice.finish_reason) out.finish = choice.finish_reason;
    }
  }
  out.message.tool_calls = calls.filter(Boolean);
  out.totalMs = performance.now() - started;
  return out;
}
