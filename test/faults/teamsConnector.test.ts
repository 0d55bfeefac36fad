/**
 * Teams connector faults, played by the fake Bot Connector behind the real botbuilder client:
 * 429 (with and without Retry-After), 412, 502, 503, 504 on a send are retried with Retry-After or
 * exponential backoff and delivered exactly once; a fault that persists gives up after the last
 * attempt; 403 MessageWritesBlocked is not retried at all — the channel is marked unreachable,
 * the alert kept as undeliverable, the approvers told in their personal chats, and nothing more is
 * sent there until an approver picks a channel again.
 */
import { strict as assert } from 'node:assert';
import { createAdapter } from '../../bot/teams/adapter';
import { TeamsMessenger } from '../../bot/teams/messenger';
import { ConversationUnreachableError } from '../../bot/chat/messenger';
import { DEMO_USERS, demoChanges } from '../../bot/demo';
import type { ConversationPointer } from '../../bot/store';
import { FakeTeams, textOf, type ConnectorFault } from '../support/fakeTeams';
import { startHarness, megan, patti, type Harness } from '../remediation/support/harness';
import { memoryLogger } from '../security/support/memoryLog';

const card = (text: string) => ({ type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text }] });

describe('faults: Teams connector', function () {
  this.timeout(60_000);

  describe('sending (TeamsMessenger over botbuilder\u2019s connector client)', () => {
    let teams: FakeTeams;
    let messenger: TeamsMessenger;
    let sleeps: number[];
    const conversation = '19:alerts@thread.tacv2';
    let ref: ConversationPointer;

    before(async () => {
      teams = new FakeTeams('', '7f1c0a2e-4b6d-4e8f-9a1b-2c3d4e5f6a7b');
      await teams.start();
      const adapter = createAdapter({ appType: 'MultiTenant' }, memoryLogger().log);
      // Backoff waits are recorded, not slept: the schedule is what is checked. (The short pacing
      // waits between sends into one conversation are slept, so they do not pile up.)
      messenger = new TeamsMessenger(adapter, undefined, {
        sleep: async (ms) => {
          sleeps.push(ms);
          if (ms < 400) await new Promise((r) => setTimeout(r, ms));
        },
      });
      ref = { channelId: 'msteams', serviceUrl: teams.serviceUrl, conversation: { id: conversation, conversationType: 'channel', tenantId: teams.tenantId }, bot: { id: '28:vigil', name: 'Vigil' } } as unknown as ConversationPointer;
    });
    /** The waits between attempts (the pacing waits of a few ms between sends into one conversation left out). */
    const backoff = () => sleeps.filter((ms) => ms >= 400);
    beforeEach(() => {
      sleeps = [];
      teams.faults.length = 0;
    });
    after(async () => {
      console.log(`      connector faults served: ${teams.attempts.filter((a) => a.status !== 200).length}`);
      await teams?.stop();
    });

    async function post(faults: ConnectorFault[]): Promise<{ attempts: number; delivered: number; error?: unknown }> {
      teams.faults.push(...faults);
      const [attempts, delivered] = [teams.attempts.length, teams.sent.length];
      let error: unknown;
      await messenger.post(ref, card('hello')).catch((err) => (error = err));
      return { attempts: teams.attempts.length - attempts, delivered: teams.sent.length - delivered, error };
    }

    const retried: Array<[string, ConnectorFault, number[]]> = [
      ['429 with Retry-After: 2', { status: 429, code: 'TooManyRequests', retryAfter: '2' }, [2000, 2000]],
      ['429 without Retry-After', { status: 429, code: 'TooManyRequests' }, [500, 1000]],
      ['412 Precondition Failed', { status: 412, code: 'PreconditionFailed' }, [500, 1000]],
      ['502 Bad Gateway', { status: 502, code: 'BadGateway' }, [500, 1000]],
      ['503 Service Unavailable', { status: 503, code: 'ServiceUnavailable' }, [500, 1000]],
      ['504 Gateway Timeout', { status: 504, code: 'GatewayTimeout' }, [500, 1000]],
    ];
    for (const [what, fault, waits] of retried) {
      it(`${what} twice → retried after ${waits.join(' ms, ')} ms, delivered exactly once`, async () => {
        const out = await post([fault, fault]);
        assert.equal(out.error, undefined);
        assert.equal(out.attempts, 3);
        assert.equal(out.delivered, 1, 'one message, no duplicate');
        assert.deepEqual(backoff(), waits, 'Retry-After honoured, else exponential backoff');
      });
    }

    it('a 503 that does not stop: five attempts with growing waits, then it gives up (never retried forever)', async () => {
      const out = await post(Array.from({ length: 20 }, () => ({ status: 503, code: 'ServiceUnavailable' })));
      assert.ok(out.error, 'the caller hears it failed');
      assert.equal(out.attempts, 5);
      assert.equal(out.delivered, 0);
      assert.deepEqual(backoff(), [500, 1000, 2000, 4000]);
    });

    it('403 MessageWritesBlocked → ConversationUnreachableError after one attempt, no retry', async () => {
      const out = await post([{ status: 403, code: 'MessageWritesBlocked' }]);
      assert.ok(out.error instanceof ConversationUnreachableError, String(out.error));
      assert.equal(out.attempts, 1);
      assert.deepEqual(backoff(), []);
    });

    it('another 403 (the bot was removed) is not retried either', async () => {
      const out = await post([{ status: 403, code: 'BotNotInConversationRoster' }]);
      assert.ok(out.error && !(out.error instanceof ConversationUnreachableError));
      assert.equal(out.attempts, 1);
    });

    it('a stored conversation whose service URL is not allowed is refused, not reported sent', async () => {
      const evil = { ...(ref as object), serviceUrl: 'https://evil.example.com/teams/' } as unknown as ConversationPointer;
      await assert.rejects(messenger.post(evil, card('hello')), /service URL is not allowed/);
    });

    it('a card edit (PUT) is retried the same way', async () => {
      const sent = await messenger.post(ref, card('v1'));
      teams.faults.push({ status: 429, code: 'TooManyRequests', retryAfter: '1' });
      const before = teams.attempts.length;
      await messenger.update(sent, card('v2'));
      const puts = teams.attempts.slice(before);
      assert.deepEqual(puts.map((a) => `${a.method} ${a.status}`), ['PUT 429', 'PUT 200']);
      assert.deepEqual(backoff(), [1000]);
    });
  });

  describe('an alerts channel Teams blocks (403 MessageWritesBlocked), in the running bot', () => {
    let h: Harness;
    let clock = new Date();
    const now = () => clock;
    const advance = (minutes: number) => (clock = new Date(clock.getTime() + minutes * 60_000));
    const channelId = () => h.teams.channel().id;

    before(async () => {
      h = await startHarness({ now });
      // Approvers have talked to Vigil in personal chat: that is where they are told.
      await h.teams.say(megan, 'help');
      await h.teams.say(patti, 'help');
      assert.equal(await h.vigil.watchman.tick(), 1, 'baseline scan');
    });
    after(async () => {
      console.log(`      connector faults served: ${h?.teams.attempts.filter((a) => a.status !== 200).length}`);
      await h?.close();
    });

    it('the alert is not retried: channel marked unreachable, alert kept as undeliverable, approvers told', async () => {
      demoChanges.addJoinerWithoutMfa(h.demo.tenant(), now(), { displayName: 'Nadia Rahman', userPrincipalName: 'nadia.rahman@northwinddental.co.uk', createdDaysAgo: 2 });
      advance(61);
      h.teams.faults.push({ status: 403, code: 'MessageWritesBlocked' });
      const before = h.teams.attempts.length;
      await h.vigil.watchman.tick();
      const attempts = h.teams.attempts.slice(before);
      assert.equal(attempts.filter((a) => a.conversationId === channelId()).length, 1, 'one attempt at the blocked channel');
      // (No alerts channel was chosen: alerts go to the approvals channel.)
      const channel = await h.vigil.store.channels.get(h.tenantId, 'approvals');
      assert.ok(channel?.unreachableSince, 'the channel is marked unreachable');
      const [alert] = await h.vigil.store.watch.alertHistory(h.tenantId, 1);
      assert.equal(alert.status, 'undeliverable');
      for (const who of [megan, patti]) {
        const told = h.teams.sent.filter((s) => s.conversationId === h.teams.personal(who).id).at(-1);
        assert.match(textOf(told?.activity.attachments?.[0]?.content), /I cannot post alerts any more/, `${who.name} is told`);
      }
    });

    it('the next alert is not even attempted there (no retry loop)', async () => {
      demoChanges.addJoinerWithoutMfa(h.demo.tenant(), now(), { displayName: 'Tom Okafor', userPrincipalName: 'tom.okafor@northwinddental.co.uk' });
      advance(61);
      const before = h.teams.attempts.length;
      await h.vigil.watchman.tick();
      assert.equal(h.teams.attempts.slice(before).filter((a) => a.conversationId === channelId()).length, 0);
      const [alert] = await h.vigil.store.watch.alertHistory(h.tenantId, 1);
      assert.equal(alert.status, 'undeliverable');
    });

    it('an approver picks a channel again: alerts flow there', async () => {
      const fresh = h.teams.channel('19:alerts-new@thread.tacv2');
      await h.teams.say(megan, 'use this channel for alerts', fresh);
      demoChanges.addForwardingRule(h.demo.tenant(), DEMO_USERS.lynne.id, { displayName: 'Statements', address: 'lynne.backup@gmail.com', subjectContains: ['statement'] });
      advance(61);
      await h.vigil.watchman.tick();
      const [alert] = await h.vigil.store.watch.alertHistory(h.tenantId, 1);
      assert.equal(alert.status, 'sent');
      const posted = h.teams.sent.filter((s) => s.conversationId === fresh.id && s.method === 'POST').at(-1);
      assert.match(textOf(posted?.activity.attachments?.[0]?.content), /lynne\.backup@gmail\.com/, 'the alert card arrived in the new channel');
    });
  });
});
