// The web console in a real browser (Debian's chromium through
// playwright-core) against a real `switchboard serve` on the mock. One
// page walks through the console in order; each step is a test.
// Screenshots go to $SCREENSHOT_DIR (default ./screenshots).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startGateway, ADMIN_TOKEN } from './gateway.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOT_DIR || join(process.cwd(), 'screenshots');
const TIMEOUT = 15000;

let gateway;
let browser;
let page;
const problems = [];

async function shot(name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

async function open(hash) {
  await page.goto(`${gateway.url}/ui/${hash}`);
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  gateway = await startGateway();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  // Any script error or CSP violation fails the run at the end.
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[0-9]/.test(m.text())) problems.push(`console error: ${m.text()}`);
  });
});

after(async () => {
  if (browser) await browser.close();
  if (gateway) await gateway.stop();
});

test('/ui is served with a strict CSP, and signing in shows the overview', async () => {
  const res = await page.goto(`${gateway.url}/ui`);
  assert.equal(res.status(), 200);
  const csp = res.headers()['content-security-policy'];
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  await page.locator('#sign-in').waitFor();
  await shot('sign-in');
  await page.fill('#token', ADMIN_TOKEN);
  await page.press('#token', 'Enter');
  await page.locator('#overview tr[data-name="mock"]').waitFor();
  for (const name of ['mock', 'backup', 'upstream', 'functions', 'usage', 'keys']) {
    await page.locator(`#overview tr[data-name="${name}"]`).waitFor();
  }
  assert.equal(await page.locator('#overview tr[data-name="mock"] td.state').innerText(), 'ready');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('switchboard.adminToken')), ADMIN_TOKEN);
  assert.equal(await page.evaluate(() => document.cookie), '', 'no cookie is ever set');
});

test('the config form: a bad value shows the field error, a good one reloads', async () => {
  await page.click('#overview tr[data-name="mock"] a');
  await page.locator('#config-form').waitFor();
  const before = Number(await page.locator('#generation').innerText());
  // Models with context length and prices (the admin token lists them all).
  const small = await page.locator('#models tr', { hasText: 'mock/mock-small' }).innerText();
  assert.match(small, /1,000/);
  assert.match(small, /\$1\.00/);
  // A value the file sets through `${VAR}` says so next to the field.
  assert.match(await page.locator('.field[data-path="mode"] .env-ref').innerText(), /\$\{CONSOLE_TEST_MODE\}/);
  const delay = page.locator('#config-form [name="token_delay_ms"]');
  assert.equal(await delay.inputValue(), '60');
  await delay.fill('600001');
  await page.click('#save-config');
  const fieldError = page.locator('.field[data-path="token_delay_ms"] .field-error');
  await fieldError.waitFor({ state: 'visible' });
  assert.match(await fieldError.innerText(), /60000/);
  assert.match(await page.locator('#config-message').innerText(), /Not saved/);
  assert.equal(Number(await page.locator('#generation').innerText()), before, 'nothing reloaded');
  await shot('provider-invalid');
  await delay.fill('25');
  await page.click('#save-config');
  await page.locator('#config-message .notice.ok').waitFor();
  assert.match(await page.locator('#config-message').innerText(), /Saved/);
  assert.equal(Number(await page.locator('#generation').innerText()), before + 1);
  assert.equal(await fieldError.isVisible(), false);
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot('provider');
});

test('a secret is a write-only field: "set", its variable named, its value never in the page', async () => {
  await open('#/provider/upstream');
  await page.locator('#config-form').waitFor();
  const key = page.locator('#config-form [name="api_key"]');
  assert.equal(await key.getAttribute('type'), 'password');
  assert.equal(await key.inputValue(), '');
  const field = page.locator('.field[data-path="api_key"]');
  assert.equal(await field.locator('.secret-state').innerText(), 'set');
  assert.match(await field.locator('.env-ref').innerText(), /CONSOLE_TEST_KEY/);
  const html = await page.content();
  assert.ok(!html.includes('sk-console-test-secret'), 'the secret is not in the page');
  // Saving another field leaves the key alone (it is not sent back).
  const before = Number(await page.locator('#generation').innerText());
  await page.fill('#config-form [name="timeout_ms"]', '5000');
  await page.click('#save-config');
  await page.locator('#config-message .notice.ok').waitFor();
  assert.equal(Number(await page.locator('#generation').innerText()), before + 1);
  assert.equal(await field.locator('.secret-state').innerText(), 'set');
  await field.evaluate((el) => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 100));
  await shot('provider-secret');
  await open('#/provider/mock');
  await page.locator('#config-form').waitFor();
});

test('health check, reload, disable and enable an instance', async () => {
  await page.click('#health-check');
  await page.locator('#action-result .notice.ok', { hasText: 'Healthy' }).waitFor();
  const generation = Number(await page.locator('#generation').innerText());
  await page.click('#reload');
  await page.locator('#action-result .notice.ok', { hasText: 'reloaded' }).waitFor();
  assert.equal(Number(await page.locator('#generation').innerText()), generation + 1);
  await page.click('#toggle-enabled');
  await page.locator('#state-text', { hasText: 'disabled' }).waitFor();
  await open('#/overview');
  await page.locator('#overview tr[data-name="mock"] td.state', { hasText: 'disabled' }).waitFor();
  await open('#/provider/mock');
  await page.locator('#toggle-enabled', { hasText: 'Enable' }).waitFor();
  await page.click('#toggle-enabled');
  await page.locator('#state-text', { hasText: 'ready' }).waitFor();
});

test('keys: create one (shown once), see it listed, change its limits and budget', async () => {
  await open('#/keys');
  await page.click('#create-key summary');
  await page.fill('#create-key [name="name"]', 'console-test');
  await page.fill('#create-key [name="rpm"]', '100');
  await page.click('#create-key-button');
  const key = await page.locator('#new-key-value').inputValue();
  assert.match(key, /^sk-sb-/);
  await page.locator('#keys-rows tr', { hasText: 'console-test' }).waitFor();
  const row = page.locator('#keys-rows tr', { hasText: 'console-test' });
  assert.match(await row.innerText(), /100 rpm/);
  await row.locator('button', { hasText: 'Edit' }).click();
  await page.fill('.edit-row [name="tpm"]', '5000');
  await page.fill('.edit-row [name="budget.amount_usd"]', '12');
  await page.click('.edit-row button[type="submit"]');
  await page.locator('#keys-rows tr', { hasText: '5000 tpm' }).waitFor();
  assert.match(await page.locator('#keys-rows tr', { hasText: 'console-test' }).innerText(), /\$12\.00/);
  await page.click('#use-in-playground');
  await page.locator('#usage-chart').waitFor();
});

test('the playground streams token by token, shows tool calls, keeps history across models', async () => {
  await open('#/playground');
  await page.locator('#pg-model').waitFor();
  await page.selectOption('#pg-model', 'mock/mock-1');
  // Count the text updates of the answer before it is done.
  await page.evaluate(() => {
    window.__updates = [];
    new MutationObserver(() => {
      const a = document.querySelector('.msg.assistant:last-of-type .content');
      const done = document.querySelector('.msg.assistant:last-of-type')?.dataset.done;
      if (a && !done) window.__updates.push(a.textContent.length);
    }).observe(document.getElementById('transcript'), { subtree: true, childList: true, characterData: true });
  });
  await page.fill('#pg-prompt', 'one two three four five six seven eight');
  await page.press('#pg-prompt', 'Control+Enter');
  const answer = page.locator('.msg.assistant[data-done="true"]').first();
  await answer.waitFor();
  assert.match(await answer.locator('.content').innerText(), /You said: one two three four five six seven eight/);
  const lengths = [...new Set(await page.evaluate(() => window.__updates))].filter((n) => n > 0);
  assert.ok(lengths.length >= 4, `the answer arrived in ${lengths.length} visible steps: ${lengths}`);
  assert.match(await answer.locator('.meta').innerText(), /instance mock/);

  await page.click('#pg-example-tool');
  await page.fill('#pg-prompt', 'What is the weather in Paris?');
  await page.click('#pg-send');
  const tool = page.locator('.msg.assistant[data-done="true"] .tool-call').first();
  await tool.waitFor();
  assert.equal(await tool.locator('.tool-name').innerText(), 'get_weather');
  JSON.parse(await tool.locator('.tool-args').innerText());
  await tool.locator('input').fill('{"temp": 21}');
  await tool.locator('button', { hasText: 'Send result' }).click();
  await page.locator('.msg.assistant[data-done="true"]').nth(2).waitFor();

  await page.fill('#pg-tools', '');
  await page.selectOption('#pg-model', 'fast');
  await page.selectOption('#pg-reasoning', 'low');
  await page.fill('#pg-prompt', 'And now from the alias');
  await page.click('#pg-send');
  const last = page.locator('.msg.assistant[data-done="true"]').nth(3);
  await last.waitFor();
  assert.match(await last.locator('.who').textContent(), /fast/);
  const thoughts = last.locator('details.reasoning');
  assert.equal(await thoughts.isVisible(), true, 'reasoning is shown (collapsed)');
  await thoughts.locator('summary').click();
  assert.match(await thoughts.locator('.reasoning-text').innerText(), /\S/);
  assert.match(await last.locator('.meta').innerText(), /cost/);
  assert.equal(await page.locator('.msg.user').count(), 3, 'the history is kept across the model switch');
  await page.click('#pg-snippets summary');
  assert.match(await page.locator('#snippet-curl').innerText(), /"model": "fast"/);
  assert.match(await page.locator('#snippet-python').innerText(), /client\.chat\.completions\.create/);
  assert.doesNotMatch(await page.locator('#pg-snippets').innerText(), /sk-sb-|console-test-admin-token/);
  // Scroll so the tool call, its result and the last (reasoning) answer show.
  await page.locator('.tool-call').first().evaluate((el) => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 110));
  await shot('playground');
  await page.setViewportSize({ width: 420, height: 800 });
  await shot('playground-narrow');
  await page.setViewportSize({ width: 1280, height: 800 });
});

test('functions: define one and run it from its generated form', async () => {
  await open('#/functions');
  await page.locator('#define-function').waitFor();
  await page.selectOption('#fn-model', 'mock/mock-1');
  await page.click('#define-button');
  await page.locator('#fn-define-message .notice.ok').waitFor();
  const item = page.locator('[data-function="summarize"]');
  await item.waitFor();
  await item.locator('button', { hasText: 'Try summarize' }).click();
  await page.locator('#try-form [name="text"]').fill('The quick brown fox');
  await page.fill('#try-form [name="words"]', '5');
  await page.click('#run-function');
  const result = page.locator('#function-result pre');
  await result.waitFor();
  const value = JSON.parse(await result.innerText());
  assert.equal(typeof value.text, 'string');
  assert.match(value.text, /quick brown fox/);
  await shot('functions');
});

test('an extension page: settings form saved, methods listed', async () => {
  await open('#/extension/functions');
  await page.locator('#config-form').waitFor();
  assert.match(await page.locator('.methods').innerText(), /functions\.define/);
  await page.click('#save-config');
  await page.locator('#config-message .notice.ok').waitFor();
  await open('#/extension/usage');
  await page.locator('#config-form').waitFor();
  await shot('extension');
});

test('keys and usage page after traffic', async () => {
  await open('#/keys');
  await page.locator('#usage-by-model tbody tr', { hasText: 'mock-1' }).first().waitFor();
  await shot('keys');
});

/** Fails `backup/mock-1` a few times (the mock's injected faults) so it cools down. */
async function failBackup() {
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
  const made = await (await fetch(`${gateway.url}/keys`, { method: 'POST', headers: admin, body: '{"name":"faults"}' })).json();
  for (let i = 0; i < 3; i++) {
    const r = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${made.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'backup/mock-1', mock: { fault: { kind: 'unavailable' } }, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(r.status, 503);
  }
}

test('the overview shows traffic, latency, cooldowns per deployment and the new generation', async () => {
  await failBackup();
  await open('#/overview');
  await page.locator('#overview tr[data-name="backup"] td', { hasText: 'mock-1:' }).waitFor();
  assert.match(await page.locator('#overview tr[data-name="backup"]').innerText(), /failing[\s\S]*[1-9][0-9]*%/);
  const row = page.locator('#overview tr[data-name="mock"]');
  await row.waitFor();
  await page.waitForFunction(() => {
    const r = document.querySelector('#overview tr[data-name="mock"]');
    return r && Number(r.children[5].textContent) > 0 && /ms|s/.test(r.children[7].textContent);
  });
  assert.ok(Number(await row.locator('td.generation').innerText()) >= 2);
  await shot('overview');
});

test('a wrong token is refused', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const other = await context.newPage();
  await other.goto(`${gateway.url}/ui/`);
  await other.fill('#token', 'not-the-token');
  await other.press('#token', 'Enter');
  await other.locator('#sign-in-message .notice.error', { hasText: 'Refused' }).waitFor();
  assert.equal(await other.evaluate(() => sessionStorage.getItem('switchboard.adminToken')), null);
  assert.equal(await other.locator('#nav').isVisible(), false);
  const status = await other.evaluate(async () => (await fetch('/plugins', { headers: { authorization: 'Bearer nope' } })).status);
  assert.equal(status, 401);
  await context.close();
});

test('without an admin token the console says how to enable it (dark scheme)', async () => {
  const bare = await startGateway({ adminToken: false });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
  try {
    const other = await context.newPage();
    other.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await other.goto(`${bare.url}/ui/`);
    const help = other.locator('#admin-disabled');
    await help.waitFor();
    assert.match(await help.innerText(), /admin_token/);
    const background = await other.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.notEqual(background, 'rgb(246, 247, 249)', 'the dark scheme applies');
    await other.screenshot({ path: join(SHOTS, 'no-admin-token-dark.png') });
  } finally {
    await context.close();
    await bare.stop();
  }
});

test('no script error or CSP violation on any page', () => {
  assert.deepEqual(problems, []);
});
