/**
 * The Toolkit's playground profile (m365agents.playground.yml + env/.env.playground) gives Vigil
 * the configuration `npm start` needs for the Agents Playground, and the Playground starts with
 * `npm run playground` against it (the same script, port and .m365agentsplayground.yml).
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseEnv } from 'node:util';
import { load as loadYaml } from 'js-yaml';
import { loadConfig } from '../../bot/config';
import { startVigil, type Vigil } from '../../bot/index';
import { freePort } from '../support/playground';

const ROOT = path.resolve(__dirname, '..', '..');

/** What the profile's file/createOrUpdateEnvironmentFile writes to ./.env, placeholders resolved. */
function profileEnv(): Record<string, string> {
  const yml = loadYaml(fs.readFileSync(path.join(ROOT, 'm365agents.playground.yml'), 'utf8')) as { deploy: Array<{ uses: string; with?: { target?: string; envs?: Record<string, string> } }> };
  const values = parseEnv(fs.readFileSync(path.join(ROOT, 'env', '.env.playground'), 'utf8')) as Record<string, string>;
  const step = yml.deploy.find((s) => s.uses === 'file/createOrUpdateEnvironmentFile')!;
  assert.equal(step.with?.target, './.env');
  return Object.fromEntries(Object.entries(step.with!.envs!).map(([k, v]) => [k, String(v).replace(/\$\{\{(\w+)\}\}/g, (_m, name: string) => values[name] ?? '')]));
}

describe('ship: the playground profile starts with npm run playground', function () {
  this.timeout(90_000);
  let vigil: Vigil | undefined;
  let dataDir: string;
  let child: ReturnType<typeof spawn> | undefined;

  after(async () => {
    if (child?.pid && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    await vigil?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('the profile configures the demo tenant without a bot identity, on the port the script targets', () => {
    const env = profileEnv();
    assert.equal(env.PORT, '3978', 'scripts/playground.js targets http://127.0.0.1:3978/api/messages');
    assert.match(fs.readFileSync(path.join(ROOT, 'scripts', 'playground.js'), 'utf8'), /process\.env\.PORT \|\| 3978/);
    const config = loadConfig(env);
    assert.equal(config.demo, true);
    assert.equal(config.bot.appId, undefined, 'the Playground sends unauthenticated activities');
    assert.equal(config.host, '127.0.0.1');
  });

  it('Vigil with that configuration + `npm run playground` serve the Playground UI', async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-pg-profile-'));
    // Free ports instead of 3978/56150 so the test runs beside a developer's own instances.
    vigil = await startVigil({ env: { ...profileEnv(), PORT: '0', DATA_DIR: dataDir, SCAN_POLL_SECONDS: '0', LOG_LEVEL: 'silent' } });
    const uiPort = await freePort();
    child = spawn('npm', ['run', '--silent', 'playground', '--', '--port', String(uiPort)], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PORT: String(vigil.port), TEAMSAPPTESTER_BROWSER: 'none' },
    });
    let output = '';
    child.stdout!.on('data', (c) => (output += c));
    child.stderr!.on('data', (c) => (output += c));
    const deadline = Date.now() + 45_000;
    while (!/Open http:\/\/localhost:(\d+)/.test(output)) {
      assert.ok(Date.now() < deadline, `the Playground did not start:\n${output}`);
      assert.equal(child.exitCode, null, `the Playground exited:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.match(output, new RegExp(`bot at http://127\\.0\\.0\\.1:${vigil.port}/api/messages`));
    const port = Number(/Open http:\/\/localhost:(\d+)/.exec(output)![1]);
    const ui = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /<html/i);
  });
});
