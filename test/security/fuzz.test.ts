/**
 * Fuzz: at least 10,000 malformed or hostile activities at the real HTTP endpoint of a running
 * Vigil (demo tenant, embedded database): random JSON, wrong types, huge texts, deep nesting,
 * missing ids, unknown invoke names and activity types, card data of the wrong shape, names and
 * texts with `${...}`, markdown, HTML, control characters and RTL overrides. Expected:
 *
 * - zero crashes (no uncaught exception or unhandled rejection, no handler error), zero 5xx;
 *   a body that is not an activity at all is a 400;
 * - memory stable (JS heap after GC barely moves between the first 2,000 and the last);
 * - every text a person typed that is echoed back appears literally: markdown escaped, `${…}`
 *   not evaluated, control and bidi characters dropped, nothing else changed.
 *
 * Reproducible: FUZZ_SEED picks the sequence (printed); FUZZ_COUNT the number of activities.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { Writable } from 'node:stream';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { startVigil, type Vigil } from '../../bot/index';
import { DEMO_USERS, startDemoTenant, type DemoTenant } from '../../bot/demo';
import { createLogger } from '../../bot/log';
import { MAX_COMMAND_CHARS } from '../../bot/teams/inbound';
import { freshDataDir } from '../remediation/support/harness';

const COUNT = Number(process.env.FUZZ_COUNT ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_2026);
const CONCURRENCY = 8;

/** mulberry32: a small, seedable PRNG. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}
type Rng = ReturnType<typeof prng>;

const HOSTILE = [
  '${name}',
  '${$root.secret}',
  "${join(split('a,b', ','), '-')}",
  '${if(true, "pwned", "x")}',
  '{{name}}',
  '%s%s%s%n%x',
  '**bold** _it_ [link](javascript:alert(1)) `code` ~~strike~~',
  '[click me](https://evil.example.com/phish)',
  '![img](https://evil.example.com/x.png)',
  '# heading',
  '- item',
  '1. item',
  '> quote',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '<at>Vigil</at> <at>Megan Bowen</at>',
  '\u202Egnp.exe\u202C',
  '\u2066isolated\u2069 \u200F\u200E',
  '\u0000\u0001\u0007\u001b[31mred\u001b[0m\u007f',
  '\r\n\r\nHTTP/1.1 200 OK\r\n',
  '\uFEFFbom',
  '👩‍👩‍👧‍👦 🔥 \u{1F600}',
  'مرحبا بالعالم שלום',
  "'; DROP TABLE approvals; --",
  "' OR '1'='1",
  '../../../../etc/passwd',
  '{"$ne": null}',
  '__proto__',
  'constructor.prototype',
  '\\u0000 \\n \\"',
  '@everyone',
];

const COMMANDS = [
  'who lacks MFA?',
  'help',
  'how are we doing?',
  'any forwarding rules?',
  'show recent approvals',
  'audit log',
  'use this channel for approvals',
  'use this channel for alerts',
  'alert settings',
  'list tenants',
  'doctor',
  'which tenants need attention?',
];

const VERBS = ['vigil.fix', 'vigil.fixAll', 'vigil.approve', 'vigil.reject', 'vigil.cancel', 'vigil.refresh', 'vigil.page', 'vigil.pick', 'vigil.ack', 'vigil.snooze', 'vigil.help', 'vigil.more', 'x', ''];

function hostileText(r: Rng): string {
  const parts: string[] = [];
  const n = 1 + r.int(4);
  for (let i = 0; i < n; i++) {
    const k = r.int(10);
    if (k < 5) parts.push(r.pick(HOSTILE));
    else if (k < 7) parts.push(randomUnicode(r, 1 + r.int(40)));
    else if (k < 8) parts.push(r.pick(COMMANDS));
    else parts.push(`unknown ${r.int(1e6)}`);
  }
  let text = parts.join(r.pick([' ', '', '\n', ' \t ']));
  if (r.chance(0.01)) text = text.repeat(2000).slice(0, 100_000 + r.int(100_000)); // huge
  return text;
}

function randomUnicode(r: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const k = r.int(6);
    if (k === 0) s += String.fromCharCode(r.int(0x20)); // controls
    else if (k === 1) s += String.fromCharCode(0x20 + r.int(0x5f)); // ASCII
    else if (k === 2) s += r.pick(['\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069', '\u200B', '\u200D']);
    else if (k === 3) s += String.fromCodePoint(0x1f300 + r.int(0x300));
    else if (k === 4) s += String.fromCharCode(0x0590 + r.int(0x200)); // Hebrew/Arabic
    else s += r.pick(['*', '_', '`', '[', ']', '~', '<', '>', '#', '\\', '$', '{', '}', '|', '!', '(', ')']);
  }
  return s;
}

function randomJson(r: Rng, depth = 0): unknown {
  const k = r.int(depth > 3 ? 6 : 9);
  switch (k) {
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return r.pick([0, -1, 1e308, -1e-308, 2 ** 53 + 1, 3.14]);
    case 3:
      return hostileText(r).slice(0, 200);
    case 4:
      return randomUnicode(r, r.int(20));
    case 5:
      return r.pick(['', 'undefined', 'NaN', '[object Object]']);
    case 6:
      return Array.from({ length: r.int(5) }, () => randomJson(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = 0, n = r.int(5); i < n; i++) o[r.pick(['__proto__', 'constructor', 'prototype', 'id', 'ref', 'verb', 'requestId', 'data', 'action', 'type', 'value', 'x', randomUnicode(r, 3)])] = randomJson(r, depth + 1);
      return o;
    }
  }
}

/** JSON text nested this deep: `[[[…]]]` or `{"a":{"a":…}}`. */
function deepJson(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

interface Case {
  body: string;
  /** 400 when this is not an activity at all; otherwise any status below 500. */
  notActivity: boolean;
  /** The text of a message a person typed in a personal chat (its echo is checked). */
  echo?: { conversationId: string; text: string };
}

function makeCase(r: Rng, i: number, ctx: { serviceUrl: string; tenantId: string }): Case {
  const roll = r.int(100);
  if (roll < 8) {
    // Not an activity at all.
    const k = r.int(6);
    const body =
      k === 0 ? JSON.stringify(randomJson(r)) :
      k === 1 ? deepJson(1 + r.int(20_000), r.chance(0.5) ? 'array' : 'object') :
      k === 2 ? '{"type":"message",' + 'x'.repeat(r.int(100)) :
      k === 3 ? JSON.stringify([{ type: 'message' }]) :
      k === 4 ? JSON.stringify({ type: r.pick([1, null, {}, [], true, '']) , text: 'hi' }) :
      JSON.stringify({ type: 'message', conversation: r.pick(['a:1', 1, null, [], { id: 1 }]), serviceUrl: ctx.serviceUrl, channelId: 'msteams' });
    // A JSON value that happens to be a well-formed activity is very unlikely from these generators.
    return { body, notActivity: true };
  }

  const users = [...Object.values(DEMO_USERS).map((u) => ({ id: `29:${u.id}`, aadObjectId: u.id, name: u.name })), { id: '29:stranger', aadObjectId: '99999999-9999-4999-8999-999999999999', name: '${name} **Evil** <b>x</b>' }];
  const user = r.pick(users);
  const kind = r.pick(['personal', 'personal', 'personal', 'channel', 'groupChat'] as const);
  const conversationId = kind === 'channel' ? `19:fuzz-${i}@thread.tacv2` : kind === 'groupChat' ? `19:group-${i}@thread.v2` : `a:fuzz-${i}`;
  const activity: Record<string, unknown> = {
    type: 'message',
    id: `fuzz-${i}`,
    channelId: 'msteams',
    serviceUrl: ctx.serviceUrl,
    timestamp: new Date().toISOString(),
    from: { id: user.id, name: r.chance(0.2) ? hostileText(r).slice(0, 300) : user.name, aadObjectId: user.aadObjectId },
    recipient: { id: '28:vigil', name: 'Vigil' },
    conversation: { id: conversationId, conversationType: kind, tenantId: ctx.tenantId, ...(kind === 'channel' ? { isGroup: true } : {}) },
    channelData: { tenant: { id: ctx.tenantId }, ...(kind === 'channel' ? { team: { id: '19:team@thread.tacv2', name: hostileText(r).slice(0, 80) }, channel: { id: conversationId, name: hostileText(r).slice(0, 80) } } : {}) },
  };
  let echo: Case['echo'];

  if (roll < 55) {
    // A message typed by a person.
    const text = hostileText(r);
    activity.text = kind === 'personal' ? text : `<at>Vigil</at> ${text}`;
    if (kind !== 'personal') activity.entities = [{ type: 'mention', text: '<at>Vigil</at>', mentioned: { id: '28:vigil', name: 'Vigil' } }];
    if (kind === 'personal') echo = { conversationId, text };
    if (r.chance(0.05)) activity.entities = [{ type: 'mention', text: r.pick(['<at>', '', '${x}']), mentioned: r.pick([{}, { id: 5 }, { id: '28:vigil' }]) }];
  } else if (roll < 75) {
    // A card action (Action.Execute invoke) with data of any shape.
    activity.type = 'invoke';
    activity.name = r.pick(['adaptiveCard/action', 'adaptiveCard/action', 'adaptiveCard/action', 'fileConsent/invoke', 'composeExtension/query', 'task/fetch', 'signin/verifyState', '', 'x'.repeat(r.int(64)), hostileText(r).slice(0, 60)]);
    const verb = r.pick(VERBS);
    const data: Record<string, unknown> = { verb, ref: r.pick([randomUnicode(r, 22), 'A'.repeat(22), '', null, 5, hostileText(r).slice(0, 50)]) };
    if (r.chance(0.3)) data.requestId = r.pick(['AAAAAAAAAAAAAAAAAAAAAA', "' OR 1=1 --", '${id}', 1, null, { $gt: '' }, randomUnicode(r, 10)]);
    if (r.chance(0.2)) data.page = r.pick([-1, 1e9, 'x', null, 0.5]);
    if (r.chance(0.1)) data.nested = JSON.parse(deepJson(1 + r.int(2000), 'object'));
    if (r.chance(0.2)) Object.assign(data, randomJson(r) as object);
    activity.value =
      activity.name === 'fileConsent/invoke'
        ? { type: 'fileUpload', action: r.pick(['accept', 'decline', 'x', 5]), context: r.pick([{ ref: randomUnicode(r, 22) }, null, 'x']), uploadInfo: { uploadUrl: r.pick(['http://169.254.169.254/latest', 'file:///etc/passwd', 'https://127.0.0.1:1/', 5]), name: hostileText(r).slice(0, 40) } }
        : r.chance(0.85)
          ? { action: { type: r.pick(['Action.Execute', 'Action.Execute', 'Action.Submit', 5, null]), verb: r.chance(0.9) ? verb : randomJson(r), data: r.chance(0.9) ? data : randomJson(r) }, trigger: r.pick(['manual', 'automatic', 'x', 5, undefined]) }
          : randomJson(r);
  } else if (roll < 82) {
    // Action.Submit fallback: a message carrying card data and no text.
    activity.value = r.chance(0.7) ? { verb: r.pick(VERBS), ref: randomUnicode(r, 22), requestId: r.pick(['x', 5, null]) } : randomJson(r);
  } else if (roll < 90) {
    // Other activity types, some with odd contents.
    activity.type = r.pick(['conversationUpdate', 'messageReaction', 'installationUpdate', 'event', 'typing', 'endOfConversation', 'messageUpdate', 'messageDelete', 'delay', 'trace', 'invokeResponse', 'handoff', randomUnicode(r, 10) || 'x']);
    if (activity.type === 'conversationUpdate') activity.membersAdded = r.chance(0.5) ? [{ id: '28:vigil' }, { id: user.id, name: hostileText(r).slice(0, 50) }] : [{}];
    if (activity.type === 'messageReaction') activity.reactionsAdded = [{ type: r.pick(['like', '${x}', '']) }];
    if (activity.type === 'installationUpdate') activity.action = r.pick(['add', 'remove', 'x']);
    if (r.chance(0.5)) activity.value = randomJson(r);
    if (r.chance(0.3)) activity.channelData = { ...(activity.channelData as object), eventType: r.pick(['teamMemberAdded', 'channelCreated', 'x']) };
  } else if (roll < 96) {
    // Missing or odd identities and references.
    activity.text = hostileText(r).slice(0, 500);
    const k = r.int(9);
    if (k === 0) delete activity.id;
    else if (k === 1) delete activity.from;
    else if (k === 2) activity.from = { id: user.id };
    else if (k === 3) delete activity.recipient;
    else if (k === 4) activity.conversation = { id: conversationId };
    else if (k === 5) activity.channelData = null;
    else if (k === 6) activity.deliveryMode = r.pick(['expectReplies', 'notification', 'x']);
    else if (k === 7) activity.replyToId = hostileText(r).slice(0, 100);
    else activity.locale = r.pick(['xx', '${x}', '']);
  } else {
    // Right shape, wrong service URL or channel: must be refused without a call anywhere.
    activity.text = 'who lacks MFA?';
    if (r.chance(0.5)) activity.serviceUrl = r.pick(['http://10.0.0.5/', 'https://evil.example.com/', 'http://169.254.169.254/', 'not a url', 'file:///etc/passwd']);
    else activity.channelId = r.pick(['webchat', 'emulator', 'directline', 'slack', '']);
  }
  return { body: JSON.stringify(activity), notActivity: false, echo };
}

/** Is every markdown character in `s` escaped (preceded by an odd number of backslashes)? */
function markdownEscaped(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    if (!'*_`[]~<>'.includes(s[i])) continue;
    let slashes = 0;
    for (let j = i - 1; j >= 0 && s[j] === '\\'; j--) slashes++;
    if (slashes % 2 === 0) return false;
  }
  return true;
}

const INVISIBLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u202A-\u202E\u2066-\u2069]/g;

describe(`security: fuzz — ${COUNT.toLocaleString('en')} malformed or hostile activities`, function () {
  this.timeout(Math.max(240_000, COUNT * 30));
  let demo: DemoTenant;
  let vigil: Vigil;
  let connector: http.Server;
  let serviceUrl = '';
  let dataDir: string;
  const levels = new Map<string, number>();
  const errors: string[] = [];
  /** Texts typed in personal chats, by conversation id, until their answer arrives. */
  const pending = new Map<string, string>();
  const echo = { checked: 0, literal: 0, problems: [] as string[] };
  let sends = 0;
  const crashes: string[] = [];
  const onCrash = (err: unknown) => crashes.push(String((err as Error)?.stack ?? err));

  before(async () => {
    // A connector that checks each answer as it arrives and keeps nothing.
    connector = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        sends++;
        const m = /^\/v3\/conversations\/([^/]+)\/activities/.exec(decodeURI(req.url ?? ''));
        if (m) checkEcho(decodeURIComponent(m[1]), body);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ id: `r-${sends}` }));
      });
    });
    await new Promise<void>((r) => connector.listen(0, '127.0.0.1', () => r()));
    serviceUrl = `http://127.0.0.1:${(connector.address() as { port: number }).port}/`;
    demo = await startDemoTenant();
    dataDir = await freshDataDir();
    const counting = new Writable({
      write(chunk, _e, done) {
        for (const line of String(chunk).split('\n')) {
          if (!line) continue;
          const l = JSON.parse(line) as { level: number; msg?: string; err?: { message?: string } };
          const name = l.level >= 50 ? 'error' : l.level >= 40 ? 'warn' : 'info';
          levels.set(name, (levels.get(name) ?? 0) + 1);
          if (l.level >= 50 && errors.length < 20) {
            const stack = process.env.FUZZ_DEBUG ? ` ${String((l.err as { stack?: string } | undefined)?.stack ?? '').split('\n').slice(1, 6).join(' | ')}` : '';
            errors.push(`${l.msg}: ${l.err?.message ?? ''}`.slice(0, 300) + stack);
          }
        }
        done();
      },
    });
    vigil = await startVigil({
      env: { PORT: '0', DATA_DIR: dataDir, SCAN_POLL_SECONDS: '0', LOG_LEVEL: 'info', RATE_LIMIT_USER_PER_MINUTE: '100000000', RATE_LIMIT_TENANT_PER_MINUTE: '100000000' },
      demoTenant: demo,
      logger: createLogger('info', counting),
    });
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
  });

  after(async () => {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    await vigil?.stop();
    await demo?.close();
    await new Promise<void>((r) => connector?.close(() => r()));
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  function checkEcho(conversationId: string, body: string): void {
    const typed = pending.get(conversationId);
    if (typed === undefined) return;
    let card: unknown;
    try {
      card = (JSON.parse(body) as { attachments?: Array<{ content?: unknown }> }).attachments?.[0]?.content;
    } catch {
      return;
    }
    const intro = findText(card, /^I did not understand “/);
    echo.checked++;
    if (intro === undefined) return; // answered as a command (the text matched one): nothing echoed
    const inner = intro.slice('I did not understand “'.length, intro.length - '”. Here is what I can do.'.length);
    // (NUL never reaches the bot: the server drops it from every inbound string.)
    // (The Teams room hands on at most MAX_COMMAND_CHARS of a message.)
    const expected = typed.replace(/\u0000/g, '').slice(0, MAX_COMMAND_CHARS).replace(/<[^>]+>/g, '').trim().slice(0, 200).replace(INVISIBLE, '');
    const unescaped = inner.replace(/\\(.)/gs, '$1');
    const ok = intro.endsWith('”. Here is what I can do.') && markdownEscaped(inner) && unescaped === expected && !INVISIBLE.test(inner);
    INVISIBLE.lastIndex = 0;
    if (ok) echo.literal++;
    else if (echo.problems.length < 10) echo.problems.push(JSON.stringify({ typed: typed.slice(0, 120), shown: inner.slice(0, 160) }));
  }

  it('zero crashes, zero 5xx (non-activities → 400), memory stable, typed text echoed literally', async () => {
    const gc = (() => {
      v8.setFlagsFromString('--expose-gc');
      return vm.runInNewContext('gc') as () => void;
    })();
    const r = prng(SEED);
    const statuses = new Map<number, number>();
    const wrong: string[] = [];
    const heap: Array<[number, number]> = [];
    const rss: number[] = [];
    const started = Date.now();
    const slowest = { ms: 0, i: -1, body: '', length: 0 };
    const inflight = new Map<number, { t0: number; body: string }>();
    let next = 0;
    const send = async (i: number) => {
      const c = makeCase(r, i, { serviceUrl, tenantId: demo.tenantId });
      if (c.echo) pending.set(c.echo.conversationId, c.echo.text);
      const t0 = Date.now();
      inflight.set(i, { t0, body: c.body });
      const res = await fetch(`${vigil.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: c.body }).catch((err: Error) => {
        const now = Date.now();
        const stuck = [...inflight].map(([n, f]) => `#${n} after ${now - f.t0} ms (${f.body.length} bytes): ${f.body.slice(0, 1500)}`);
        throw new Error(`#${i}: ${err.message} (${String((err.cause as Error)?.message)}); in flight:\n${stuck.join('\n')}`);
      });
      await res.arrayBuffer();
      inflight.delete(i);
      const ms = Date.now() - t0;
      if (ms > slowest.ms) Object.assign(slowest, { ms, i, body: c.body.slice(0, 1500), length: c.body.length });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500 || (c.notActivity && res.status !== 400)) {
        if (wrong.length < 10) wrong.push(`#${i} → ${res.status}: ${c.body.slice(0, process.env.FUZZ_DEBUG ? 5000 : 300)}`);
      }
      if (c.echo) pending.delete(c.echo.conversationId);
    };
    const worker = async () => {
      while (next < COUNT) {
        const i = next++;
        await send(i);
        if (i === Math.min(2000, COUNT - 1)) {
          gc();
          heap.push([i, process.memoryUsage().heapUsed]);
          rss.push(process.memoryUsage().rss);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    gc();
    heap.push([COUNT, process.memoryUsage().heapUsed]);
    rss.push(process.memoryUsage().rss);
    const seconds = (Date.now() - started) / 1000;
    const grownMb = (heap.at(-1)![1] - heap[0][1]) / 1048576;
    const summary = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(', ');
    console.log(`      seed ${SEED}: ${COUNT} activities in ${seconds.toFixed(1)} s — ${summary}; ${sends} answers sent; ` +
      `${echo.literal} of ${echo.checked} personal-chat texts echoed (all literally: ${echo.problems.length === 0}); heap after GC ${mb(heap[0][1])} → ${mb(heap.at(-1)![1])} MB (process RSS ${mb(rss[0])} → ${mb(rss.at(-1)!)} MB); ${levels.get('warn') ?? 0} warnings logged (refusals)`);

    if (process.env.FUZZ_DEBUG) console.log(errors, wrong.map((w) => w.slice(0, 3000)), slowest, echo.problems);
    assert.deepEqual(crashes, [], 'no uncaught exception or unhandled rejection');
    assert.deepEqual(wrong, [], 'no 5xx; every non-activity a 400');
    assert.deepEqual(errors, [], 'no handler error (onTurnError) or failed request logged');
    assert.deepEqual(echo.problems, [], 'every echoed text appears literally');
    assert.ok(echo.literal >= COUNT / 10, `echo checked on enough texts (${echo.literal})`);
    assert.ok(grownMb < 40, `JS heap grew by ${grownMb.toFixed(1)} MB between activity 2,000 and ${COUNT}`);
    // The bot still answers normally.
    const ok = await fetch(`${vigil.url}/healthz`);
    assert.equal(ok.status, 200);
  });
});

const mb = (bytes: number) => (bytes / 1048576).toFixed(0);

/** The first TextBlock text in a card that matches. */
function findText(node: unknown, re: RegExp): string | undefined {
  if (Array.isArray(node)) {
    for (const n of node) {
      const t = findText(n, re);
      if (t !== undefined) return t;
    }
  } else if (node && typeof node === 'object') {
    const n = node as Record<string, unknown>;
    if (n.type === 'TextBlock' && typeof n.text === 'string' && re.test(n.text)) return n.text;
    for (const v of Object.values(n)) {
      const t = findText(v, re);
      if (t !== undefined) return t;
    }
  }
  return undefined;
}
