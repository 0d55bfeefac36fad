/**
 * bot/teams/adapter.ts reuses the Bot Connector clients of inbound turns (botbuilder made a new
 * one, with a new HTTP pipeline, per activity). What must hold: a client is shared only for the
 * same bot app id, service URL and audience; proactive turns never get a reply turn's client (the
 * messenger takes the retry policy out of theirs). Runs botbuilder's real authentication object,
 * with inbound auth off (no BOT_ID), as the local tests do.
 */
import { strict as assert } from 'node:assert';
import type { Activity } from 'botbuilder';
import { ClaimsIdentity, type BotFrameworkAuthentication } from 'botframework-connector';
import { createAdapter } from '../../bot/teams/adapter';
import { memoryLogger } from '../security/support/memoryLog';

const SERVICE_URL = 'http://127.0.0.1:3978/';

function authOf(): BotFrameworkAuthentication {
  const adapter = createAdapter({ appType: 'MultiTenant' }, memoryLogger().log);
  return (adapter as unknown as { botFrameworkAuthentication: BotFrameworkAuthentication }).botFrameworkAuthentication;
}

const activity = (serviceUrl: string) => ({ type: 'message', channelId: 'msteams', serviceUrl }) as Activity;

describe('Bot Connector clients of inbound turns', () => {
  it('are reused for the same service URL and audience, and not across them', async () => {
    const auth = authOf();
    const first = await auth.authenticateRequest(activity(SERVICE_URL), '');
    const second = await auth.authenticateRequest(activity(SERVICE_URL), '');
    const a = await first.connectorFactory!.create(SERVICE_URL, first.audience);
    const b = await second.connectorFactory!.create(SERVICE_URL, second.audience);
    assert.equal(a, b, 'one client for the same bot, service URL and audience');
    const other = await second.connectorFactory!.create('http://127.0.0.1:3979/', second.audience);
    assert.notEqual(other, a, 'another service URL gets its own client');
    const otherAudience = await second.connectorFactory!.create(SERVICE_URL, 'https://api.botframework.us');
    assert.notEqual(otherAudience, a, 'another audience gets its own client');
    assert.equal(await auth.createUserTokenClient(first.claimsIdentity), await auth.createUserTokenClient(second.claimsIdentity));
  });

  it('proactive turns get a client of their own, never a reply turn\u2019s', async () => {
    const auth = authOf();
    const inbound = await auth.authenticateRequest(activity(SERVICE_URL), '');
    const reply = await inbound.connectorFactory!.create(SERVICE_URL, inbound.audience);
    const claims = new ClaimsIdentity([], true);
    const proactive = await auth.createConnectorFactory(claims).create(SERVICE_URL, inbound.audience);
    const again = await auth.createConnectorFactory(claims).create(SERVICE_URL, inbound.audience);
    assert.notEqual(proactive, reply);
    assert.notEqual(again, proactive);
  });
});
