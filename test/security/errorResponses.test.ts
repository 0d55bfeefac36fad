/**
 * Error responses never carry stack traces or internal messages. botbuilder's CloudAdapter puts
 * err.message in its 500 body: an injected handler error shows the server's wrapper answers
 * `{"error":"Internal error"}` while the log keeps the detail for operators. Bodies that are not
 * activities (bad JSON, too large, a gzip bomb, uploads, other media types) are refused with a
 * 4xx and a generic body, before botbuilder sees them.
 */
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { createGzip, gzipSync } from 'node:zlib';
import * as sinon from 'sinon';
import { createAdapter } from '../../bot/teams/adapter';
import { startServer, type RunningServer } from '../../bot/teams/server';
import { Assistant } from '../../bot/chat/assistant';
import { DEMO_USERS } from '../../bot/demo';
import { startHarness, alex, type Harness } from '../remediation/support/harness';
import { textOf } from '../support/fakeTeams';
import { memoryLogger, type MemoryLog } from './support/memoryLog';

const INTERNAL = 'password=hunter2 in /srv/vigil/bot/store/db.ts:42 (SELECT * FROM approvals)';
const GENERIC = new Set(['Bad request', 'Unauthorized', 'Forbidden', 'Not found', 'Method not allowed', 'Request too large', 'Unsupported media type', 'Internal error']);

function assertGeneric(status: number, text: string, what: string): void {
  assert.ok(!/hunter2|db\.ts|SELECT|\bat [\w.<>]+ \(|node_modules|Error:/.test(text), `${what}: the body leaks internals: ${text.slice(0, 300)}`);
  if (status >= 400) {
    const body = JSON.parse(text) as { error?: string };
    assert.deepEqual(Object.keys(body), ['error'], `${what}: ${text}`);
    assert.ok(GENERIC.has(body.error!), `${what}: ${text}`);
  }
}

function activity(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'message',
    id: randomUUID(),
    channelId: 'msteams',
    serviceUrl: 'http://127.0.0.1:9/',
    from: { id: '29:x', aadObjectId: DEMO_USERS.alex.id, name: 'Alex' },
    recipient: { id: '28:vigil', name: 'Vigil' },
    conversation: { id: 'a:1', conversationType: 'personal', tenantId: '7f1c0a2e-4b6d-4e8f-9a1b-2c3d4e5f6a7b' },
    channelData: { tenant: { id: '7f1c0a2e-4b6d-4e8f-9a1b-2c3d4e5f6a7b' } },
    text: 'help',
    ...overrides,
  };
}

describe('security: error responses never carry internals', function () {
  this.timeout(60_000);

  describe('the server around CloudAdapter (an injected handler error)', () => {
    let server: RunningServer;
    let memory: MemoryLog;
    let quiet: sinon.SinonStub;
    before(async () => {
      // CloudAdapter prints the error it answers 500 for to the console: keep the test output readable.
      quiet = sinon.stub(console, 'error');
      memory = memoryLogger();
      const adapter = createAdapter({ appType: 'MultiTenant' }, memory.log);
      // What botbuilder does without a turn-error handler: the error reaches CloudAdapter.process,
      // which would answer 500 with err.message.
      adapter.onTurnError = async (_context, err) => {
        throw err;
      };
      const handler = {
        async run() {
          throw new Error(INTERNAL);
        },
      };
      server = await startServer({ port: 0, host: '127.0.0.1', adapter, handler: handler as never, log: memory.log });
    });
    after(async () => {
      quiet?.restore();
      await server?.close();
    });

    const post = (body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
      fetch(`${server.url}/api/messages`, { method: 'POST', headers, body }).then(async (r) => ({ status: r.status, text: await r.text() }));

    it('a handler that throws → 500 {"error":"Internal error"}; the detail is in the log only', async () => {
      for (const type of ['message', 'invoke']) {
        const res = await post(JSON.stringify(activity(type === 'invoke' ? { type, name: 'adaptiveCard/action', value: {} } : {})));
        assert.equal(res.status, 500, type);
        assert.equal(res.text, '{"error":"Internal error"}');
      }
      assert.ok(memory.lines.some((l) => l.msg === 'request failed' && String(l.err?.message).includes('hunter2')), 'operators see what failed');
    });

    const refusals: Array<[string, () => Promise<{ status: number; text: string }>, number]> = [
      ['invalid JSON', () => post('{"type":"message",'), 400],
      ['JSON that is not an object', () => post('[1,2,3]'), 400],
      ['a number', () => post('42'), 400],
      ['an object without a type', () => post(JSON.stringify({ text: 'hi' })), 400],
      ['an activity whose conversation is a string', () => post(JSON.stringify(activity({ conversation: 'a:1' }))), 400],
      ['an activity whose text is an object', () => post(JSON.stringify(activity({ text: { $ne: null } }))), 400],
      ['a body over 256 KB', () => post(JSON.stringify(activity({ text: 'x'.repeat(300 * 1024) }))), 413],
      ['a body over 256 KB sent without a length (chunked)', () => fetch(`${server.url}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new ReadableStream({
          start(c) {
            for (let i = 0; i < 40; i++) c.enqueue(new TextEncoder().encode('x'.repeat(16 * 1024)));
            c.close();
          },
        }),
        duplex: 'half',
      } as RequestInit).then(async (r) => ({ status: r.status, text: await r.text() })), 413],
      ['a gzip bomb (60 KB that inflates to 60 MB)', () => post(gzipSync(Buffer.alloc(60 * 1024 * 1024, 0x20)), { 'content-type': 'application/json', 'content-encoding': 'gzip' }), 413],
      ['an unknown content encoding', () => post('{}', { 'content-type': 'application/json', 'content-encoding': 'br' }), 415],
      ['text/plain', () => post(JSON.stringify(activity()), { 'content-type': 'text/plain' }), 415],
      ['a multipart upload (never written to disk)', () => {
        const form = new FormData();
        form.append('file', new Blob(['x'.repeat(1000)]), 'evil.bin');
        return fetch(`${server.url}/api/messages`, { method: 'POST', body: form }).then(async (r) => ({ status: r.status, text: await r.text() }));
      }, 415],
      ['a form post', () => post('type=message&text=hi', { 'content-type': 'application/x-www-form-urlencoded' }), 415],
      ['GET /api/messages', () => fetch(`${server.url}/api/messages`).then(async (r) => ({ status: r.status, text: await r.text() })), 405],
      ['an unknown path', () => fetch(`${server.url}/admin/../../etc/passwd`).then(async (r) => ({ status: r.status, text: await r.text() })), 404],
    ];
    for (const [what, send, status] of refusals) {
      it(`${what} → ${status}, generic body`, async () => {
        const res = await send();
        assert.equal(res.status, status, `${what}: ${res.text}`);
        assertGeneric(res.status, res.text, what);
      });
    }

    it('a gzip bomb is stopped at the limit, not inflated in memory', async () => {
      // 200 MB of spaces, compressed piece by piece (about 200 KB: under the limit as sent).
      const gzip = createGzip({ level: 9 });
      const parts: Buffer[] = [];
      gzip.on('data', (d: Buffer) => parts.push(d));
      const piece = Buffer.alloc(1024 * 1024, 0x20);
      for (let i = 0; i < 200; i++) gzip.write(piece);
      await new Promise<void>((r) => gzip.end(r));
      const bomb = Buffer.concat(parts);
      assert.ok(bomb.length < 256 * 1024, `${bomb.length} bytes`);
      const before = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
      const res = await post(bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      assert.equal(res.status, 413);
      const grown = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - before;
      assert.ok(grown < 50 * 1024 * 1024, `memory grew by ${Math.round(grown / 1048576)} MB`);
      assert.ok(memory.lines.some((l) => l.msg === 'request refused' && l.reason === 'decompressed size'));
    });
  });

  describe('the whole bot (Teams played, demo tenant)', () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ approvalsChannel: false });
    });
    after(async () => {
      sinon.restore();
      await h?.close();
    });

    it('a message whose handling throws → 200, the person is told "something went wrong", nothing internal', async () => {
      const stub = sinon.stub(Assistant.prototype, 'onMessage').rejects(new Error(INTERNAL));
      try {
        const before = h.teams.sent.length;
        const res = await h.teams.say(alex, 'who lacks MFA?');
        assert.equal(res.status, 200);
        assertGeneric(res.status, await res.text(), 'message');
        const reply = h.teams.sent.slice(before);
        assert.equal(reply.length, 1);
        assert.equal(reply[0].activity.text, 'Sorry, something went wrong on my side. Please try again in a moment.');
        assert.ok(!JSON.stringify(reply[0].activity).includes('hunter2'));
      } finally {
        stub.restore();
      }
    });

    it('a card action whose handling throws → 500 {"error":"Internal error"} (not botbuilder\u2019s 501), nothing sent', async () => {
      const stub = sinon.stub(Assistant.prototype, 'onAction').rejects(new Error(INTERNAL));
      try {
        const before = h.teams.sent.length;
        const res = await h.teams.click(alex, { verb: 'vigil.help', data: { verb: 'vigil.help' } });
        assert.equal(res.status, 500);
        assert.deepEqual(res.body, { error: 'Internal error' });
        assert.equal(h.teams.sent.length, before);
      } finally {
        stub.restore();
      }
    });

    it('an invoke Vigil does not serve → 400, not botbuilder\u2019s 501', async () => {
      for (const name of ['composeExtension/query', 'task/fetch', 'signin/verifyState', 'config/fetch', 'no/such/thing']) {
        const res = await h.teams.post({
          type: 'invoke',
          name,
          id: randomUUID(),
          channelId: 'msteams',
          serviceUrl: h.teams.serviceUrl,
          from: { id: alex.id, aadObjectId: alex.aadObjectId, name: alex.name },
          recipient: { id: '28:vigil' },
          conversation: h.teams.personal(alex),
          channelData: { tenant: { id: h.tenantId } },
          value: {},
        });
        assert.equal(res.status, 400, name);
        assertGeneric(400, await res.text(), name);
      }
    });

    it('the person can carry on afterwards', async () => {
      const before = h.teams.sent.length;
      await h.teams.say(alex, 'help');
      assert.match(textOf(h.teams.sent.slice(before)[0].activity.attachments[0].content), /Vigil keeps watch/);
    });
  });
});
