/**
 * The Microsoft 365 Agents Toolkit project files and `npm run package`, offline:
 * - each m365agents*.yml parses, uses the actions the Toolkit documents, and every ${{VAR}} it
 *   reads is defined by its env/.env.<env> file, a .user secret (SECRET_*), the Toolkit itself, or
 *   an earlier action's output;
 * - `npm run package` resolves the manifest's placeholders from env/.env.<env> (+ .user) into
 *   appPackage/build/appPackage.<env>.zip; the test unzips it (adm-zip) and validates the
 *   manifest against the bundled schema (@microsoft/app-manifest), with zero errors.
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseEnv } from 'node:util';
import AdmZip from 'adm-zip';
import { load as loadYaml } from 'js-yaml';
import { AppManifestUtils, type AppManifest } from '@microsoft/app-manifest';

const ROOT = path.resolve(__dirname, '..', '..');
const PROFILES = { dev: 'm365agents.yml', local: 'm365agents.local.yml', playground: 'm365agents.playground.yml' } as const;
/** Variables the Toolkit provides itself. */
const BUILT_IN = new Set(['TEAMSFX_ENV', 'AZURE_SUBSCRIPTION_ID', 'AZURE_RESOURCE_GROUP_NAME', 'APP_NAME_SUFFIX']);
/** Outputs of infra/azure.bicep, written to env/.env.<env> by arm/deploy. */
const BICEP_OUTPUTS = [...fs.readFileSync(path.join(ROOT, 'infra', 'azure.bicep'), 'utf8').matchAll(/^output (\w+) /gm)].map((m) => m[1]);
/** Actions documented for m365agents.yml (v1.x) that Vigil uses. */
const KNOWN_ACTIONS = new Set([
  'teamsApp/create', 'aadApp/create', 'aadApp/update', 'botAadApp/create', 'botFramework/create', 'arm/deploy',
  'teamsApp/validateManifest', 'teamsApp/zipAppPackage', 'teamsApp/validateAppPackage', 'teamsApp/update',
  'teamsApp/publishAppPackage', 'cli/runNpmCommand', 'azureAppService/zipDeploy', 'file/createOrUpdateEnvironmentFile', 'devTool/install',
]);

interface Step {
  uses: string;
  name?: string;
  with?: Record<string, unknown>;
  writeToEnvironmentFile?: Record<string, string>;
}
interface Project {
  version: string;
  environmentFolderPath?: string;
  provision?: Step[];
  deploy?: Step[];
  publish?: Step[];
}

function project(file: string): Project {
  return loadYaml(fs.readFileSync(path.join(ROOT, file), 'utf8')) as Project;
}
function envFile(env: string): Record<string, string> {
  return parseEnv(fs.readFileSync(path.join(ROOT, 'env', `.env.${env}`), 'utf8')) as Record<string, string>;
}
function placeholders(value: unknown): string[] {
  return [...JSON.stringify(value ?? null).matchAll(/\$\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]);
}

describe('ship: Agents Toolkit project', () => {
  for (const [env, file] of Object.entries(PROFILES)) {
    describe(file, () => {
      const p = project(file);

      it('parses, declares a v1.x schema version and uses only documented actions', () => {
        assert.match(p.version, /^v1\.\d+$/);
        assert.match(fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n')[0], /^# yaml-language-server: \$schema=https:\/\/aka\.ms\/m365-agents-toolkits\/v1\.\d+\/yaml\.schema\.json$/);
        for (const step of [...(p.provision ?? []), ...(p.deploy ?? []), ...(p.publish ?? [])]) assert.ok(KNOWN_ACTIONS.has(step.uses), `${file}: unknown action ${step.uses}`);
      });

      it(`every \${{VAR}} is defined by env/.env.${env}, a .user secret, the Toolkit or an earlier step`, () => {
        const defined = new Set([...Object.keys(envFile(env)), ...BUILT_IN]);
        const undefinedVars: string[] = [];
        for (const stage of ['provision', 'deploy', 'publish'] as const) {
          for (const step of p[stage] ?? []) {
            for (const v of placeholders(step.with)) if (!defined.has(v) && !v.startsWith('SECRET_')) undefinedVars.push(`${stage} ${step.uses}: ${v}`);
            for (const v of Object.values(step.writeToEnvironmentFile ?? {})) defined.add(v);
            if (step.uses === 'arm/deploy') BICEP_OUTPUTS.forEach((o) => defined.add(o));
          }
        }
        assert.deepEqual(undefinedVars, []);
      });

      it('writes only configuration variable names Vigil knows (.env.example)', () => {
        const known = new Set(Object.keys(parseEnv(fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8'))));
        for (const step of p.deploy ?? []) {
          if (step.uses !== 'file/createOrUpdateEnvironmentFile') continue;
          assert.equal(step.with?.target, './.env', 'Vigil reads ./.env');
          for (const name of Object.keys((step.with?.envs ?? {}) as object)) assert.ok(known.has(name), `${file} writes ${name}, which .env.example does not document`);
        }
      });
    });
  }

  it('dev provisions a SingleTenant bot app, the Graph app with its permissions, Azure, then validates and zips the package', () => {
    const steps = project(PROFILES.dev).provision!;
    const uses = steps.map((s) => s.uses);
    assert.deepEqual(uses, ['teamsApp/create', 'aadApp/create', 'aadApp/create', 'aadApp/update', 'arm/deploy', 'teamsApp/validateManifest', 'teamsApp/zipAppPackage', 'teamsApp/validateAppPackage', 'teamsApp/update']);
    const [bot, graph] = steps.filter((s) => s.uses === 'aadApp/create');
    assert.equal(bot.with?.signInAudience, 'AzureADMyOrg');
    assert.equal(bot.writeToEnvironmentFile?.clientId, 'BOT_ID');
    assert.equal(bot.writeToEnvironmentFile?.clientSecret, 'SECRET_BOT_PASSWORD');
    assert.equal(graph.writeToEnvironmentFile?.clientId, 'GRAPH_APP_CLIENT_ID');
    assert.ok(graph.writeToEnvironmentFile?.clientSecret?.startsWith('SECRET_'), 'secrets go to the .user file');
    const update = steps.find((s) => s.uses === 'aadApp/update')!;
    for (const profile of ['full', 'read-only']) {
      const manifest = String(update.with?.manifestPath).replace('${{VIGIL_PERMISSIONS}}', profile);
      assert.ok(fs.existsSync(path.join(ROOT, manifest)), manifest);
    }
    assert.match(envFile('dev').VIGIL_PERMISSIONS, /^(full|read-only)$/);
    const zip = steps.find((s) => s.uses === 'teamsApp/zipAppPackage')!;
    assert.equal(zip.with?.outputZipPath, './appPackage/build/appPackage.${{TEAMSFX_ENV}}.zip');
    assert.deepEqual(project(PROFILES.dev).deploy!.map((s) => s.uses), ['cli/runNpmCommand', 'cli/runNpmCommand', 'azureAppService/zipDeploy']);
    assert.ok(fs.existsSync(path.join(ROOT, '.webappignore')));
  });

  it('local registers the bot (botFramework/create) at the tunnel and configures npm start as SingleTenant', () => {
    const p = project(PROFILES.local);
    const bf = p.provision!.find((s) => s.uses === 'botFramework/create')!;
    assert.equal(bf.with?.messagingEndpoint, '${{BOT_ENDPOINT}}/api/messages');
    const envs = p.deploy!.find((s) => s.uses === 'file/createOrUpdateEnvironmentFile')!.with!.envs as Record<string, string>;
    assert.equal(envs.BOT_TYPE, 'SingleTenant');
    assert.equal(envs.BOT_ID, '${{BOT_ID}}');
  });

  it('no secret is committed: env/.env.<env> files hold no SECRET_ value and .user files are ignored by git', () => {
    for (const env of Object.keys(PROFILES)) {
      for (const [k, v] of Object.entries(envFile(env))) assert.ok(!k.startsWith('SECRET_') || v === '', `env/.env.${env}: ${k} has a value`);
    }
    const ignored = spawnSync('git', ['check-ignore', '-q', 'env/.env.dev.user'], { cwd: ROOT });
    assert.equal(ignored.status, 0, 'env/.env.*.user must be gitignored');
  });
});

describe('ship: npm run package', function () {
  this.timeout(60_000);
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-package-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const runPackage = (env: string, envFolder: string, out: string) =>
    spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'package-app.js'), '--env', env, '--env-folder', envFolder, '--out', out], { cwd: ROOT, encoding: 'utf8' });

  it('resolves placeholders from env/.env.<env> and its .user file, zips manifest + icons, and the zip validates offline', async () => {
    const envFolder = path.join(tmp, 'env');
    fs.mkdirSync(envFolder);
    fs.writeFileSync(path.join(envFolder, '.env.ci'), 'TEAMSFX_ENV=ci\nTEAMS_APP_ID=3f2b6c1e-8d4a-4b7e-9c2f-1a5d7e9b0c31\nBOT_ID=\n');
    // The .user file (secrets and local overrides) wins over the committed file.
    fs.writeFileSync(path.join(envFolder, '.env.ci.user'), 'BOT_ID=11111111-2222-4333-8444-555555555555\n');
    const out = path.join(tmp, 'build');
    const res = runPackage('ci', envFolder, out);
    assert.equal(res.status, 0, res.stderr);
    const zipFile = path.join(out, 'appPackage.ci.zip');
    assert.ok(fs.existsSync(zipFile));

    const zip = new AdmZip(zipFile);
    assert.deepEqual(zip.getEntries().map((e) => e.entryName).sort(), ['color.png', 'manifest.json', 'outline.png']);
    const text = zip.readAsText('manifest.json');
    assert.doesNotMatch(text, /\$\{\{/);
    const manifest = JSON.parse(text) as AppManifest & { id: string; bots: Array<{ botId: string }>; $schema: string };
    assert.equal(manifest.id, '3f2b6c1e-8d4a-4b7e-9c2f-1a5d7e9b0c31');
    assert.equal(manifest.bots[0].botId, '11111111-2222-4333-8444-555555555555');
    const bundled = path.join(path.dirname(require.resolve('@microsoft/app-manifest/package.json')), 'build', manifest.$schema.replace('https://developer.microsoft.com/', ''));
    assert.ok(fs.existsSync(bundled), 'the schema is bundled: validation stays offline');
    const errors = await AppManifestUtils.validateAgainstSchema(manifest, JSON.parse(fs.readFileSync(bundled, 'utf8')));
    assert.deepEqual(errors, []);
    // The icons are the repository's, byte for byte.
    assert.ok(zip.readFile('color.png')!.equals(fs.readFileSync(path.join(ROOT, 'appPackage', 'color.png'))));
  });

  it('refuses to build with a placeholder unset, naming it', () => {
    const envFolder = path.join(tmp, 'env-missing');
    fs.mkdirSync(envFolder);
    fs.writeFileSync(path.join(envFolder, '.env.ci'), 'TEAMS_APP_ID=3f2b6c1e-8d4a-4b7e-9c2f-1a5d7e9b0c31\n');
    const res = runPackage('ci', envFolder, path.join(tmp, 'build-missing'));
    assert.equal(res.status, 1);
    assert.match(res.stderr, /BOT_ID not set in env\/\.env\.ci/);
    assert.ok(!fs.existsSync(path.join(tmp, 'build-missing', 'appPackage.ci.zip')));
  });

  it('refuses a value that breaks the schema (a bot id that is not a GUID)', () => {
    const envFolder = path.join(tmp, 'env-bad');
    fs.mkdirSync(envFolder);
    fs.writeFileSync(path.join(envFolder, '.env.ci'), 'TEAMS_APP_ID=3f2b6c1e-8d4a-4b7e-9c2f-1a5d7e9b0c31\nBOT_ID=not-a-guid\n');
    const res = runPackage('ci', envFolder, path.join(tmp, 'build-bad'));
    assert.equal(res.status, 1);
    assert.match(res.stderr, /botId "not-a-guid" is not a GUID/);
  });

  it('`npm run package -- --env playground` builds from the committed env/.env.playground', () => {
    const out = path.join(tmp, 'build-playground');
    const stdout = execFileSync('npm', ['run', '--silent', 'package', '--', '--env', 'playground', '--out', out], { cwd: ROOT, encoding: 'utf8' });
    assert.match(stdout, /appPackage\.playground\.zip/);
    const manifest = JSON.parse(new AdmZip(path.join(out, 'appPackage.playground.zip')).readAsText('manifest.json')) as { bots: Array<{ botId: string }> };
    // The Playground config's bot id: the package and the Playground describe the same bot.
    const playground = loadYaml(fs.readFileSync(path.join(ROOT, '.m365agentsplayground.yml'), 'utf8')) as { bot: { id: string } };
    assert.equal(manifest.bots[0].botId, playground.bot.id);
  });
});
