/**
 * infra/ without `az bicep build` (not available here): the parameters file parses and matches the
 * template's parameters, its placeholders come from env/.env.dev (or its .user secrets), and every
 * setting Vigil reads (every variable in .env.example) is either an App Service app setting in
 * infra/azure.bicep or deliberately left out, with the reason below.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseEnv } from 'node:util';
import { loadConfig } from '../../bot/config';

const ROOT = path.resolve(__dirname, '..', '..');
const BICEP = fs.readFileSync(path.join(ROOT, 'infra', 'azure.bicep'), 'utf8');

/** Settings Vigil reads that the template does not set, and why. */
const LEFT_OUT: Record<string, string> = {
  PORT: 'App Service sets PORT for the Node process itself',
  DATA_DIR: 'the embedded database is not used: DATABASE_URL points at PostgreSQL',
  AZURE_CLIENT_CERTIFICATE_PATH: 'certificate credential: an alternative to the secret or managed identity, set by the operator with a certificate loaded from Key Vault',
  AZURE_FEDERATED_TOKEN_FILE: 'workload identity federation is for Kubernetes (AKS); App Service uses its managed identity',
  ALLOWED_TENANT_IDS: 'default: every tenant Vigil serves (the home tenant plus registered customer tenants)',
  APPROVER_IDS: 'approvers come from the group APPROVER_GROUP_ID',
  APPROVAL_TTL_MINUTES: 'default 24 h',
  HIGH_RISK_APPROVALS: 'default 2',
  REPORT_LINK_MINUTES: 'default 15 minutes',
  EXCLUDED_ACCOUNTS: "tenant-specific (break-glass accounts): set after install",
  ALLOWED_COUNTRIES: "default: the tenant's own country",
  SIGNIN_LOOKBACK_DAYS: 'default 30 days',
  EXCHANGE_READER: 'optional; needs Exchange.ManageAsApp and a directory role granted by hand first',
  EXCHANGE_ADMIN_URL: 'only with EXCHANGE_READER (national clouds)',
  SCAN_INTERVAL: 'default 60 minutes',
  SCAN_QUICK_INTERVAL: 'default 15 minutes',
  SCAN_CONCURRENCY: 'default 10 tenants at once',
  SCAN_POLL_SECONDS: 'default 30 s (every instance scans)',
  SCAN_LEASE_SECONDS: 'default 900 s',
  TENANTS_FILE: 'MSP bulk registration from a file; tenants are added in chat instead',
  DEMO_TENANTS: 'demo only',
  PLAYGROUND_PORT: 'development only: the Agents Playground',
  TEAMSAPPTESTER_BROWSER: 'development only: the Agents Playground',
  ALLOWED_SERVICE_URLS: "default: Teams' own Bot Connector hosts in every cloud",
  RATE_LIMIT_USER_PER_MINUTE: 'default 30 chat commands per person per minute',
  RATE_LIMIT_TENANT_PER_MINUTE: 'default 150 chat commands per tenant per minute',
};

interface ParamFile {
  parameters: Record<string, { value: unknown }>;
}

function appSettings(): Map<string, string> {
  const block = /appSettings: \[([\s\S]*?)\n {6}\]/.exec(BICEP);
  assert.ok(block, 'appSettings block not found');
  return new Map([...block[1].matchAll(/\{ name: '(\w+)', value: (.+?) \}\s*$/gm)].map((m) => [m[1], m[2]]));
}

function bicepParams(): Map<string, { hasDefault: boolean; secure: boolean }> {
  const out = new Map<string, { hasDefault: boolean; secure: boolean }>();
  const lines = BICEP.split('\n');
  lines.forEach((line, i) => {
    const m = /^param (\w+) \w+( = .+)?$/.exec(line);
    if (!m) return;
    let secure = false;
    for (let j = i - 1; j >= 0 && lines[j].startsWith('@'); j--) if (lines[j].startsWith('@secure()')) secure = true;
    out.set(m[1], { hasDefault: Boolean(m[2]), secure });
  });
  return out;
}

describe('ship: Azure infrastructure (infra/)', () => {
  const params = JSON.parse(fs.readFileSync(path.join(ROOT, 'infra', 'azure.parameters.json'), 'utf8')) as ParamFile;
  const declared = bicepParams();

  it('the parameters file gives every required template parameter and nothing the template lacks', () => {
    for (const name of Object.keys(params.parameters)) assert.ok(declared.has(name), `azure.parameters.json sets unknown parameter ${name}`);
    for (const [name, p] of declared) if (!p.hasDefault) assert.ok(name in params.parameters, `required parameter ${name} missing from azure.parameters.json`);
  });

  it('secrets reach secure parameters from the .user file only (SECRET_ placeholders)', () => {
    for (const [name, { value }] of Object.entries(params.parameters)) {
      const vars = [...String(value).matchAll(/\$\{\{(\w+)\}\}/g)].map((m) => m[1]);
      if (declared.get(name)!.secure) assert.ok(vars.length === 1 && vars[0].startsWith('SECRET_'), `${name} is secure: fill it from a SECRET_ variable`);
      else assert.ok(vars.every((v) => !v.startsWith('SECRET_')), `${name} takes a secret but is not @secure()`);
    }
  });

  it('every placeholder is defined in env/.env.dev (or is a SECRET_ in env/.env.dev.user)', () => {
    const env = parseEnv(fs.readFileSync(path.join(ROOT, 'env', '.env.dev'), 'utf8'));
    const missing = Object.values(params.parameters)
      .flatMap(({ value }) => [...String(value).matchAll(/\$\{\{(\w+)\}\}/g)].map((m) => m[1]))
      .filter((v) => !v.startsWith('SECRET_') && !(v in env));
    assert.deepEqual(missing, []);
  });

  it('every setting in .env.example is an app setting or deliberately left out (with a reason)', () => {
    const example = Object.keys(parseEnv(fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8')));
    const settings = appSettings();
    const unaccounted = example.filter((name) => !settings.has(name) && !(name in LEFT_OUT));
    assert.deepEqual(unaccounted, [], 'add them to the appSettings of infra/azure.bicep or to LEFT_OUT with a reason');
    const both = example.filter((name) => settings.has(name) && name in LEFT_OUT);
    assert.deepEqual(both, []);
    // …and the template sets nothing Vigil does not read (platform settings aside).
    const unknown = [...settings.keys()].filter((name) => !example.includes(name) && !/^(WEBSITE_|SCM_)/.test(name));
    assert.deepEqual(unknown, []);
  });

  it('the app settings make a valid production configuration for both Graph credentials', () => {
    // The values the template's expressions produce, for the two graphCredential choices.
    const common = {
      NODE_ENV: 'production',
      PUBLIC_URL: 'https://vigildev.azurewebsites.net',
      BOT_ID: '11111111-2222-4333-8444-555555555555',
      BOT_PASSWORD: 'bot-secret',
      BOT_TYPE: 'SingleTenant',
      BOT_TENANT_ID: '22222222-2222-4333-8444-555555555555',
      AZURE_TENANT_ID: '22222222-2222-4333-8444-555555555555',
      GRAPH_BASE_URL: '',
      AZURE_AUTHORITY_HOST: '',
      APPROVER_GROUP_ID: '33333333-2222-4333-8444-555555555555',
      REMEDIATION: 'on',
      REPORT_LINK_SECRET: 'x'.repeat(48),
      DATABASE_URL: 'postgres://vigiladmin:p%40ss@vigildev-pg.postgres.database.azure.com:5432/vigil?sslmode=require',
      LOG_LEVEL: 'info',
      APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/',
    };
    const secret = loadConfig({ ...common, AZURE_CLIENT_ID: '44444444-2222-4333-8444-555555555555', AZURE_CLIENT_SECRET: 'graph-secret', AZURE_MANAGED_IDENTITY: 'off' });
    assert.equal(secret.graph.credential?.clientSecret, 'graph-secret');
    assert.equal(secret.graph.credential?.managedIdentity, undefined);
    const msi = loadConfig({ ...common, AZURE_CLIENT_ID: '55555555-2222-4333-8444-555555555555', AZURE_CLIENT_SECRET: '', AZURE_MANAGED_IDENTITY: 'user-assigned' });
    assert.deepEqual(msi.graph.credential?.managedIdentity, { kind: 'user-assigned', homeTenantId: common.AZURE_TENANT_ID });
    assert.equal(msi.production, true);
    // Every setting the template writes is one of those two sets.
    for (const name of appSettings().keys()) if (!/^(WEBSITE_|SCM_)/.test(name)) assert.ok(name in common || name.startsWith('AZURE_'), name);
  });

  it('declares the resources the issue asks for', () => {
    for (const type of [
      'Microsoft.ManagedIdentity/userAssignedIdentities',
      'Microsoft.Web/serverfarms',
      'Microsoft.Web/sites',
      'Microsoft.BotService/botServices',
      'Microsoft.BotService/botServices/channels',
      'Microsoft.DBforPostgreSQL/flexibleServers',
      'Microsoft.DBforPostgreSQL/flexibleServers/databases',
      'Microsoft.Insights/components',
    ]) {
      assert.match(BICEP, new RegExp(`resource \\w+ '${type.replace(/[./]/g, '\\$&')}@`), type);
    }
    assert.match(BICEP, /linuxFxVersion: 'NODE\|20-lts'/);
    assert.match(BICEP, /type: 'UserAssigned'/);
    assert.match(BICEP, /@allowed\(\['SingleTenant', 'UserAssignedMSI'\]\)/);
    assert.match(BICEP, /healthCheckPath: '\/readyz'/);
    // Balanced braces and brackets: a cheap guard against a broken edit (no Bicep compiler here).
    const code = BICEP.replace(/'(?:[^'\\]|\\.)*'/g, "''").replace(/\/\/.*$/gm, '');
    for (const [open, close] of [['{', '}'], ['[', ']'], ['(', ')']]) assert.equal(code.split(open).length, code.split(close).length, `unbalanced ${open}${close}`);
  });
});
