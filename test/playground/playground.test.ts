/**
 * The vertical slice through the real Teams-like client: Vigil in-process on the demo tenant,
 * two Microsoft 365 Agents Playground instances (Alex Wilber, the requester; Megan Bowen, an
 * approver), each driven by Chromium through Playwright. The story is the one
 * test/e2e/verticalSlice.test.ts plays with a fake connector, but every activity here is shaped
 * by the Playground and every card is rendered by its Adaptive Cards renderer.
 *
 * Screenshots of each step (and of both pages when a step fails), the activities each
 * Playground exchanged with the bot and the Playground logs go to test-artifacts/playground/.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { startVigil, type Vigil } from '../../bot/index';
import { DEMO_USERS } from '../../bot/demo';
import {
  CHROMIUM_ARGS,
  chromiumCandidates,
  findChromium,
  freePort,
  recordActivities,
  REPO_ROOT,
  startPlayground,
  type Playground,
  type RecordedActivity,
} from '../support/playground';

const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts', 'playground');
const BOT_ID = '00000000-0000-4000-8000-0000000000b0'; // bot.id in both Playground configs
const SECURITY_CHANNEL_ID = '19:northwind-it-security@thread.tacv2';
/** The whole suite (start-up included) must finish within this; every wait is capped by what is left. */
const SUITE_BUDGET_MS = 85_000;
/** Longest single wait for something to appear in the UI. */
const STEP_WAIT_MS = 20_000;

interface Person {
  who: 'alex' | 'megan';
  name: string;
  playground: Playground;
  context: BrowserContext;
  page: Page;
  activities: RecordedActivity[];
}

describe('Agents Playground: the MFA fix story through the real Teams-like client', function () {
  this.timeout(90_000);

  let deadline = Date.now() + SUITE_BUDGET_MS;
  /** A wait bounded both by `ms` and by what is left of the suite's budget. */
  const within = (ms = STEP_WAIT_MS): number => Math.max(1_000, Math.min(ms, deadline - Date.now()));

  let tmp: string;
  let vigil: Vigil | undefined;
  const playgrounds: Playground[] = [];
  let browser: Browser | undefined;
  let alex: Person;
  let megan: Person;
  let shot = 0;

  const screenshot = async (p: Person, step: string): Promise<string> => {
    const file = path.join(ARTIFACTS, `${String(++shot).padStart(2, '0')}-${p.who}-${step}.png`);
    await p.page.screenshot({ path: file, fullPage: true });
    return file;
  };

  const requirementPatches = () =>
    vigil!.demo!.requests
      .map((r, index) => ({ ...r, index }))
      .filter((r) => r.method === 'PATCH' && /\/authentication\/requirements$/.test(r.path));

  /** The last rendered Adaptive Card on the page whose text matches. */
  const card = (page: Page, text: string | RegExp): Locator => page.locator('.ac-adaptiveCard', { hasText: text }).last();
  const waitForCard = async (page: Page, text: string | RegExp): Promise<Locator> => {
    const c = card(page, text);
    await c.waitFor({ state: 'visible', timeout: within() });
    return c;
  };

  before(async function () {
    this.timeout(45_000);
    deadline = Date.now() + SUITE_BUDGET_MS;
    const executablePath = findChromium();
    if (!executablePath) {
      const why = `Chromium not found (looked for ${chromiumCandidates().join(', ')}): install Debian's "chromium" package (.ci/run does) or set CHROMIUM_PATH to run the Agents Playground test`;
      if (process.env.CI && !/^(0|false)$/i.test(process.env.CI)) throw new Error(why);
      console.warn(`      SKIPPED: ${why}.`);
      this.skip();
    }

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    for (const f of fs.readdirSync(ARTIFACTS)) fs.rmSync(path.join(ARTIFACTS, f), { force: true });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-playground-'));
    vigil = await startVigil({ env: { PORT: '0', DATA_DIR: path.join(tmp, 'data'), LOG_LEVEL: 'silent' } });
    const botEndpoint = `http://127.0.0.1:${vigil.port}/api/messages`;

    const [alexPort, meganPort] = [await freePort(), await freePort()];
    // allSettled: if one fails to start, the other is still recorded so that `after` stops it.
    const started = await Promise.allSettled([
      startPlayground({ configPath: path.join(REPO_ROOT, '.m365agentsplayground.yml'), botEndpoint, port: alexPort, logFile: path.join(tmp, 'playground-alex.log'), cwd: tmp }),
      startPlayground({ configPath: path.join(REPO_ROOT, '.m365agentsplayground.approver.yml'), botEndpoint, port: meganPort, logFile: path.join(tmp, 'playground-megan.log'), cwd: tmp }),
    ]);
    for (const s of started) if (s.status === 'fulfilled') playgrounds.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const [alexPg, meganPg] = playgrounds;
    assert.notEqual(alexPg.port, meganPg.port);

    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
    const open = async (who: Person['who'], name: string, playground: Playground): Promise<Person> => {
      // Tall enough for a whole MFA card: the chat pane scrolls by itself, so fullPage alone would not show more.
      const context = await browser!.newContext({ viewport: { width: 1400, height: 1700 } });
      context.setDefaultTimeout(within());
      const page = await context.newPage();
      const activities = recordActivities(page);
      await page.goto(playground.url);
      try {
        // The Playground reads its config only now, when the UI connects; a bad file shows only in its log.
        await page.getByText(`Configuration file is loaded from ${playground.configPath}.`).waitFor({ timeout: within() });
        await page.getByText(name, { exact: true }).first().waitFor({ timeout: within() }); // currentUser, top right
      } catch (err) {
        throw new Error(`${name}'s Playground did not load ${playground.configPath}: ${(err as Error).message.split('\n')[0]}\nIts log:\n${playground.logTail()}`);
      }
      return { who, name, playground, context, page, activities };
    };
    [alex, megan] = await Promise.all([open('alex', DEMO_USERS.alex.name, alexPg), open('megan', DEMO_USERS.megan.name, meganPg)]);
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const p of [alex, megan]) {
      if (!p?.page || p.page.isClosed()) continue;
      const step = this.currentTest.title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40);
      await screenshot(p, `FAILED-${step}`).catch(() => undefined);
    }
  });

  after(async function () {
    this.timeout(20_000);
    const problems: unknown[] = [];
    const attempt = async (fn: () => Promise<unknown> | unknown) => {
      try {
        await fn();
      } catch (err) {
        problems.push(err);
      }
    };
    for (const p of [alex, megan]) {
      if (!p) continue;
      await attempt(() => fs.writeFileSync(path.join(ARTIFACTS, `${p.who}-activities.json`), JSON.stringify(p.activities, null, 2)));
    }
    await attempt(() => browser?.close());
    for (const pg of playgrounds) await attempt(() => pg.stop());
    for (const pg of playgrounds) await attempt(() => fs.existsSync(pg.logFile) && fs.copyFileSync(pg.logFile, path.join(ARTIFACTS, path.basename(pg.logFile))));
    await attempt(() => vigil?.stop());
    if (tmp) await attempt(() => fs.rmSync(tmp, { recursive: true, force: true }));
    if (problems.length) console.warn('playground test cleanup:', problems);
  });

  it('Megan makes Security the approvals channel with a real @mention', async () => {
    const { page } = megan;
    await page.getByRole('treeitem', { name: 'Northwind IT - Security' }).click();
    const postButton = page.getByRole('button', { name: 'Post', exact: true });
    await postButton.waitFor({ timeout: within() }); // the channel view, with its "Start a new post" box, is shown
    const post = page.getByRole('textbox').first(); // "Start a new post"
    await post.click();
    await post.pressSequentially('@Vi');
    await page.getByRole('menuitem', { name: 'Vigil' }).click();
    await post.pressSequentially(' use this channel for approvals');
    await screenshot(megan, 'mention-typed');
    await postButton.click();

    const confirmation = await waitForCard(page, 'This channel now receives approvals');
    assert.ok(await confirmation.getByText('This channel now receives approvals').isVisible());
    await screenshot(megan, 'approvals-channel-set');

    // What the Playground sent: a channel message whose mention entity names the bot.
    const sent = megan.activities.find((a) => a.activityName === 'message' && a.to === 'User Application' && /use this channel for approvals/.test(a.request?.body?.text ?? ''));
    assert.ok(sent, 'the Playground logged the message it sent to Vigil');
    const body = sent.request!.body!;
    assert.equal(body.conversation?.conversationType, 'channel');
    assert.equal(body.text, '<at>Vigil</at> use this channel for approvals');
    assert.ok(
      (body.entities ?? []).some((e: any) => e.type === 'mention' && e.mentioned?.id === BOT_ID && e.text === '<at>Vigil</at>'),
      `the message carries a mention of the bot: ${JSON.stringify(body.entities)}`,
    );

    // Bot side: the channel (not the thread) and Megan's Playground connector were saved.
    const saved = await vigil!.store.channels.get(vigil!.demo!.tenantId, 'approvals');
    assert.ok(saved, 'an approvals channel is stored');
    const ref = saved.ref as unknown as { conversation?: { id?: string }; serviceUrl?: string };
    assert.equal(ref.conversation?.id, SECURITY_CHANNEL_ID);
    assert.equal(ref.serviceUrl, megan.playground.serviceUrl);
    assert.equal(saved.setBy, DEMO_USERS.megan.id);
  });

  let target: { id: string; name: string; upn: string };

  it('Alex asks "who lacks MFA?" in his personal chat and sees the card', async () => {
    const { page } = alex;
    await page.getByRole('treeitem', { name: 'Personal Chat' }).click();
    const compose = page.getByRole('textbox').first();
    await compose.click();
    await compose.pressSequentially('who lacks MFA?');
    await compose.press('Enter');

    const mfa = await waitForCard(page, 'Who lacks MFA');
    await screenshot(alex, 'mfa-card');
    assert.ok(await mfa.getByText('Who lacks MFA', { exact: true }).isVisible(), 'title shown');
    assert.ok(await mfa.getByText(/\d+ of \d+ enabled member accounts have no MFA/).isVisible(), 'summary shown');
    assert.ok(await mfa.getByText('Joined 3 days ago', { exact: true }).isVisible(), 'the newest joiner is shown');
    const fixes = mfa.locator('.ac-actionSet').getByRole('button', { name: 'Require MFA' });
    assert.ok((await fixes.count()) >= 5, `one "Require MFA" per person (saw ${await fixes.count()})`);
    assert.ok(await fixes.first().isVisible(), 'a "Require MFA" button is shown');
    // Newest joiners first: the first row is the one who joined 3 days ago.
    const text = await mfa.innerText();
    assert.ok(text.indexOf('Joined 3 days ago') < text.indexOf('Joined 9 days ago'), 'newest joiners first');
    const chloe = DEMO_USERS.chloe;
    assert.ok(text.indexOf(chloe.name) < text.indexOf('Joined 3 days ago'), `${chloe.name} (joined 3 days ago) is listed first`);
    target = chloe;
  });

  it('Alex clicks the first "Require MFA": the card says it went for approval, and nothing is written yet', async () => {
    const { page } = alex;
    const mfa = card(page, 'Who lacks MFA');
    await mfa.locator('.ac-actionSet').getByRole('button', { name: 'Require MFA' }).first().click();

    // The invoke response card replaces the original in place.
    const updated = await waitForCard(page, 'Sent for approval to');
    await screenshot(alex, 'sent-for-approval');
    const text = await updated.innerText();
    assert.match(text, new RegExp(`Sent for approval to .+: Require MFA for ${target.name}\\.`));
    assert.ok(await updated.getByText(/^Awaiting approval( in Security\b.*)?$/).isVisible(), `${target.name}'s row says "Awaiting approval"`);
    assert.equal(requirementPatches().length, 0, 'nothing changes before approval');
  });

  it('"Sent for approval to …" names the approvals channel: Security', async () => {
    const text = await card(alex.page, 'Sent for approval to').innerText();
    const said = /Sent for approval to ([^:]+):/.exec(text)?.[1];
    // "Security" or "Security · Northwind IT" are both right; "the approvals channel" is the fallback for a missing name.
    assert.match(said ?? '', /^Security\b/, `Alex's card says "Sent for approval to ${said}"`);
    const saved = await vigil!.store.channels.get(vigil!.demo!.tenantId, 'approvals');
    assert.match(saved?.name ?? '(null)', /^Security\b/, `the stored approvals channel name is ${JSON.stringify(saved?.name)}`);
  });

  let requestsBeforeApproval = 0;

  it('Megan sees the approval card in Security and approves: it changes to "Approved by Megan Bowen at … — done"', async () => {
    const { page } = megan;
    let approval = await waitForCard(page, 'Approval needed: Require MFA');
    // Only approvers see Approve / Reject: Teams fetches that view through the card's refresh, which
    // the Playground never performs, so Megan uses the card's own Refresh button.
    const refresh = approval.getByRole('button', { name: 'Refresh', exact: true });
    if (await refresh.isVisible()) {
      await refresh.click();
      approval = await waitForCard(page, /Approval needed: Require MFA[\s\S]*Approve/);
    }
    const approve = approval.getByRole('button', { name: 'Approve', exact: true });
    const reject = approval.getByRole('button', { name: 'Reject', exact: true });
    assert.ok(await approve.isVisible(), 'Approve button shown');
    assert.ok(await reject.isVisible(), 'Reject button shown');
    const text = await approval.innerText();
    assert.match(text, /Asked by\s+Alex Wilber/);
    assert.ok(text.includes(`${target.name} (${target.upn})`), `the card names ${target.name}`);
    assert.ok(text.includes(`PATCH /beta/users/${target.id}/authentication/requirements`), 'the card shows the exact Graph call');
    await screenshot(megan, 'approval-card');

    // It was posted to the channel itself (a new post), through Megan's Playground.
    const posted = megan.activities.find((a) => a.from === 'User Application' && a.activityName === 'message' && /Approval needed: Require MFA/.test(JSON.stringify(a.request?.body ?? {})));
    assert.ok(posted, 'the Playground logged the approval card the bot posted');
    assert.equal(posted.request?.body?.conversation?.id, SECURITY_CHANNEL_ID, 'posted to the channel, not as a reply in a thread');

    requestsBeforeApproval = vigil!.demo!.requests.length;
    assert.equal(requirementPatches().length, 0);
    await approve.click();

    const decided = await waitForCard(page, /Approved by Megan Bowen at .+ — done/);
    await screenshot(megan, 'approved-done');
    assert.match(await decided.innerText(), /Approved by Megan Bowen at \d{4}-\d\d-\d\d \d\d:\d\d UTC — done\./);
    assert.equal(await decided.getByRole('button', { name: /Approve|Reject/ }).count(), 0, 'no buttons once decided');
    assert.equal(await page.locator('.ac-adaptiveCard', { hasText: 'Approval needed: Require MFA' }).count(), 0, 'the pending card was replaced, not duplicated');
  });

  it('Vigil made exactly one PATCH …/authentication/requirements, for that person, after the approval', async () => {
    const patches = requirementPatches();
    assert.equal(patches.length, 1, `exactly one PATCH: ${JSON.stringify(patches.map((p) => p.path))}`);
    const [patch] = patches;
    assert.ok(patch.index >= requestsBeforeApproval, `the PATCH (request #${patch.index}) came after the approval click (request #${requestsBeforeApproval})`);
    assert.equal(patch.path, `/users/${target.id}/authentication/requirements`);
    assert.equal(patch.version, 'beta');
    assert.deepEqual(patch.body, { perUserMfaState: 'enforced' });
    assert.ok(patch.status >= 200 && patch.status < 300, `PATCH answered ${patch.status}`);
  });

  it('Alex is told in his personal chat: "Done: Require MFA for …"', async () => {
    const done = await waitForCard(alex.page, `Done: Require MFA for ${target.name}`);
    await screenshot(alex, 'done');
    assert.ok(await done.isVisible());
    // Still exactly one write, and Megan's card still reads "done" (no late update overwrote it).
    assert.equal(requirementPatches().length, 1);
    assert.match(await card(megan.page, /Require MFA/).innerText(), /Approved by Megan Bowen at .+ — done/);
  });
});
