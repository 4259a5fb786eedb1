// Usage from the `usage` extension (`GET /v1/usage`, method `get`): cost
// and requests per UTC day as a bar chart, and totals by key, model and
// instance, over a chosen range.

import { h, replace, svg, notice, usd } from './dom.js';
import { get } from './api.js';

const DAY = 86400000;

function isoDay(t) {
  return new Date(t).toISOString().slice(0, 10);
}

export async function render(box) {
  const from = h('input', { type: 'date', id: 'usage-from', value: isoDay(Date.now() - 29 * DAY) });
  const to = h('input', { type: 'date', id: 'usage-to', value: isoDay(Date.now()) });
  const body = h('div', { id: 'usage-body' });
  const controls = h('form', { class: 'inline', id: 'usage-range' },
    h('label', { for: 'usage-from' }, 'From'), from,
    h('label', { for: 'usage-to' }, 'To'), to,
    h('button', { type: 'submit' }, 'Show'));
  controls.addEventListener('submit', (ev) => {
    ev.preventDefault();
    load(body, from.value, to.value);
  });
  box.append(controls, body);
  await load(body, from.value, to.value);
}

async function query(group, from, to) {
  const q = new URLSearchParams({ group_by: group });
  if (from) q.set('from', from);
  if (to) q.set('to', to);
  return get(`/v1/usage?${q}`);
}

async function load(body, from, to) {
  replace(body, h('p', { class: 'muted' }, 'Loading…'));
  let results;
  try {
    results = await Promise.all(['day', 'key', 'model', 'instance'].map((g) => query(g, from, to)));
  } catch (e) {
    replace(body, notice(e.status === 404
      ? `No usage data: ${e.message}. Turn on the usage extension ([extensions.usage] enabled = true) to keep a ledger.`
      : `Cannot read usage: ${e.message}`, e.status === 404 ? 'info' : 'error'));
    return;
  }
  const [days, keys, models, instances] = results.map((r) => r.totals || []);
  const total = days.reduce((a, d) => ({ requests: a.requests + d.requests, cost: a.cost + d.cost_usd, tokens: a.tokens + d.input_tokens + d.output_tokens }), { requests: 0, cost: 0, tokens: 0 });
  replace(body,
    h('p', { class: 'totals', id: 'usage-totals' },
      h('span', {}, h('strong', {}, String(total.requests)), ' requests'),
      h('span', {}, h('strong', {}, total.tokens.toLocaleString()), ' tokens'),
      h('span', {}, h('strong', {}, usd(total.cost)), ' cost')),
    chart(days, from, to),
    h('div', { class: 'columns three' },
      table('By key', keys, 'usage-by-key'),
      table('By model', models, 'usage-by-model'),
      table('By instance', instances, 'usage-by-instance')));
}

/** Bars of requests per day (cost in each bar's title and the axis). */
function chart(days, from, to) {
  const byDay = new Map(days.map((d) => [d.group, d]));
  const start = Date.parse(from || isoDay(Date.now() - 29 * DAY));
  const end = Date.parse(to || isoDay(Date.now()));
  const all = [];
  for (let t = start; t <= end && all.length < 366; t += DAY) all.push(byDay.get(isoDay(t)) || { group: isoDay(t), requests: 0, cost_usd: 0 });
  const W = 1000;
  const H = 170;
  const pad = 28;
  const max = Math.max(1, ...all.map((d) => d.requests));
  const bw = (W - pad) / Math.max(1, all.length);
  const g = svg('svg', { viewBox: `0 0 ${W} ${H + 24}`, class: 'chart', role: 'img', 'aria-labelledby': 'usage-chart-title', id: 'usage-chart' },
    svg('title', { id: 'usage-chart-title' }, `Requests per day, ${all[0] ? all[0].group : ''} to ${all.length ? all[all.length - 1].group : ''}`),
    svg('line', { x1: pad, y1: H, x2: W, y2: H, class: 'axis' }),
    svg('text', { x: 0, y: 12, class: 'tick' }, String(max)),
    svg('text', { x: 0, y: H, class: 'tick' }, '0'));
  all.forEach((d, i) => {
    const hgt = (d.requests / max) * (H - 16);
    const bar = svg('rect', { x: pad + i * bw + 1, y: H - hgt, width: Math.max(1, bw - 2), height: Math.max(0, hgt), class: 'bar' },
      svg('title', {}, `${d.group}: ${d.requests} requests, ${usd(d.cost_usd)}`));
    g.appendChild(bar);
    if (all.length <= 10 || i % Math.ceil(all.length / 8) === 0) {
      g.appendChild(svg('text', { x: pad + i * bw, y: H + 16, class: 'tick' }, d.group.slice(5)));
    }
  });
  return h('figure', { class: 'chart-wrap' }, g, h('figcaption', { class: 'muted small' }, 'Requests per UTC day (hover a bar for its cost).'));
}

function table(title, rows, id) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'grid compact', id },
    h('caption', {}, title),
    h('thead', {}, h('tr', {}, ['', 'Requests', 'Tokens in / out', 'Cost'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.length ? rows.map((r) => h('tr', {},
      h('th', { scope: 'row' }, r.group && r.group !== '-' ? h('code', {}, r.group) : h('span', { class: 'muted' }, '(none)')),
      h('td', { class: 'num' }, String(r.requests)),
      h('td', { class: 'num' }, `${r.input_tokens} / ${r.output_tokens}`),
      h('td', { class: 'num' }, `${usd(r.cost_usd)}${r.estimated_requests ? ' *' : ''}`))) : h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No requests in this range.')))));
}
