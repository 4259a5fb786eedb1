// The one place the console talks to the gateway. The admin token lives in
// this tab's sessionStorage (never a cookie, never localStorage) and goes
// out as `Authorization: Bearer` on every call.

const TOKEN = 'switchboard.adminToken';
const CLIENT_KEY = 'switchboard.clientKey';

/** The admin token of this tab, or null. */
export function token() {
  return sessionStorage.getItem(TOKEN);
}

/** Keeps the admin token for this tab. */
export function setToken(t) {
  sessionStorage.setItem(TOKEN, t);
}

/** Forgets the admin token (and the playground's client key). */
export function signOut() {
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(CLIENT_KEY);
}

/** The client key the playground uses, when the gateway wants one. */
export function clientKey() {
  return sessionStorage.getItem(CLIENT_KEY) || '';
}

/** Keeps (or, empty, forgets) the playground's client key. */
export function setClientKey(k) {
  if (k) sessionStorage.setItem(CLIENT_KEY, k);
  else sessionStorage.removeItem(CLIENT_KEY);
}

/** An error answer: its status, message and the field (`param`) it names. */
export class ApiError extends Error {
  constructor(status, message, param, code) {
    super(message);
    this.status = status;
    this.param = param || null;
    this.code = code || null;
  }
}

/** The headers of a call with `bearer` (the admin token by default). */
export function headers(bearer = token(), json = false) {
  const h = {};
  if (bearer) h.authorization = `Bearer ${bearer}`;
  if (json) h['content-type'] = 'application/json';
  return h;
}

/** Turns a non-2xx answer into an ApiError with the server's message. */
export async function failure(res) {
  let message = `${res.status} ${res.statusText}`;
  let param = null;
  let code = null;
  try {
    const body = await res.json();
    const e = body.error || body;
    if (e && typeof e.message === 'string') message = e.message;
    param = e && e.param;
    code = e && (e.code || e.type);
  } catch {
    // Not JSON: keep the status line.
  }
  return new ApiError(res.status, message, param, code);
}

/**
 * Calls the gateway: `method path`, `body` as JSON when given. Resolves to
 * the parsed answer (null for an empty one); rejects with an ApiError.
 */
export async function api(method, path, body, { bearer, signal } = {}) {
  const init = { method, headers: headers(bearer === undefined ? token() : bearer, body !== undefined), signal };
  if (body !== undefined) init.body = JSON.stringify(body);
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, `the gateway does not answer (${e.message})`);
  }
  if (res.status === 401 && bearer === undefined) {
    window.dispatchEvent(new CustomEvent('switchboard:unauthorized'));
  }
  if (!res.ok) throw await failure(res);
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

/** GET shorthand. */
export const get = (path, opts) => api('GET', path, undefined, opts);

/** The Prometheus text of `/metrics`. */
export async function metricsText(signal) {
  const res = await fetch('/metrics', { signal });
  if (!res.ok) throw await failure(res);
  return res.text();
}

/**
 * What the management API says about a token: `ok`, `wrong` (401), or
 * `disabled` (404: no `server.admin_token`), with the server's message.
 */
export async function probe(t) {
  const res = await fetch('/plugins', { headers: headers(t) });
  if (res.ok) return { state: 'ok' };
  const err = await failure(res);
  if (res.status === 404) return { state: 'disabled', message: err.message };
  return { state: 'wrong', message: err.message };
}

/**
 * `/v1/models` with `bearer` (the admin token, which sees every model; the
 * playground passes its client key, which sees the models it may use).
 * When that is refused, the instances' models from `/plugins` instead (no
 * aliases, no prices), with `needsKey` set.
 */
export async function models(bearer = token()) {
  try {
    return await get('/v1/models', { bearer });
  } catch (e) {
    if (e.status !== 401) throw e;
    const plugins = await get('/plugins');
    const data = plugins.filter((p) => p.kind === 'provider')
      .flatMap((p) => (p.models || []).map((m) => ({ id: `${p.name}/${m}` })));
    return { data, needsKey: e.message };
  }
}
