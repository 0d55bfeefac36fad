/**
 * Inbound authentication, for real: Vigil with BOT_ID set, botbuilder pointed (through
 * startVigil's authOverrides, never the environment) at a local OpenID metadata document and
 * JWKS we serve, and channel tokens signed with our own RSA key. A valid token is answered; every
 * kind of bad token is a 401 with a body that says nothing more, no handler runs and nothing is
 * sent to Teams.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import * as sinon from 'sinon';
import { startVigil, type Vigil } from '../../bot/index';
import { DEMO_USERS, startDemoTenant, type DemoTenant } from '../../bot/demo';
import { VigilActivityHandler } from '../../bot/teams/activityHandler';
import { Assistant } from '../../bot/chat/assistant';
import { FakeTeams, textOf } from '../support/fakeTeams';
import { ChannelIssuer, otherKey, OUTBOUND_BOT_TOKEN } from './support/channelIssuer';
import { registerSecret } from '../support/logSink';

const BOT_ID = '5b1f0c3e-8a7d-4e2b-9c6f-1d2e3f4a5b6c';
const BOT_PASSWORD = 'vigil-test-bot-password-DO-NOT-LOG-7f3a9c';
registerSecret(BOT_PASSWORD);
registerSecret(OUTBOUND_BOT_TOKEN);
const alex = { id: `29:${DEMO_USERS.alex.id}`, aadObjectId: DEMO_USERS.alex.id, name: DEMO_USERS.alex.name };

describe('security: inbound Bot Framework authentication (BOT_ID set)', function () {
  this.timeout(60_000);
  let issuer: ChannelIssuer;
  let demo: DemoTenant;
  let vigil: Vigil;
  let teams: FakeTeams;
  let dataDir: string;
  let handlerRuns: sinon.SinonSpy;
  let assistantCalls: sinon.SinonSpy;
  let quiet: sinon.SinonStub;

  before(async () => {
    issuer = new ChannelIssuer();
    await issuer.start();
    demo = await startDemoTenant();
    teams = new FakeTeams('', demo.tenantId);
    await teams.start();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-auth-'));
    vigil = await startVigil({
      env: {
        PORT: '0',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'silent',
        SCAN_POLL_SECONDS: '0',
        BOT_ID,
        BOT_PASSWORD,
        // The fake connector is the only service URL this Vigil replies to (with auth on, loopback is not allowed by default).
        ALLOWED_SERVICE_URLS: new URL(teams.serviceUrl).origin,
      },
      demoTenant: demo,
      authOverrides: issuer.authOverrides(BOT_ID, BOT_PASSWORD),
    });
    handlerRuns = sinon.spy(VigilActivityHandler.prototype, 'run');
    assistantCalls = sinon.spy(Assistant.prototype, 'onMessage');
    // botbuilder prints every refused token to the console (console.error): keep the test output readable.
    quiet = sinon.stub(console, 'error');
  });

  after(async () => {
    quiet?.restore();
    handlerRuns?.restore();
    assistantCalls?.restore();
    await vigil?.stop();
    await teams?.stop();
    await demo?.close();
    await issuer?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  function activity(text = 'help', overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      type: 'message',
      id: randomUUID(),
      channelId: 'msteams',
      serviceUrl: teams.serviceUrl,
      timestamp: new Date().toISOString(),
      from: { id: alex.id, name: alex.name, aadObjectId: alex.aadObjectId },
      recipient: { id: `28:${BOT_ID}`, name: 'Vigil' },
      conversation: teams.personal(alex),
      channelData: { tenant: { id: demo.tenantId } },
      text,
      ...overrides,
    };
  }

  async function post(body: Record<string, unknown>, authorization?: string): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (authorization !== undefined) headers.authorization = authorization;
    const res = await fetch(`${vigil.url}/api/messages`, { method: 'POST', headers, body: JSON.stringify(body) });
    return { status: res.status, text: await res.text() };
  }

  const now = () => Math.floor(Date.now() / 1000);

  it('a valid channel token → 200, the handler runs, and the reply reaches Teams with the bot\u2019s own token', async () => {
    const before = teams.sent.length;
    const calls = handlerRuns.callCount;
    const res = await post(activity('help'), `Bearer ${issuer.token(issuer.claims(BOT_ID, teams.serviceUrl))}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(handlerRuns.callCount, calls + 1);
    const reply = teams.sent.slice(before);
    assert.equal(reply.length, 1);
    assert.match(textOf(reply[0].activity.attachments[0].content), /Vigil keeps watch/);
    assert.equal(reply[0].authorization, `Bearer ${OUTBOUND_BOT_TOKEN}`, 'the bot authenticates its reply');
  });

  const refused: Array<[string, () => string | undefined, Record<string, unknown>?]> = [
    ['no Authorization header', () => undefined],
    ['an empty bearer', () => 'Bearer '],
    ['not a bearer scheme', () => `Basic ${Buffer.from(`${BOT_ID}:${BOT_PASSWORD}`).toString('base64')}`],
    ['garbage instead of a JWT', () => 'Bearer not.a.jwt'],
    ['an unsigned token (alg: none)', () => `Bearer ${issuer.token(issuer.claims(BOT_ID, teams.serviceUrl), { mode: 'none' })}`],
    ['HS256 signed with the public key (algorithm confusion)', () => `Bearer ${issuer.token(issuer.claims(BOT_ID, teams.serviceUrl), { mode: 'hs256-public' })}`],
    ['a wrong signature (another key, same kid)', () => `Bearer ${issuer.token(issuer.claims(BOT_ID, teams.serviceUrl), { key: otherKey() })}`],
    ['a tampered payload', () => {
      const [h, , s] = issuer.token(issuer.claims(BOT_ID, teams.serviceUrl)).split('.');
      return `Bearer ${h}.${Buffer.from(JSON.stringify({ ...issuer.claims(BOT_ID, teams.serviceUrl), aud: BOT_ID, extra: 1 })).toString('base64url')}.${s}`;
    }],
    ['an unknown key id', () => `Bearer ${issuer.token(issuer.claims(BOT_ID, teams.serviceUrl), { header: { kid: 'someone-elses-key' } })}`],
    ['a wrong audience (another bot)', () => `Bearer ${issuer.token({ ...issuer.claims(BOT_ID, teams.serviceUrl), aud: randomUUID() })}`],
    ['no audience', () => {
      const { aud: _aud, ...claims } = issuer.claims(BOT_ID, teams.serviceUrl);
      return `Bearer ${issuer.token(claims)}`;
    }],
    ['a wrong issuer', () => `Bearer ${issuer.token({ ...issuer.claims(BOT_ID, teams.serviceUrl), iss: 'https://evil.example.com' })}`],
    ['an expired token (past the 5-minute clock skew)', () => `Bearer ${issuer.token({ ...issuer.claims(BOT_ID, teams.serviceUrl), iat: now() - 7200, nbf: now() - 7200, exp: now() - 600 })}`],
    ['a token not valid yet (past the 5-minute clock skew)', () => `Bearer ${issuer.token({ ...issuer.claims(BOT_ID, teams.serviceUrl), nbf: now() + 600, iat: now(), exp: now() + 7200 })}`],
    ['a service URL that does not match the token\u2019s serviceurl claim', () => `Bearer ${issuer.token(issuer.claims(BOT_ID, 'https://smba.trafficmanager.net/emea/'))}`],
    ['a token without a serviceurl claim', () => {
      const { serviceurl: _s, ...claims } = issuer.claims(BOT_ID, teams.serviceUrl);
      return `Bearer ${issuer.token(claims)}`;
    }],
    ['a channel the signing key is not endorsed for', () => `Bearer ${issuer.token(issuer.claims(BOT_ID, teams.serviceUrl))}`, { channelId: 'webchat' }],
  ];

  for (const [what, header, overrides] of refused) {
    it(`${what} → 401, no handler, nothing sent`, async () => {
      const before = teams.sent.length;
      const attempts = teams.attempts.length;
      const runs = handlerRuns.callCount;
      const asks = assistantCalls.callCount;
      const graph = demo.requests.length;
      for (const type of ['message', 'invoke']) {
        const body = type === 'invoke' ? activity('', { type: 'invoke', name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', verb: 'vigil.help', data: {} } }, ...overrides }) : activity('who lacks MFA?', overrides);
        const res = await post(body, header());
        assert.equal(res.status, 401, `${type}: ${res.text}`);
        assert.deepEqual(JSON.parse(res.text), { error: 'Unauthorized' }, 'the body says nothing more');
      }
      assert.equal(handlerRuns.callCount, runs, 'no handler ran');
      assert.equal(assistantCalls.callCount, asks);
      assert.equal(teams.sent.length, before, 'no reply sent');
      assert.equal(teams.attempts.length, attempts, 'nothing at all sent to the service URL');
      assert.equal(demo.requests.length, graph, 'no Graph request');
    });
  }

  it('a valid token for a service URL outside the allow-list → no handler, nothing sent there (invoke: 403)', async () => {
    const evil = 'https://evil.example.com/teams/';
    const runs = handlerRuns.callCount;
    const msg = await post(activity('help', { serviceUrl: evil }), `Bearer ${issuer.token(issuer.claims(BOT_ID, evil))}`);
    assert.equal(msg.status, 200);
    const inv = await post(
      activity('', { serviceUrl: evil, type: 'invoke', name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', verb: 'vigil.help', data: {} } } }),
      `Bearer ${issuer.token(issuer.claims(BOT_ID, evil))}`,
    );
    assert.equal(inv.status, 403);
    assert.equal(handlerRuns.callCount, runs, 'no handler ran');
  });

  it('after all that, a valid token is still answered', async () => {
    const res = await post(activity('help'), `Bearer ${issuer.token(issuer.claims(BOT_ID, teams.serviceUrl))}`);
    assert.equal(res.status, 200);
  });
});
