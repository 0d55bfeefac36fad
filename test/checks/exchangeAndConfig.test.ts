/**
 * The optional Exchange Online reader (request shape, paging, throttling, refusal) and the new
 * configuration (EXCLUDED_ACCOUNTS, ALLOWED_COUNTRIES, SIGNIN_LOOKBACK_DAYS, EXCHANGE_READER):
 * one clear line per bad value.
 */
import { strict as assert } from 'node:assert';
import type { TokenCredential } from '@azure/identity';
import { checkSettingsFor } from '../../bot/checks/settings';
import { ExchangeAdminClient, ExchangeRequestError } from '../../bot/checks/exchangeReader';
import { exchangeGap } from '../../bot/checks/mailForwarding';
import { ConfigError, loadConfig } from '../../bot/config';

interface Call {
  url: string;
  headers: Record<string, string>;
  body: string;
}

function fakeExchange(pages: Array<{ status: number; body: unknown; retryAfter?: string }>) {
  const calls: Call[] = [];
  const scopes: string[] = [];
  const credential: TokenCredential = {
    getToken: async (scope) => {
      scopes.push(String(scope));
      return { token: 'exo-token', expiresOnTimestamp: Date.now() + 3600_000 };
    },
  };
  const fetch = async (url: string, init: { headers: Record<string, string>; body: string }) => {
    calls.push({ url, headers: init.headers, body: init.body });
    const p = pages.shift()!;
    return { status: p.status, headers: { get: (n: string) => (n.toLowerCase() === 'retry-after' ? (p.retryAfter ?? null) : null) }, text: async () => JSON.stringify(p.body) };
  };
  const sleeps: number[] = [];
  const client = new ExchangeAdminClient({ baseUrl: 'https://outlook.office365.com/', tenantId: 'tenant-1', credential, fetch, sleep: async (ms) => void sleeps.push(ms) });
  return { client, calls, scopes, sleeps };
}

describe('Exchange Online reader (admin API InvokeCommand)', () => {
  it('posts the cmdlet to /adminapi/beta/{tenant}/InvokeCommand with an app token, and follows next links', async () => {
    const { client, calls, scopes } = fakeExchange([
      { status: 200, body: { value: [{ UserPrincipalName: 'ceo@contoso.com', DisplayName: 'CEO', ExternalDirectoryObjectId: 'id-1', ForwardingSmtpAddress: 'smtp:ceo@gmail.com', ForwardingAddress: null, DeliverToMailboxAndForward: false }], '@odata.nextLink': 'https://outlook.office365.com/adminapi/beta/tenant-1/InvokeCommand?$skiptoken=2' } },
      { status: 200, body: { value: [{ UserPrincipalName: 'pa@contoso.com', DisplayName: 'PA', ForwardingAddress: 'Boss', DeliverToMailboxAndForward: true }] } },
    ]);
    const rows = await client.mailboxForwarding();
    assert.deepEqual(scopes, ['https://outlook.office365.com/.default']);
    assert.match(calls[0].url, /^https:\/\/outlook\.office365\.com\/adminapi\/beta\/tenant-1\/InvokeCommand\?\$select=/);
    assert.equal(calls[1].url, 'https://outlook.office365.com/adminapi/beta/tenant-1/InvokeCommand?$skiptoken=2');
    assert.equal(calls[0].headers.Authorization, 'Bearer exo-token');
    assert.equal(calls[0].headers['X-AnchorMailbox'], 'APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@tenant-1');
    const body = JSON.parse(calls[0].body);
    assert.equal(body.CmdletInput.CmdletName, 'Get-Mailbox');
    assert.equal(body.CmdletInput.Parameters.ResultSize, 'Unlimited');
    assert.equal(calls[1].body, calls[0].body, 'the same body goes to the next link');
    assert.deepEqual(rows.map((r) => [r.userPrincipalName, r.forwardingSmtpAddress, r.forwardingAddress, r.objectId]), [
      ['ceo@contoso.com', 'smtp:ceo@gmail.com', null, 'id-1'],
      ['pa@contoso.com', null, 'Boss', null],
    ]);
  });

  it('reads the auto-forward policy and the audit log setting', async () => {
    const { client } = fakeExchange([
      { status: 200, body: { value: [{ Name: 'Default', IsDefault: true, AutoForwardingMode: 'Off' }] } },
      { status: 200, body: { value: [{ Name: 'Default', DomainName: '*', AutoForwardEnabled: true }] } },
      { status: 200, body: { value: [{ UnifiedAuditLogIngestionEnabled: false }] } },
    ]);
    const policy = await client.autoForwardPolicy();
    assert.equal(policy.outboundSpamPolicies[0].autoForwardingMode, 'Off');
    assert.equal(policy.remoteDomains[0].autoForwardEnabled, true);
    assert.equal(await client.unifiedAuditLogEnabled(), false);
  });

  it('waits for Retry-After on 429, then answers', async () => {
    const { client, sleeps } = fakeExchange([
      { status: 429, body: { error: { code: 'TooManyRequests' } }, retryAfter: '3' },
      { status: 200, body: { value: [{ UnifiedAuditLogIngestionEnabled: true }] } },
    ]);
    assert.equal(await client.unifiedAuditLogEnabled(), true);
    assert.deepEqual(sleeps, [3000]);
  });

  it('a refusal becomes a gap naming Exchange.ManageAsApp', async () => {
    const { client } = fakeExchange([{ status: 403, body: { error: { code: 'Forbidden', message: 'The role assigned to application isn’t supported' } } }]);
    const err = await client.unifiedAuditLogEnabled().catch((e: unknown) => e);
    assert.ok(err instanceof ExchangeRequestError && err.isAccessDenied);
    const gap = exchangeGap(err, 'Audit log');
    assert.equal(gap.permission, 'Exchange.ManageAsApp');
    assert.match(gap.reason, /Global Reader/);
  });

  it('only ever runs Get- cmdlets', async () => {
    const { client } = fakeExchange([]);
    await assert.rejects(client.invoke('Set-Mailbox', {}), /only runs Get- cmdlets/);
  });
});

describe('configuration of the posture checks', () => {
  const base = { AZURE_CLIENT_ID: '' };
  it('defaults: nothing excluded, the tenant country, 30 days, no Exchange reader', () => {
    const c = loadConfig(base);
    assert.deepEqual(c.checks, { excludedAccounts: [], allowedCountries: [], signInLookbackDays: 30, exchange: { enabled: false, baseUrl: 'https://outlook.office365.com' } });
  });
  it('parses lists (upper-case countries, lower-case accounts)', () => {
    const c = loadConfig({ ...base, ALLOWED_COUNTRIES: 'gb, IE', EXCLUDED_ACCOUNTS: 'BreakGlass@Contoso.com,00000000-0000-4000-8000-000000000029', SIGNIN_LOOKBACK_DAYS: '7' });
    assert.deepEqual(c.checks.allowedCountries, ['GB', 'IE']);
    assert.deepEqual(c.checks.excludedAccounts, ['breakglass@contoso.com', '00000000-0000-4000-8000-000000000029']);
    assert.equal(c.checks.signInLookbackDays, 7);
  });
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ ALLOWED_COUNTRIES: 'GB,England' }, /^ALLOWED_COUNTRIES: must be a comma-separated list of two-letter country codes/],
    [{ EXCLUDED_ACCOUNTS: 'breakglass' }, /^EXCLUDED_ACCOUNTS: must be a comma-separated list of user principal names or object ids$/],
    [{ SIGNIN_LOOKBACK_DAYS: '90' }, /^SIGNIN_LOOKBACK_DAYS: must be a whole number of days from 1 to 30/],
    [{ EXCHANGE_READER: 'maybe' }, /^EXCHANGE_READER: must be on or off$/],
    [{ EXCHANGE_ADMIN_URL: 'http://outlook.office365.com' }, /^EXCHANGE_ADMIN_URL: must be an https:\/\/ URL$/],
    [{ EXCHANGE_READER: 'on' }, /^EXCHANGE_READER: needs a real tenant/],
  ];
  for (const [env, message] of bad) {
    it(`${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')} → one clear line`, () => {
      try {
        loadConfig({ ...base, ...env });
        assert.fail('expected a ConfigError');
      } catch (err) {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems.length, 1);
        assert.match(err.problems[0], message);
      }
    });
  }
  it('with the reader on, each tenant gets its own Exchange client; the demo default excludes its break-glass account', () => {
    const c = loadConfig({ AZURE_TENANT_ID: '11111111-2222-4333-8444-555555555555', AZURE_CLIENT_ID: '11111111-2222-4333-8444-666666666666', AZURE_CLIENT_SECRET: 's', EXCHANGE_READER: 'on' });
    const settings = checkSettingsFor(c, ['breakglass@demo.example']);
    const a = settings('11111111-2222-4333-8444-555555555555');
    assert.ok(a.exchange instanceof ExchangeAdminClient);
    assert.equal(settings('11111111-2222-4333-8444-555555555555').exchange, a.exchange, 'reused');
    assert.notEqual(settings('aaaaaaaa-2222-4333-8444-555555555555').exchange, a.exchange);
    assert.deepEqual(a.excludedAccounts, ['breakglass@demo.example']);
    assert.equal(checkSettingsFor(loadConfig(base))('t').exchange, undefined);
  });
});
