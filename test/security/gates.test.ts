/**
 * What is enforced before any handler runs: the msteams channel, the service URL allow-list
 * (Teams' own hosts; loopback only while BOT_ID is empty), the tenant allow-list — and, for chat
 * commands, per-person and per-tenant rate limits that answer once, politely, without doing the work.
 */
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as sinon from 'sinon';
import { Assistant } from '../../bot/chat/assistant';
import { RateLimiter, serviceUrlAllowed, TEAMS_SERVICE_URL_HOSTS } from '../../bot/teams/inbound';
import { startHarness, alex, megan, patti, lynne, type Harness } from '../remediation/support/harness';
import type { TeamsUser } from '../support/fakeTeams';

describe('security: gates before any handler', function () {
  this.timeout(60_000);

  describe('service URL allow-list', () => {
    const teamsOnly = { allowLoopback: false };
    const local = { allowLoopback: true };
    const cases: Array<[string, boolean, boolean]> = [
      // [service URL, allowed with BOT_ID set, allowed without BOT_ID]
      ['https://smba.trafficmanager.net/amer/', true, true],
      ['https://smba.trafficmanager.net/emea/7f1c0a2e-4b6d-4e8f-9a1b-2c3d4e5f6a7b/', true, true],
      ['https://smba.infra.gcc.teams.microsoft.com/gcc/', true, true],
      ['https://smba.infra.gov.teams.microsoft.us/', true, true],
      ['https://smba.infra.dod.teams.microsoft.us/', true, true],
      ['https://frontend.botapi.msg.infra.teams.microsoftonline.cn/', true, true],
      ['https://SMBA.TRAFFICMANAGER.NET:443/amer/', true, true],
      ['http://smba.trafficmanager.net/amer/', false, false],
      ['https://smba.trafficmanager.net.evil.com/amer/', false, false],
      ['https://evil.com/smba.trafficmanager.net/', false, false],
      ['https://evilsmba.trafficmanager.net/', false, false],
      ['https://user:pass@smba.trafficmanager.net/amer/', false, false],
      ['http://127.0.0.1:56150/', false, true],
      ['http://localhost:3979/', false, true],
      ['http://[::1]:3979/', false, true],
      ['http://10.0.0.5/', false, false],
      ['http://169.254.169.254/latest/meta-data/', false, false],
      ['file:///etc/passwd', false, false],
      ['javascript:alert(1)', false, false],
      ['not a url', false, false],
      ['', false, false],
    ];
    for (const [url, withAuth, withoutAuth] of cases) {
      it(`${url || '(empty)'}: ${withAuth ? 'allowed' : 'refused'} with BOT_ID, ${withoutAuth ? 'allowed' : 'refused'} without`, () => {
        assert.equal(serviceUrlAllowed(url, teamsOnly), withAuth);
        assert.equal(serviceUrlAllowed(url, local), withoutAuth);
      });
    }
    it('ALLOWED_SERVICE_URLS replaces the list: host names (https only) or exact origins', () => {
      const policy = { allowed: ['smba.teams.sovcloud-core.fr', 'http://127.0.0.1:5000'], allowLoopback: false };
      assert.equal(serviceUrlAllowed('https://smba.teams.sovcloud-core.fr/x/', policy), true);
      assert.equal(serviceUrlAllowed('http://127.0.0.1:5000/', policy), true);
      assert.equal(serviceUrlAllowed('http://127.0.0.1:5001/', policy), false);
      assert.equal(serviceUrlAllowed('https://smba.trafficmanager.net/amer/', policy), false);
      assert.ok(TEAMS_SERVICE_URL_HOSTS.length >= 6);
    });
  });

  describe('in the running bot (BOT_ID empty: loopback allowed)', () => {
    let h: Harness;
    let runs: sinon.SinonSpy;
    let asks: sinon.SinonSpy;
    before(async () => {
      h = await startHarness({ approvalsChannel: false, env: { RATE_LIMIT_USER_PER_MINUTE: '4', RATE_LIMIT_TENANT_PER_MINUTE: '9' } });
      runs = sinon.spy(Assistant.prototype, 'onAction');
      asks = sinon.spy(Assistant.prototype, 'onMessage');
    });
    after(async () => {
      runs?.restore();
      asks?.restore();
      await h?.close();
    });

    function activity(from: TeamsUser, overrides: Record<string, unknown>): Record<string, unknown> {
      return {
        type: 'message',
        id: randomUUID(),
        channelId: 'msteams',
        serviceUrl: h.teams.serviceUrl,
        from: { id: from.id, aadObjectId: from.aadObjectId, name: from.name },
        recipient: { id: '28:vigil', name: 'Vigil' },
        conversation: h.teams.personal(from),
        channelData: { tenant: { id: h.tenantId } },
        text: 'who lacks MFA?',
        ...overrides,
      };
    }
    const invoke = { type: 'invoke', name: 'adaptiveCard/action', text: undefined, value: { action: { type: 'Action.Execute', verb: 'vigil.help', data: { verb: 'vigil.help' } } } };

    const refused: Array<[string, Record<string, unknown>]> = [
      ['another channel (webchat)', { channelId: 'webchat' }],
      ['a service URL outside the allow-list', { serviceUrl: 'http://10.0.0.5:3978/' }],
      ['a look-alike Teams host', { serviceUrl: 'https://smba.trafficmanager.net.evil.com/amer/' }],
      ['a tenant that is not served', { conversation: { id: 'a:x', conversationType: 'personal', tenantId: '11111111-2222-4333-8444-555555555555' }, channelData: { tenant: { id: '11111111-2222-4333-8444-555555555555' } } }],
      ['no tenant at all', { conversation: { id: 'a:x', conversationType: 'personal' }, channelData: {} }],
    ];
    for (const [what, overrides] of refused) {
      it(`${what}: a message gets nothing, an invoke 403; no handler, no Graph`, async () => {
        const sent = h.teams.attempts.length;
        const graph = h.demo.requests.length;
        const [a, b] = [asks.callCount, runs.callCount];
        const msg = await h.teams.post(activity(alex, overrides));
        assert.equal(msg.status, 200);
        const inv = await h.teams.post(activity(alex, { ...invoke, ...overrides }));
        assert.equal(inv.status, 403);
        assert.equal(asks.callCount, a, 'the assistant never saw it');
        assert.equal(runs.callCount, b, 'no card handler ran');
        assert.equal(h.teams.attempts.length, sent, 'nothing sent anywhere');
        assert.equal(h.demo.requests.length, graph, 'no Graph request');
      });
    }

    it('per person: past the limit, one polite answer, then silence — and no work done', async () => {
      const before = h.teams.sent.length;
      const a = asks.callCount;
      for (let i = 0; i < 4; i++) assert.equal((await h.teams.say(alex, 'who lacks MFA?')).status, 200);
      assert.equal(asks.callCount, a + 4);
      const graph = h.demo.requests.length;
      for (let i = 0; i < 3; i++) assert.equal((await h.teams.say(alex, 'how are we doing?')).status, 200);
      assert.equal(asks.callCount, a + 4, 'the commands past the limit were not run');
      assert.equal(h.demo.requests.length, graph, 'no scan, no Graph request');
      const replies = h.teams.sent.slice(before).filter((s) => s.conversationId === h.teams.personal(alex).id);
      assert.equal(replies.length, 5, 'four answers and one polite refusal; the rest get nothing');
      assert.match(replies[4].activity.text, /^You're asking faster than I can usefully answer\. Please wait \d+ seconds and ask again\.$/);
    });

    it('per tenant: people of one tenant share a budget; one polite answer each, then silence', async () => {
      const before = h.teams.sent.length;
      // Alex used 4 of the tenant's 9; Megan may use 4 more; then the tenant is out for everyone.
      for (let i = 0; i < 4; i++) await h.teams.say(megan, 'help');
      await h.teams.say(megan, 'help'); // Megan's own limit
      await h.teams.say(patti, 'help'); // 9th for the tenant: still answered
      await h.teams.say(lynne, 'help');
      await h.teams.say(lynne, 'help');
      await h.teams.say(alex, 'help'); // Alex is refused by the tenant's budget too, and told once himself
      const to = (u: TeamsUser) => h.teams.sent.slice(before).filter((s) => s.conversationId === h.teams.personal(u).id);
      assert.equal(to(megan).length, 5);
      assert.match(to(megan)[4].activity.text, /^You're asking faster/);
      assert.equal(to(patti).length, 1);
      assert.ok(to(patti)[0].activity.attachments?.length, 'Patti got a real answer');
      assert.equal(to(lynne).length, 1, 'one polite answer for the tenant, then silence');
      assert.match(to(lynne)[0].activity.text, /^Lots of people in your organisation are asking me things right now\. Please wait (a second|\d+ seconds) and ask again\.$/);
      assert.equal(to(alex).length, 0, 'Alex was already told (by his own limit) and has not been answered since');
    });

    it('card actions are not chat commands: still answered', async () => {
      const res = await h.teams.click(lynne, { verb: 'vigil.help', data: { verb: 'vigil.help' } });
      assert.equal(res.status, 200);
    });
  });

  describe('ALLOWED_TENANT_IDS set', () => {
    let h: Harness;
    const other = '11111111-2222-4333-8444-555555555555';
    before(async () => {
      h = await startHarness({ approvalsChannel: false, env: { ALLOWED_TENANT_IDS: other } });
    });
    after(async () => h?.close());

    it('even the home tenant gets nothing when it is not in the list (an invoke: 403)', async () => {
      const sent = h.teams.attempts.length;
      const graph = h.demo.requests.length;
      assert.equal((await h.teams.say(alex, 'who lacks MFA?')).status, 200);
      assert.equal((await h.teams.click(alex, { verb: 'vigil.help', data: { verb: 'vigil.help' } })).status, 403);
      assert.equal(h.teams.attempts.length, sent, 'nothing sent');
      assert.equal(h.demo.requests.length, graph, 'no Graph request');
    });
  });

  describe('the rate limiter', () => {
    it('refills evenly over the minute', () => {
      let t = 0;
      const limiter = new RateLimiter({ userPerMinute: 6, tenantPerMinute: 100 }, () => t);
      for (let i = 0; i < 6; i++) assert.ok(limiter.take('t', 'u').ok);
      const refused = limiter.take('t', 'u');
      assert.ok(!refused.ok && refused.scope === 'user' && refused.retryAfterSeconds === 10 && refused.notify);
      const again = limiter.take('t', 'u');
      assert.ok(!again.ok && !again.notify, 'told once');
      t += 10_000;
      assert.ok(limiter.take('t', 'u').ok, 'one more after 10 s');
      assert.ok(!limiter.take('t', 'u').ok);
      const told = limiter.take('t', 'u');
      assert.ok(!told.ok && !told.notify);
      t += 60_000;
      for (let i = 0; i < 6; i++) assert.ok(limiter.take('t', 'u').ok, 'full again after a minute');
      assert.ok(limiter.take('t', 'other').ok, 'another person has their own budget');
    });

    it('keeps bounded memory under a flood of distinct people', () => {
      const limiter = new RateLimiter({ userPerMinute: 1, tenantPerMinute: 1_000_000 }, () => 0, 1000);
      for (let i = 0; i < 50_000; i++) limiter.take('t', `user-${i}`);
      const inner = limiter as unknown as { users: Map<string, unknown>; tenants: Map<string, unknown> };
      assert.ok(inner.users.size <= 1000);
      assert.equal(inner.tenants.size, 1);
    });
  });
});
