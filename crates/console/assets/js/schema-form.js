// Forms generated from JSON Schemas (the provider and extension configs,
// a function's parameters): types, enums, defaults, descriptions as help
// text, nested objects, secrets as write-only password fields that say
// "set" or "not set", `${VAR}` references shown as such. The server's
// validation messages go next to the field they name (`showError`).

import { h } from './dom.js';

const REDACTED = '***';
const VAR_REF = /\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}/;
let uid = 0;

/** Follows a local `$ref` (`#/$defs/X`) against `root`. */
function resolve(s, root) {
  let out = s || {};
  for (let i = 0; i < 8 && out && typeof out.$ref === 'string' && out.$ref.startsWith('#/'); i++) {
    const target = out.$ref.slice(2).split('/').reduce((o, k) => (o ? o[k.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined), root);
    if (!target) break;
    const { $ref, ...rest } = out;
    out = { ...target, ...rest };
  }
  return out || {};
}

/** One field's shape: `{type, nullable, enum, secret, ...}` from its schema. */
export function describe(raw, root) {
  const s = resolve(raw, root);
  const d = {
    title: s.title, description: s.description, default: s.default, secret: s.writeOnly === true,
    minimum: s.minimum, maximum: s.maximum, nullable: false, schema: s,
  };
  let type = s.type;
  if (Array.isArray(type)) {
    d.nullable = type.includes('null');
    const rest = type.filter((t) => t !== 'null');
    // `["string", "integer"]` (a time as text or seconds): a text field that
    // sends digits as a number.
    d.numericText = rest.includes('string') && rest.includes('integer');
    type = rest.length === 1 ? rest[0] : rest.includes('string') && !rest.includes('object') && !rest.includes('array') ? 'string' : 'json';
  }
  const alts = s.anyOf || s.oneOf;
  if (!type && Array.isArray(alts)) {
    const real = alts.map((a) => resolve(a, root)).filter((a) => a.type !== 'null');
    d.nullable = real.length < alts.length;
    if (real.some((a) => a.writeOnly)) d.secret = true;
    if (real.length && real.every((a) => a.const !== undefined || Array.isArray(a.enum))) {
      d.enum = real.flatMap((a) => (a.const !== undefined ? [a.const] : a.enum));
      d.enumHelp = real.map((a) => a.description).filter(Boolean);
      type = 'string';
    } else if (real.length === 1) {
      const inner = describe(real[0], root);
      return { ...inner, nullable: true, description: d.description || inner.description, default: d.default ?? inner.default, secret: d.secret || inner.secret };
    } else {
      type = 'json';
    }
  }
  if (Array.isArray(s.enum)) {
    d.enum = s.enum.filter((v) => v !== null);
    if (d.enum.length < s.enum.length) d.nullable = true;
    type = type || 'string';
  }
  if (!type && s.properties) type = 'object';
  d.type = type || 'json';
  if (d.type === 'array') {
    const items = resolve(s.items, root);
    d.itemType = ['string', 'integer', 'number'].includes(items.type) ? items.type : null;
  }
  return d;
}

function defaultText(d) {
  if (d.default === undefined || d.default === null) return null;
  return typeof d.default === 'object' ? JSON.stringify(d.default) : String(d.default);
}

/**
 * A form for `schema` holding `value` (the current, redacted config).
 * `omit` lists top-level keys not shown. Returns `{element, read, patch,
 * showError, clearErrors}`.
 */
export function schemaForm(schema, value = {}, { omit = [], prefix = 'f', envRefs = {} } = {}) {
  const root = schema || {};
  const top = resolve(root, root);
  const fields = [];
  const element = h('div', { class: 'schema-form' });
  const props = top.properties || {};
  const required = new Set(top.required || []);
  for (const [key, sub] of Object.entries(props)) {
    if (omit.includes(key)) continue;
    element.appendChild(field([key], sub, value ? value[key] : undefined, required.has(key)));
  }
  if (!Object.keys(props).length) element.appendChild(h('p', { class: 'muted' }, 'No settings.'));

  function field(path, sub, current, isRequired) {
    const d = describe(sub, root);
    const key = path[path.length - 1];
    const id = `${prefix}-${++uid}`;
    const helpId = `${id}-help`;
    const errId = `${id}-error`;
    if (d.type === 'object' && d.schema.properties) {
      const req = new Set(d.schema.required || []);
      return h('fieldset', { class: 'nested' },
        h('legend', {}, key),
        d.description ? h('p', { class: 'help' }, d.description) : null,
        Object.entries(d.schema.properties).map(([k, s]) => field([...path, k], s, current ? current[k] : undefined, req.has(k))));
    }
    const secret = d.secret || current === REDACTED;
    const isSet = current !== undefined && current !== null && current !== '';
    const def = defaultText(d);
    let control;
    const describedBy = `${helpId} ${errId}`;
    const common = { id, name: path.join('.'), 'aria-describedby': describedBy };
    if (secret) {
      control = h('input', { ...common, type: 'password', autocomplete: 'new-password', placeholder: isSet ? 'set — type to replace' : 'not set' });
    } else if (d.type === 'boolean' && !d.nullable && !isRequired) {
      control = h('input', { ...common, type: 'checkbox', checked: current === undefined ? d.default === true : current === true });
    } else if (d.type === 'boolean') {
      control = h('select', common, h('option', { value: '' }, def ? `default (${def})` : '(unset)'),
        h('option', { value: 'true' }, 'true'), h('option', { value: 'false' }, 'false'));
      control.value = current === undefined || current === null ? '' : String(current);
    } else if (d.enum) {
      control = h('select', common,
        isRequired && !def ? null : h('option', { value: '' }, def ? `default (${def})` : '(unset)'),
        d.enum.map((v) => h('option', { value: String(v) }, String(v))));
      control.value = current === undefined || current === null ? '' : String(current);
    } else if (d.type === 'integer' || d.type === 'number') {
      control = h('input', { ...common, type: 'number', step: d.type === 'integer' ? '1' : 'any', inputmode: d.type === 'integer' ? 'numeric' : 'decimal', placeholder: def ? `default ${def}` : '' });
      if (d.minimum !== undefined) control.min = String(d.minimum);
      if (d.maximum !== undefined) control.max = String(d.maximum);
      control.value = typeof current === 'number' ? String(current) : (typeof current === 'string' ? current : '');
    } else if (d.type === 'string') {
      control = h('input', { ...common, type: 'text', spellcheck: false, placeholder: def ? `default ${def}` : '' });
      control.value = typeof current === 'string' ? current : '';
    } else if (d.type === 'array' && d.itemType) {
      control = h('textarea', { ...common, rows: 3, spellcheck: false, placeholder: def ? `default ${def}` : 'one per line' });
      control.value = Array.isArray(current) ? current.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join('\n') : '';
    } else {
      control = h('textarea', { ...common, rows: 3, spellcheck: false, class: 'code', placeholder: def ? `default ${def}` : 'JSON' });
      control.value = current === undefined || current === null ? '' : JSON.stringify(current, null, 2);
    }
    if (isRequired && !secret) control.required = true;
    const badges = [];
    if (secret) badges.push(h('span', { class: `pill ${isSet ? 'ok' : 'off'} secret-state` }, isSet ? 'set' : 'not set'));
    const refs = envRefs[path.join('.')];
    if (refs && refs.length) {
      badges.push(h('span', { class: 'pill info env-ref', title: 'set in the config file through an environment variable, resolved when the gateway loads it' }, refs.map((v) => `\${${v}}`).join(' ')));
    } else if (typeof current === 'string' && VAR_REF.test(current)) {
      badges.push(h('span', { class: 'pill info env-ref', title: 'an environment variable reference' }, 'env reference'));
    }
    const sentence = (t) => (t && !/[.!?:)]$/.test(t.trim()) ? `${t.trim()}.` : t);
    const help = [sentence(d.description), d.enumHelp && d.enumHelp.length ? d.enumHelp.join(' · ') : null,
      d.type === 'array' && d.itemType ? 'One per line.' : null,
      secret ? 'Write-only: the current value is never shown.' : null,
      refs && refs.length ? `From ${refs.map((v) => `\${${v}}`).join(', ')} in the config file; a value saved here replaces the reference until the file is reloaded.` : null,
      def && !secret ? `Default: ${def}.` : null].filter(Boolean).join(' ');
    const error = h('p', { class: 'field-error', id: errId, role: 'alert', hidden: true });
    const wrap = h('div', { class: `field ${control.type === 'checkbox' ? 'check' : ''}`, 'data-path': path.join('.') },
      h('label', { for: id }, d.title || key, isRequired ? h('span', { class: 'req', title: 'required' }, ' *') : null, ' ', badges),
      control,
      help ? h('p', { class: 'help', id: helpId }, help) : h('span', { id: helpId, hidden: true }),
      error);
    fields.push({ path, d, control, current, secret, isSet, wrap, error });
    return wrap;
  }

  /** The value of one field: `{set: false}` when left empty (the default applies). */
  function readField(f) {
    const c = f.control;
    if (f.secret) return c.value === '' ? { keep: true } : { set: true, value: c.value };
    if (c.type === 'checkbox') return { set: true, value: c.checked };
    const raw = c.value.trim();
    if (raw === '') return { set: false };
    switch (f.d.type) {
      case 'boolean': return { set: true, value: raw === 'true' };
      case 'integer':
      case 'number': {
        const n = Number(raw);
        if (!Number.isFinite(n) || (f.d.type === 'integer' && !Number.isInteger(n))) {
          throw fieldError(f, `expected ${f.d.type === 'integer' ? 'a whole number' : 'a number'}, found \`${raw}\``);
        }
        return { set: true, value: n };
      }
      case 'string': return { set: true, value: f.d.numericText && /^\d+$/.test(raw) ? Number(raw) : c.value };
      case 'array':
        if (f.d.itemType) {
          const items = raw.split('\n').map((l) => l.trim()).filter(Boolean);
          return { set: true, value: f.d.itemType === 'string' ? items : items.map(Number) };
        }
      // falls through: arrays of objects are JSON
      default:
        try {
          return { set: true, value: JSON.parse(raw) };
        } catch (e) {
          throw fieldError(f, `not valid JSON: ${e.message}`);
        }
    }
  }

  function fieldError(f, message) {
    const e = new Error(`${f.path.join('.')}: ${message}`);
    e.field = f;
    e.local = message;
    return e;
  }

  function setIn(obj, path, v) {
    let o = obj;
    for (const k of path.slice(0, -1)) o = o[k] = o[k] && typeof o[k] === 'object' ? o[k] : {};
    o[path[path.length - 1]] = v;
  }

  function same(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
  }

  /** Every field's value (empty ones left out; untouched secrets as `***`). Throws on a parse error. */
  function read() {
    clearErrors();
    const out = {};
    for (const f of fields) {
      const r = readField(f);
      if (r.keep) {
        if (f.isSet) setIn(out, f.path, REDACTED);
      } else if (r.set) setIn(out, f.path, r.value);
    }
    return out;
  }

  /** A JSON merge patch of what changed (a cleared field is `null`: back to its default). */
  function patch() {
    clearErrors();
    const out = {};
    for (const f of fields) {
      const r = readField(f);
      if (r.keep) continue;
      const had = f.current !== undefined && f.current !== null;
      if (!r.set) {
        if (had) setIn(out, f.path, null);
      } else if (!had || !same(r.value, f.current)) {
        setIn(out, f.path, r.value);
      }
    }
    return out;
  }

  /** Shows `message` next to the field `param` names (a dotted path, matched by its end); false when none matches. */
  function showError(param, message) {
    if (!param) return false;
    const parts = String(param).replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean);
    let best = null;
    for (const f of fields) {
      const fp = f.path.join('.');
      for (let i = 0; i < parts.length; i++) {
        const tail = parts.slice(i).join('.');
        if ((tail === fp || tail.startsWith(`${fp}.`)) && (!best || fp.length > best.path.join('.').length)) best = f;
      }
    }
    if (!best) return false;
    best.error.textContent = message;
    best.error.hidden = false;
    best.control.setAttribute('aria-invalid', 'true');
    best.wrap.classList.add('invalid');
    best.control.focus();
    return true;
  }

  function clearErrors() {
    for (const f of fields) {
      f.error.hidden = true;
      f.error.textContent = '';
      f.control.removeAttribute('aria-invalid');
      f.wrap.classList.remove('invalid');
    }
  }

  /** Shows a local parse error (from read/patch) next to its field. */
  function showLocal(e) {
    if (!e.field) return false;
    e.field.error.textContent = e.local;
    e.field.error.hidden = false;
    e.field.control.setAttribute('aria-invalid', 'true');
    e.field.wrap.classList.add('invalid');
    e.field.control.focus();
    return true;
  }

  return { element, read, patch, showError, showLocal, clearErrors };
}
