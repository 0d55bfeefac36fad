/**
 * Every check's card and the posture card: schema-valid for Teams, under 28 KB, text from Graph
 * shown literally (names with `${…}` and markdown), charts with fallbacks, excluded accounts and
 * "what I could not check" shown. Results come from the demo tenant with tricky names planted.
 */
import { strict as assert } from 'node:assert';
import { literal } from '../../cards';
import { renderCheckCard, type RenderedFinding } from '../../bot/chat/checkCards';
import { renderPosture, runAllChecks, topFindings } from '../../bot/chat/posture';
import { CHECKS, CheckRunner, findCheck } from '../../bot/checks';
import { DEMO_USERS, startDemoTenant, type DemoTenant } from '../../bot/demo';
import { DEMO_EXCLUDED_ACCOUNTS } from '../../bot/demo/seed';
import { GraphApi } from '../../bot/graph/api';
import { createCredential, createGraphClient } from '../../bot/graph/client';
import type { CheckResult, Finding } from '../../bot/checks/types';
import { assertValidTeamsCard, MAX_CARD_BYTES } from '../support/cardSchema';
import { textOf } from '../support/fakeTeams';
import { TRICKY_NAMES } from './fixtures';

const TRICKY_USER = '${user.password} **Bold** _x_ [click](http://evil)';
const TRICKY_POLICY = 'MFA <b>${policy}</b> `risky`';

function page(result: CheckResult, from = 0): { rows: RenderedFinding[]; firstIndex: number; moreRef: string; now: Date } {
  const shown = result.findings.slice(from, from + 10);
  return {
    rows: shown.map((finding, i) => ({ finding, fixRef: finding.remediation ? `ref${i}AAAAAAAAAAAAAAAA` : '', fixTitle: finding.remediation ? 'Fix it' : '', status: '' })),
    firstIndex: from + 1,
    moreRef: result.findings.length > from + 10 ? 'moreAAAAAAAAAAAAAAAA' : '',
    now: new Date(),
  };
}

describe('check cards and the posture card', function () {
  this.timeout(60_000);
  let demo: DemoTenant;
  let results: CheckResult[];

  before(async () => {
    demo = await startDemoTenant();
    demo.knobs.licences.entraP2 = true;
    const t = demo.tenant();
    // Names straight from Graph that must not be evaluated nor formatted.
    t.findUser(DEMO_USERS.dana.id)!.user.displayName = TRICKY_USER;
    t.findUser(DEMO_USERS.dana.id)!.inboxRules[0].displayName = 'Invoices ${amount} **urgent**';
    const risky = [...t.conditionalAccessPolicies.values()].find((p) => p.state === 'enabled')!;
    risky.displayName = TRICKY_POLICY;
    t.riskyUsers[0].userDisplayName = TRICKY_USER;
    const credential = createCredential({ tenantId: demo.tenantId, clientId: demo.clientId, clientSecret: demo.clientSecret, authorityHost: demo.baseUrl }, demo.caCertPem);
    const graph = new GraphApi(createGraphClient({ baseUrl: demo.baseUrl, credential, trustedCaPem: demo.caCertPem }), demo.tenantId);
    const runner = new CheckRunner(() => graph, () => new Date(), 60_000, { excludedAccounts: DEMO_EXCLUDED_ACCOUNTS, allowedCountries: [], signInLookbackDays: 30 });
    results = await runAllChecks(runner, demo.tenantId);
  });
  after(async () => demo?.close());

  it('every check’s card, every page, is valid for Teams and under 28 KB', () => {
    for (const r of results) {
      const check = findCheck(r.id)!;
      for (let from = 0; from < Math.max(1, r.findings.length); from += 10) {
        const card = renderCheckCard(check, r, page(r, from));
        try {
          assertValidTeamsCard(card);
        } catch (err) {
          throw new Error(`${r.id} page ${from / 10 + 1}: ${(err as Error).message}`);
        }
      }
    }
  });

  it('shows names from Graph literally: markdown escaped, ${…} never evaluated', () => {
    const texts = results.map((r) => textOf(renderCheckCard(findCheck(r.id)!, r, page(r)))).join('\n');
    assert.ok(texts.includes(literal(TRICKY_USER)), 'escaped user name');
    assert.ok(texts.includes('${user.password}'), 'template syntax stays literal');
    assert.ok(texts.includes(literal('“Invoices ${amount} **urgent**”')), 'escaped rule name');
    assert.ok(texts.includes(literal(TRICKY_POLICY)), 'escaped policy name');
    assert.ok(!/[^\\]\*\*Bold\*\*/.test(texts), 'no live markdown');
    assert.ok(texts.includes('Payroll \\*\\*${month}\\*\\* \\[urgent\\] \\_copy\\_'), 'the demo’s own tricky rule name');
  });

  it('shows excluded accounts, notes, and what could not be checked', () => {
    const enforcement = results.find((r) => r.id === 'mfa.enforcement')!;
    const text = textOf(renderCheckCard(findCheck('mfa.enforcement')!, enforcement, page(enforcement)));
    assert.match(text, /Excluded \(break-glass, EXCLUDED\\_ACCOUNTS\), not listed: Emergency Access \(break glass\)/);
    assert.match(text, /Not counted: “MFA &lt;b&gt;|Not counted: “MFA \\<b\\>/);
    const mail = results.find((r) => r.id === 'mail.forwarding')!;
    assert.match(textOf(renderCheckCard(findCheck('mail.forwarding')!, mail, page(mail))), /What I could not check[\s\S]*Exchange Online reader is not configured/);
  });

  it('charts always have a fallback (Teams iOS): MFA enforced donut, Secure Score line', () => {
    for (const id of ['mfa.enforcement', 'securescore']) {
      const r = results.find((x) => x.id === id)!;
      const json = JSON.stringify(renderCheckCard(findCheck(id)!, r, page(r)));
      assert.match(json, id === 'securescore' ? /"Chart\.Line"/ : /"Chart\.Donut"/);
    }
  });

  it('any name from Graph — unicode, markdown, ${…}, mentions — comes out of a card as written', () => {
    for (const name of TRICKY_NAMES) {
      const r: CheckResult = {
        ...results.find((x) => x.id === 'admins.count')!,
        findings: [{ severity: 'medium', subject: { id: 'x', displayName: name, userPrincipalName: `${name}@contoso.com` }, detail: `Rule “${name}”`, remediation: null }],
      };
      const card = renderCheckCard(findCheck('admins.count')!, r, page(r));
      assertValidTeamsCard(card);
      const text = textOf(card);
      assert.ok(text.includes(literal(name)), name);
      assert.ok(text.includes(literal(`Rule “${name}”`)), name);
    }
  });

  it('a long list pages 10 at a time and stays small', () => {
    const many: Finding[] = Array.from({ length: 250 }, (_, i) => ({
      severity: 'medium',
      subject: { id: `u${i}`, displayName: `Person ${i} ${'Ångström '.repeat(4)}`, userPrincipalName: `person${i}@contoso.com` },
      detail: 'MFA is not required. '.repeat(6),
      remediation: 'mfa.require',
    }));
    const r: CheckResult = { ...results.find((x) => x.id === 'mfa.enforcement')!, findings: many };
    const card = renderCheckCard(findCheck('mfa.enforcement')!, r, page(r, 240));
    const size = assertValidTeamsCard(card);
    assert.ok(size.utf8Bytes < MAX_CARD_BYTES);
    assert.match(textOf(card), /Showing 241–250 of 250/);
  });

  it('posture: red/amber/green per check, Secure Score, a donut with fallback, top 3 with fix buttons', async () => {
    const views: string[] = [];
    const offers: string[] = [];
    const card = await renderPosture(results, {
      viewRef: async (id) => {
        views.push(id);
        return `view${views.length}AAAAAAAAAAAAAAAA`;
      },
      offer: async (t) => {
        offers.push(`${t.checkId}:${t.finding.subject.id}`);
        return t.finding.remediation ? { fixRef: `offer${offers.length}AAAAAAAAAAAA`, fixTitle: 'Fix', status: '' } : { fixRef: '', fixTitle: '', status: 'No automatic fix: see the check' };
      },
    });
    const size = assertValidTeamsCard(card);
    assert.ok(size.utf8Bytes < MAX_CARD_BYTES, `${size.utf8Bytes} bytes`);
    assert.deepEqual(views, CHECKS.map((c) => c.id), 'a Details button per check');
    assert.equal(offers.length, 3);
    const text = textOf(card);
    assert.match(text, /Security posture/);
    assert.match(text, /Microsoft Secure Score/);
    assert.match(text, /\d+ \/ 80/);
    assert.match(text, /Top 3 things to fix/);
    assert.match(JSON.stringify(card), /"Chart\.Donut"/);
    const dots: string[] = [];
    JSON.stringify(card, (k, v) => {
      if (v && typeof v === 'object' && (v as { text?: string }).text === '●') dots.push((v as { color: string }).color);
      return v;
    });
    const colour = { fail: 'Attention', warn: 'Warning', pass: 'Good', unknown: 'Default' } as const;
    assert.deepEqual(dots, results.map((r) => colour[r.status]), 'one red/amber/green/grey dot per check');
  });

  it('top 3: the most severe, fixable first, one per check, active compromise before hygiene', () => {
    const top = topFindings(results);
    assert.equal(top.length, 3);
    assert.equal(new Set(top.map((t) => t.checkId)).size, 3, 'three different checks');
    assert.ok(top.every((t) => t.finding.severity === 'high'));
    assert.equal(top[0].checkId, 'risky.users', JSON.stringify(top.map((t) => t.checkId)));
  });
});
