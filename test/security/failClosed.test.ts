/**
 * Fail closed. Production without a bot identity does not start (the real `bot/index.ts`
 * process exits non-zero with one clear line and never listens); without BOT_ID Vigil listens
 * on 127.0.0.1 only — shown by connecting to the other addresses of this machine — while with
 * BOT_ID it listens on every interface.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { startVigil, type Vigil } from '../../bot/index';
import { startDemoTenant, type DemoTenant } from '../../bot/demo';
import { freshDataDir } from '../remediation/support/harness';
import { loadConfig } from '../../bot/config';

const ROOT = path.resolve(__dirname, '../..');
const TENANT = '7f1c0a2e-4b6d-4e8f-9a1b-2c3d4e5f6a7b';
const CLIENT = '44444444-2222-4333-8444-555555555555';

/** Run `bot/index.ts` as `npm start` does, from an empty folder (no .env), with exactly this environment. */
function runBot(env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-failclosed-'));
  const child = spawn(process.execPath, ['-r', require.resolve('tsx/cjs'), path.join(ROOT, 'bot/index.ts')], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_NO_WARNINGS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bot did not exit within ${timeoutMs} ms (it started?): ${stdout.slice(0, 500)}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fs.rmSync(cwd, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
  });
}

/** Can a TCP connection be made to host:port? */
function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Addresses of this machine other than 127.0.0.1: another loopback address always, and each non-internal IPv4. */
function otherAddresses(): string[] {
  const external = Object.values(os.networkInterfaces())
    .flat()
    .filter((i) => i && i.family === 'IPv4' && !i.internal)
    .map((i) => i!.address);
  return ['127.0.0.2', ...external];
}

describe('security: fail closed', function () {
  this.timeout(60_000);

  it('NODE_ENV=production without BOT_ID: the process refuses to start, exit code 1, one clear line', async () => {
    const port = 39000 + Math.floor(Math.random() * 1000);
    const out = await runBot({
      NODE_ENV: 'production',
      PORT: String(port),
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: CLIENT,
      AZURE_CLIENT_SECRET: 'graph-secret-not-used',
    });
    assert.equal(out.code, 1, out.stderr);
    const lines = out.stderr.trim().split('\n');
    assert.deepEqual(lines, ['Invalid configuration:', '  - BOT_ID: required when NODE_ENV=production (inbound authentication cannot be off)']);
    assert.equal(out.stdout, '', 'nothing else happened (no log line, no listener)');
    assert.equal(await connects('127.0.0.1', port), false);
  });

  it('production refuses the other ways of running open too: BOT_ID without a password, and the demo tenant', async () => {
    const [noPassword, demo] = await Promise.all([
      runBot({ NODE_ENV: 'production', PORT: '0', BOT_ID: CLIENT, AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT, AZURE_CLIENT_SECRET: 'x' }),
      runBot({ NODE_ENV: 'production', PORT: '0', BOT_ID: CLIENT, BOT_PASSWORD: 'x' }),
    ]);
    assert.equal(noPassword.code, 1);
    assert.deepEqual(noPassword.stderr.trim().split('\n').slice(1), ['  - BOT_PASSWORD: required when BOT_ID is set']);
    assert.equal(demo.code, 1);
    assert.deepEqual(demo.stderr.trim().split('\n').slice(1), ['  - AZURE_CLIENT_ID: required when NODE_ENV=production (the demo tenant is for trying Vigil out)']);
  });

  it('production accepts only https service URLs in ALLOWED_SERVICE_URLS', () => {
    const base = { NODE_ENV: 'production', BOT_ID: CLIENT, BOT_PASSWORD: 'x', AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT, AZURE_CLIENT_SECRET: 'x' };
    assert.throws(() => loadConfig({ ...base, ALLOWED_SERVICE_URLS: 'http://10.0.0.5:8080' }), /ALLOWED_SERVICE_URLS: only https service URLs/);
    assert.deepEqual(loadConfig({ ...base, ALLOWED_SERVICE_URLS: 'smba.teams.sovcloud-core.fr' }).bot.serviceUrls, ['smba.teams.sovcloud-core.fr']);
    assert.throws(() => loadConfig({ ALLOWED_SERVICE_URLS: 'https://x/path/*' }), /ALLOWED_SERVICE_URLS: must be a comma-separated list/);
  });

  describe('bound address', () => {
    let demo: DemoTenant;
    const dirs: string[] = [];
    const started: Vigil[] = [];
    before(async () => {
      demo = await startDemoTenant();
    });
    after(async () => {
      for (const v of started) await v.stop();
      await demo?.close();
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    });
    async function start(env: NodeJS.ProcessEnv): Promise<Vigil> {
      const dir = await freshDataDir();
      dirs.push(dir);
      const v = await startVigil({ env: { PORT: '0', DATA_DIR: dir, LOG_LEVEL: 'silent', SCAN_POLL_SECONDS: '0', ...env }, demoTenant: demo });
      started.push(v);
      return v;
    }

    it('without BOT_ID: listens on 127.0.0.1 only (other addresses of this machine are refused)', async () => {
      const v = await start({});
      assert.equal(new URL(v.url).hostname, '127.0.0.1');
      assert.equal(await connects('127.0.0.1', v.port), true);
      for (const address of otherAddresses()) assert.equal(await connects(address, v.port), false, `${address}:${v.port} must not be reachable`);
    });

    it('with BOT_ID (authentication on): listens on every interface', async () => {
      const v = await start({ BOT_ID: CLIENT, BOT_PASSWORD: 'bot-password' });
      for (const address of ['127.0.0.1', ...otherAddresses()]) assert.equal(await connects(address, v.port), true, `${address}:${v.port}`);
    });
  });
});
