// The shell: sign-in, navigation and the hash router (`#/overview`,
// `#/provider/<name>`, `#/extension/<name>`, `#/keys`, `#/playground`,
// `#/functions`). Each page module exports `render(main, ...args)` and may
// return a cleanup function (to stop polling).

import { h, replace, notice } from './dom.js';
import { probe, setToken, signOut, token } from './api.js';
import * as overview from './overview.js';
import * as plugin from './plugin.js';
import * as keys from './keys.js';
import * as playground from './playground.js';
import * as functions from './functions.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const signOutButton = document.getElementById('sign-out');
let cleanup = null;

const routes = {
  overview: (m) => overview.render(m),
  provider: (m, name) => plugin.render(m, 'provider', name),
  extension: (m, name) => plugin.render(m, 'extension', name),
  keys: (m) => keys.render(m),
  playground: (m) => playground.render(m),
  functions: (m) => functions.render(m),
};

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const section = routes[parts[0]] ? parts[0] : 'overview';
  return { section, args: parts.slice(1) };
}

async function route() {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  if (!token()) {
    await signInPage();
    return;
  }
  nav.hidden = false;
  signOutButton.hidden = false;
  const { section, args } = parseHash();
  for (const a of nav.querySelectorAll('a')) {
    if (a.dataset.section === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  replace(main, h('p', { class: 'muted' }, 'Loading…'));
  try {
    const result = await routes[section](main, ...args);
    if (typeof result === 'function') cleanup = result;
  } catch (e) {
    replace(main, notice(`This page could not load: ${e.message}`, 'error'));
  }
}

async function signInPage(reason) {
  nav.hidden = true;
  signOutButton.hidden = true;
  const input = h('input', {
    id: 'token', type: 'password', autocomplete: 'current-password', required: true,
    placeholder: 'server.admin_token', spellcheck: false,
  });
  const message = h('div', { id: 'sign-in-message' });
  if (reason) message.appendChild(notice(reason, 'error'));
  const form = h('form', { class: 'card sign-in', id: 'sign-in', 'aria-labelledby': 'sign-in-title' },
    h('h1', { id: 'sign-in-title' }, 'Sign in'),
    h('p', {}, 'The console manages this gateway through its management API. Enter the admin token (',
      h('code', {}, 'server.admin_token'), '). It is kept in this tab only (sessionStorage) and sent as a header.'),
    h('label', { for: 'token' }, 'Admin token'),
    input,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Sign in')),
    message);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    replace(message);
    const t = input.value.trim();
    let answer;
    try {
      answer = await probe(t);
    } catch (e) {
      message.appendChild(notice(`The gateway does not answer: ${e.message}`, 'error'));
      return;
    }
    if (answer.state === 'ok') {
      setToken(t);
      if (!location.hash || location.hash === '#/signin') location.hash = '#/overview';
      else route();
    } else if (answer.state === 'disabled') {
      replace(message, disabledHelp(answer.message));
    } else {
      message.appendChild(notice(`Refused: ${answer.message}`, 'error'));
      input.select();
    }
  });
  replace(main, form);
  // Without a token configured, say so before anyone types.
  try {
    const answer = await probe('');
    if (answer.state === 'disabled') replace(message, disabledHelp(answer.message));
  } catch {
    // The submit handler reports it.
  }
  input.focus();
}

function disabledHelp(serverMessage) {
  for (const el of document.querySelectorAll('#sign-in label, #sign-in input, #sign-in .actions')) el.hidden = true;
  return h('div', { class: 'notice info', role: 'status', id: 'admin-disabled' },
    h('strong', {}, 'The management API is off on this gateway'), ` (${serverMessage}). `,
    'To use the console, give the gateway an admin token in its config file and restart it:',
    h('pre', {}, '[server]\nadmin_token = "${SWITCHBOARD_ADMIN_TOKEN}"'),
    h('pre', {}, 'SWITCHBOARD_ADMIN_TOKEN=$(openssl rand -hex 16) switchboard serve --config switchboard.toml'),
    'With a config file, ', h('code', {}, 'SWITCHBOARD_SERVER__ADMIN_TOKEN'), ' sets it too. Then sign in here with that token.');
}

signOutButton.addEventListener('click', () => {
  signOut();
  location.hash = '#/signin';
  route();
});

window.addEventListener('switchboard:unauthorized', () => {
  signOut();
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  signInPage('The admin token was refused (changed or revoked?): sign in again.');
});

window.addEventListener('hashchange', route);
route();
