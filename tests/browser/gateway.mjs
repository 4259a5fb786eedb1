// Starts a real `switchboard serve` (the binary in $SWITCHBOARD_BIN) on a
// free port with a temporary config: an admin token, two mock instances
// (one streaming slowly), an alias, and the functions, usage and keys
// extensions on a SQLite store in the temporary directory.

import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The admin token of the test gateway. */
export const ADMIN_TOKEN = 'console-test-admin-token';

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function config(port, dir, adminToken) {
  return `# Written by tests/browser/gateway.mjs.
[server]
listen = "127.0.0.1:${port}"
${adminToken ? `admin_token = "${ADMIN_TOKEN}"` : '# no admin_token: the management API is off'}

[providers.mock]
kind = "mock"
mode = "\${CONSOLE_TEST_MODE:-echo}"
models = ["mock-1", { id = "mock-small", context_length = 1000 }]
token_delay_ms = 60

[providers.backup]
kind = "mock"
script = ["The backup instance answers."]

# Never reached (port 9): its key shows how secrets stay write-only.
[providers.upstream]
kind = "openai-compatible"
base_url = "http://127.0.0.1:9/v1"
api_key = "\${CONSOLE_TEST_KEY:-sk-console-test-secret}"
models = ["small"]

[models.fast]
strategy = "fallback"
targets = ["mock/mock-1", "backup/mock-1"]

[extensions.functions]
enabled = true

[extensions.usage]
enabled = true

[extensions.keys]
enabled = true

[state]
path = "${join(dir, 'state.db')}"
`;
}

/**
 * Starts the gateway (with the admin token unless `adminToken` is false);
 * resolves to `{url, stop()}` once /readyz answers.
 */
export async function startGateway({ adminToken = true } = {}) {
  const bin = process.env.SWITCHBOARD_BIN;
  if (!bin) throw new Error('set SWITCHBOARD_BIN to the switchboard binary (cargo xtask browser does)');
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-console-'));
  const port = await freePort();
  const file = join(dir, 'switchboard.toml');
  writeFileSync(file, config(port, dir, adminToken));
  const child = spawn(bin, ['serve', '--config', file], {
    env: { ...process.env, SWITCHBOARD_LOG: process.env.SWITCHBOARD_LOG || 'error', NO_COLOR: '1' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20000;
  let exited = null;
  child.once('exit', (code) => { exited = code; });
  for (;;) {
    if (exited !== null) throw new Error(`switchboard serve exited (${exited}) before it was ready`);
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error('switchboard serve was not ready within 20 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => { if (exited !== null) r(); else child.once('exit', r); setTimeout(r, 5000); });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
