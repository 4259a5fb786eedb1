// Overview: every provider instance and extension, with state, health,
// per-deployment cooldowns, requests, error ratio and latency/TTFT
// percentiles from /metrics, refreshed every few seconds.

import { h, replace, pill, notice, ms, pct } from './dom.js';
import { get, metricsText } from './api.js';
import { instanceStats } from './metrics.js';

/** How often the overview refreshes, in milliseconds. */
export const REFRESH_MS = 3000;

export async function render(main) {
  const table = h('tbody', { id: 'overview-rows' });
  const updated = h('span', { class: 'muted', id: 'overview-updated', 'aria-live': 'off' });
  const problems = h('div', { id: 'overview-problems' });
  const totals = h('div', { class: 'stats', id: 'overview-totals' });
  replace(main,
    h('div', { class: 'page-head' },
      h('h1', {}, 'Overview'),
      h('span', { class: 'live' }, h('span', { class: 'dot', 'aria-hidden': 'true' }), 'live, every 3 s · ', updated)),
    problems,
    totals,
    h('div', { class: 'table-wrap' },
      h('table', { class: 'grid', id: 'overview' },
        h('caption', { class: 'sr-only' }, 'Provider instances and extensions'),
        h('thead', {}, h('tr', {},
          ['Name', 'Kind', 'State', 'Health', 'Cooldowns', 'Requests', 'Errors', 'Latency p50 / p95', 'TTFT p50 / p95', 'Gen.']
            .map((t) => h('th', { scope: 'col' }, t)))),
        table)));

  let stopped = false;
  let timer = null;
  const controller = new AbortController();
  const tick = async () => {
    // A hidden tab does not poll; it refreshes when shown again.
    if (document.hidden) {
      timer = setTimeout(tick, REFRESH_MS);
      return;
    }
    try {
      const [plugins, text] = await Promise.all([
        get('/plugins', { signal: controller.signal }),
        metricsText(controller.signal).catch(() => ''),
      ]);
      if (stopped) return;
      fill(table, plugins, instanceStats(text));
      summary(totals, plugins);
      replace(problems);
      updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (e) {
      if (stopped || e.name === 'AbortError') return;
      replace(problems, notice(`Could not refresh: ${e.message}`, 'error'));
    }
    if (!stopped) timer = setTimeout(tick, REFRESH_MS);
  };
  await tick();
  return () => {
    stopped = true;
    controller.abort();
    clearTimeout(timer);
  };
}

function stateTone(state) {
  if (state === 'ready' || state === 'running') return 'ok';
  if (state === 'failed') return 'bad';
  return 'off';
}

/** The line of totals above the table. */
function summary(el, plugins) {
  const providers = plugins.filter((p) => p.kind !== 'extension');
  const extensions = plugins.filter((p) => p.kind === 'extension');
  const ready = providers.filter((p) => p.state === 'ready').length;
  const cooling = providers.filter((p) => p.health && (p.health.available === false || (p.health.deployments || []).some((d) => d.available === false))).length;
  const running = extensions.filter((e) => e.state === 'running').length;
  let requests = 0;
  let failures = 0;
  for (const p of providers) {
    requests += p.health ? p.health.total_requests : 0;
    failures += p.health ? p.health.total_failures : 0;
  }
  const stat = (label, value, tone) => h('div', { class: `stat ${tone || ''}` }, h('strong', {}, value), h('span', {}, label));
  replace(el,
    stat('instances ready', `${ready} / ${providers.length}`, ready < providers.length ? 'warn' : ''),
    stat('cooling down', String(cooling), cooling ? 'bad' : ''),
    stat('extensions running', `${running} / ${extensions.length}`),
    stat('requests', String(requests)),
    stat('failed', requests ? pct(failures / requests) : '–', failures ? 'warn' : ''));
}

function fill(tbody, plugins, stats) {
  const rows = plugins.map((p) => (p.kind === 'extension' ? extensionRow(p) : providerRow(p, stats.get(p.name))));
  replace(tbody, rows);
  if (!rows.length) tbody.appendChild(h('tr', {}, h('td', { colspan: 10, class: 'muted' }, 'No instances.')));
}

function providerRow(p, s) {
  const health = p.health || {};
  const link = h('a', { href: `#/provider/${encodeURIComponent(p.name)}` }, p.name);
  let healthCell;
  if (p.state !== 'ready') healthCell = pill('–', 'off');
  else if (health.available === false) healthCell = pill(`cooling ${ms(health.cooldown_remaining_ms)}`, 'bad');
  else if (health.consecutive_failures > 0) healthCell = pill(`${health.consecutive_failures} failing`, 'warn');
  else healthCell = pill('healthy', 'ok');
  const cooling = (health.deployments || []).filter((d) => d.available === false || d.cooldown_remaining_ms > 0);
  const cooldowns = cooling.length
    ? h('ul', { class: 'plain' }, cooling.map((d) => h('li', {}, `${d.model}: ${ms(d.cooldown_remaining_ms)}`)))
    : h('span', { class: 'muted' }, 'none');
  const total = health.total_requests || 0;
  const failures = health.total_failures || 0;
  const ratio = total ? failures / total : health.error_ratio;
  const requests = Math.max(total, s ? s.requests : 0);
  const state = h('span', {}, pill(p.state, stateTone(p.state)));
  if (p.state === 'failed' && p.error) state.appendChild(h('div', { class: 'small error-text' }, p.error));
  if (p.last_reload_error) state.appendChild(h('div', { class: 'small error-text', title: p.last_reload_error }, 'last reload failed'));
  return h('tr', { 'data-name': p.name, 'data-kind': 'provider' },
    h('th', { scope: 'row' }, link, p.display_name ? h('div', { class: 'small muted' }, p.display_name) : null),
    h('td', {}, p.provider || 'provider'),
    h('td', { class: 'state' }, state),
    h('td', {}, healthCell),
    h('td', {}, cooldowns),
    h('td', { class: 'num' }, String(requests)),
    h('td', { class: 'num' }, requests ? pct(ratio || 0) : '–'),
    h('td', { class: 'num' }, s ? `${ms(s.p50)} / ${ms(s.p95)}` : '–'),
    h('td', { class: 'num' }, s && s.ttft50 !== null ? `${ms(s.ttft50)} / ${ms(s.ttft95)}` : '–'),
    h('td', { class: 'num generation' }, String(p.generation ?? '')));
}

function extensionRow(e) {
  const link = h('a', { href: `#/extension/${encodeURIComponent(e.name)}` }, e.name);
  const dropped = e.dropped_records ? pill(`${e.dropped_records} records dropped`, 'warn') : pill('ok', 'ok');
  return h('tr', { 'data-name': e.name, 'data-kind': 'extension' },
    h('th', { scope: 'row' }, link),
    h('td', {}, 'extension', h('div', { class: 'small muted hooks' }, (e.hooks || []).join(', '))),
    h('td', { class: 'state' }, pill(e.state, stateTone(e.state))),
    h('td', {}, e.state === 'running' ? dropped : pill('–', 'off')),
    h('td', { class: 'muted' }, '–'),
    h('td', { class: 'num' }, '–'),
    h('td', { class: 'num' }, '–'),
    h('td', { class: 'num' }, '–'),
    h('td', { class: 'num' }, '–'),
    h('td', { class: 'num' }, ''));
}
