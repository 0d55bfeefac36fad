/**
 * Reports reaching people through Teams, end to end over HTTP: the real Vigil server against the
 * demo tenant; Teams played by FakeTeams, OneDrive by a local upload endpoint.
 *  - personal chat: the file consent flow (consent card → accept → upload → file info card);
 *  - channels: a link to /reports/{id} with a signed token that expires, refused without it.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { startVigil, type Vigil } from '../../bot/index';
import { findCheck } from '../../bot/checks';
import { DEMO_USERS } from '../../bot/demo';
import { assertValidTeamsCard } from '../support/cardSchema';
import { FakeTeams, textOf, type SentActivity, type TeamsUser } from '../support/fakeTeams';

const asTeamsUser = (u: { id: string; name: string }): TeamsUser => ({ id: `29:${u.id}`, aadObjectId: u.id, name: u.name });
const CONSENT = 'application/vnd.microsoft.teams.card.file.consent';
const INFO = 'application/vnd.microsoft.teams.card.file.info';

interface Upload {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Plays OneDrive's upload session: records each PUT. */
class FakeOneDrive {
  readonly uploads: Upload[] = [];
  private server?: http.Server;
  base = '';

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.uploads.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
        res.statusCode = req.method === 'PUT' ? 201 : 405;
        res.end('{}');
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.base = `http://127.0.0.1:${(this.server!.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }
}

describe('report delivery in Teams', function () {
  this.timeout(120_000);
  let vigil: Vigil;
  let teams: FakeTeams;
  let onedrive: FakeOneDrive;
  let dataDir: string;
  let clock = Date.now();
  const alex = asTeamsUser(DEMO_USERS.alex);
  const megan = asTeamsUser(DEMO_USERS.megan);

  const since = (n: number) => teams.sent.slice(n);
  const attachmentsIn = (sent: SentActivity[], contentType: string) => sent.flatMap((s) => (s.activity.attachments ?? []).filter((a: any) => a.contentType === contentType));
  const cardsIn = (sent: SentActivity[]) => attachmentsIn(sent, 'application/vnd.microsoft.card.adaptive').map((a: any) => a.content);
  const textsIn = (sent: SentActivity[]) => sent.map((s) => s.activity.text).filter(Boolean).join('\n');

  /** What Teams sends when the person clicks Allow / Decline on a file consent card. */
  function fileConsent(user: TeamsUser, action: 'accept' | 'decline', context: unknown, uploadInfo?: Record<string, unknown>) {
    const conversation = teams.personal(user);
    return teams.post({
      type: 'invoke',
      name: 'fileConsent/invoke',
      channelId: 'msteams',
      serviceUrl: teams.serviceUrl,
      id: randomUUID(),
      timestamp: new Date().toISOString(),
      from: { id: user.id, name: user.name, aadObjectId: user.aadObjectId },
      recipient: { id: '28:vigil', name: 'Vigil' },
      conversation,
      channelData: { tenant: { id: conversation.tenantId } },
      value: { type: 'fileUpload', action, context, ...(uploadInfo ? { uploadInfo } : {}) },
    });
  }

  const uploadInfo = (name: string, id: string) => ({
    name,
    uploadUrl: `${onedrive.base}/upload/${id}`,
    contentUrl: `https://northwinddental-my.sharepoint.com/personal/alex/Documents/Applications/Vigil/${name}`,
    uniqueId: `unique-${id}`,
    fileType: name.split('.').pop(),
  });

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-report-'));
    vigil = await startVigil({ env: { PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent', SCAN_POLL_SECONDS: '0' }, now: () => new Date(clock) });
    teams = new FakeTeams(vigil.url, vigil.demo!.tenantId);
    await teams.start();
    onedrive = new FakeOneDrive();
    await onedrive.start();
  });

  after(async () => {
    await onedrive?.stop();
    await teams?.stop();
    await vigil?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  describe('personal chat: the file consent flow', () => {
    let consent: any;

    it('"report" answers with a summary card and a file consent card for the PDF', async () => {
      const n = teams.sent.length;
      const res = await teams.say(alex, 'report');
      assert.equal(res.status, 200);
      const [card] = cardsIn(since(n));
      assertValidTeamsCard(card);
      assert.match(textOf(card), /Security report for Northwind Dental Care/);
      assert.match(textOf(card), /Grade: F|Grade: [A-F]/);
      assert.match(textOf(card), /accept it below to save it to your OneDrive/);
      [consent] = attachmentsIn(since(n), CONSENT);
      assert.ok(consent, 'a file consent card');
      assert.match(consent.name, /^vigil-northwind-dental-care-\d{4}-\d{2}-\d{2}\.pdf$/);
      assert.ok(consent.content.sizeInBytes > 10_000);
      assert.deepEqual(Object.keys(consent.content.acceptContext), ['ref'], 'the card carries only an opaque reference');
      assert.match(consent.content.acceptContext.ref, /^[A-Za-z0-9_-]{22}$/);
      assert.deepEqual(consent.content.declineContext, consent.content.acceptContext);
    });

    it('someone else accepting that card gets nothing, and nothing is uploaded', async () => {
      const n = teams.sent.length;
      const res = await fileConsent(megan, 'accept', consent.content.acceptContext, uploadInfo(consent.name, 'stolen'));
      assert.equal(res.status, 200);
      assert.match(textsIn(since(n)), /no longer available/);
      assert.equal(onedrive.uploads.length, 0);
    });

    it('accepting uploads the PDF to the OneDrive session, then shows the file in chat', async () => {
      const n = teams.sent.length;
      const res = await fileConsent(alex, 'accept', consent.content.acceptContext, uploadInfo(consent.name, 'r1'));
      assert.equal(res.status, 200);
      assert.equal(onedrive.uploads.length, 1);
      const up = onedrive.uploads[0];
      assert.equal(up.url, '/upload/r1');
      assert.equal(up.body.subarray(0, 5).toString(), '%PDF-');
      assert.equal(up.body.length, consent.content.sizeInBytes);
      assert.equal(up.headers['content-range'], `bytes 0-${up.body.length - 1}/${up.body.length}`);
      const [info] = attachmentsIn(since(n), INFO);
      assert.ok(info, 'a file info card');
      assert.equal(info.name, consent.name);
      assert.match(info.contentUrl, /sharepoint\.com\/personal\/alex/);
      assert.deepEqual(info.content, { uniqueId: 'unique-r1', fileType: 'pdf' });
    });

    it('declining forgets the file', async () => {
      let n = teams.sent.length;
      await teams.say(alex, 'security report');
      const [second] = attachmentsIn(since(n), CONSENT);
      n = teams.sent.length;
      await fileConsent(alex, 'decline', second.content.declineContext);
      assert.match(textsIn(since(n)), /did not save the file/);
      n = teams.sent.length;
      const uploads = onedrive.uploads.length;
      await fileConsent(alex, 'accept', second.content.acceptContext, uploadInfo(second.name, 'late'));
      assert.match(textsIn(since(n)), /no longer available/);
      assert.equal(onedrive.uploads.length, uploads);
    });

    it('refuses an upload address that is not https (never PUTs a report to an arbitrary http host)', async () => {
      let n = teams.sent.length;
      await teams.say(alex, 'report');
      const [third] = attachmentsIn(since(n), CONSENT);
      n = teams.sent.length;
      const uploads = onedrive.uploads.length;
      await fileConsent(alex, 'accept', third.content.acceptContext, { ...uploadInfo(third.name, 'x'), uploadUrl: 'http://example.com/upload' });
      assert.match(textsIn(since(n)), /could not save/);
      assert.equal(onedrive.uploads.length, uploads);
    });

    it('"report for <another tenant>" is refused; "report for <this tenant>" works', async () => {
      let n = teams.sent.length;
      await teams.say(alex, 'report for Contoso');
      assert.match(textOf(cardsIn(since(n))[0]), /From here I can only report on Northwind Dental Care/);
      assert.equal(attachmentsIn(since(n), CONSENT).length, 0);
      n = teams.sent.length;
      await teams.say(alex, 'report for Northwind Dental Care');
      assert.equal(attachmentsIn(since(n), CONSENT).length, 1);
    });

    it('"export people without MFA as CSV" offers that check\u2019s findings as a CSV file', async () => {
      const n = teams.sent.length;
      await teams.say(alex, 'export people without MFA as CSV');
      const [card] = cardsIn(since(n));
      assertValidTeamsCard(card);
      assert.match(textOf(card), /People without MFA: \d+ findings? as CSV/);
      const [file] = attachmentsIn(since(n), CONSENT);
      assert.match(file.name, /^vigil-northwind-dental-care-mfa-registration-\d{4}-\d{2}-\d{2}\.csv$/);
    });
  });

  describe('channels: a signed link that expires', () => {
    let url: URL;

    it('"report" in a channel posts a card with a link to /reports/{id}?token=…, and no file card', async () => {
      const n = teams.sent.length;
      await teams.say(megan, 'report', teams.channel());
      const [card] = cardsIn(since(n));
      assertValidTeamsCard(card);
      assert.match(textOf(card), /works for 15 minutes/);
      assert.equal(attachmentsIn(since(n), CONSENT).length, 0, 'file consent cards are for personal chat only');
      const open = card.actions.find((a: any) => a.type === 'Action.OpenUrl');
      url = new URL(open.url);
      assert.equal(url.origin, vigil.url);
      assert.match(url.pathname, /^\/reports\/[A-Za-z0-9_-]{22}$/);
      assert.match(url.searchParams.get('token')!, /^\d+\.[A-Za-z0-9_-]{43}$/);
    });

    it('the link serves the PDF, uncached', async () => {
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/pdf');
      assert.match(res.headers.get('content-disposition')!, /^attachment; filename="vigil-northwind-dental-care-\d{4}-\d{2}-\d{2}\.pdf"/);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(Buffer.from(await res.arrayBuffer()).subarray(0, 5).toString(), '%PDF-');
    });

    it('refuses a missing token (401)', async () => {
      const bare = new URL(url);
      bare.search = '';
      const res = await fetch(bare);
      assert.equal(res.status, 401);
      assert.ok(!(res.headers.get('content-type') ?? '').includes('pdf'));
    });

    it('refuses an altered token or a token for another report (403)', async () => {
      const token = url.searchParams.get('token')!;
      const [exp, sig] = token.split('.');
      const variants = [
        `${exp}.${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`,
        `${Number(exp) + 3600}.${sig}`,
        `${token}0`,
        'x',
      ];
      for (const t of variants) {
        const bad = new URL(url);
        bad.searchParams.set('token', t);
        assert.equal((await fetch(bad)).status, 403, t);
      }
      const otherId = new URL(url);
      otherId.pathname = `/reports/${'A'.repeat(22)}`;
      assert.equal((await fetch(otherId)).status, 403);
    });

    it('"export forwarding rules as CSV" in a channel links to a CSV of that check\u2019s findings', async function () {
      if (!findCheck('mail.forwarding')) this.skip();
      const n = teams.sent.length;
      await teams.say(megan, 'export forwarding rules as CSV', teams.channel());
      const [card] = cardsIn(since(n));
      assertValidTeamsCard(card);
      assert.match(textOf(card), /Mail forwarded outside: \d+ findings? as CSV/);
      const link = card.actions.find((a: any) => a.type === 'Action.OpenUrl').url;
      const res = await fetch(link);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/csv; charset=utf-8');
      const bytes = Buffer.from(await res.arrayBuffer());
      assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a UTF-8 byte-order mark, for Excel');
      const text = bytes.subarray(3).toString('utf8');
      assert.ok(text.startsWith('check_id,check_title,'));
      const rows = text.trim().split('\r\n').slice(1);
      assert.ok(rows.length >= 1);
      assert.ok(rows.every((r) => r.startsWith('mail.forwarding,')));
      assert.match(text, /Dana Whitfield/);
    });

    it('an unknown check in "export … as CSV" gets the list of what can be exported', async () => {
      const n = teams.sent.length;
      await teams.say(megan, 'export unicorns as CSV', teams.channel());
      assert.match(textOf(cardsIn(since(n))[0]), /I do not know a check called “unicorns”/);
    });

    it('refuses the link once it has expired (410), 15 minutes later', async () => {
      assert.equal((await fetch(url)).status, 200);
      clock += 15 * 60_000 + 1000;
      assert.equal((await fetch(url)).status, 410);
    });
  });
});
