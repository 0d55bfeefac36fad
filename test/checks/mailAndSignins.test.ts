/**
 * mail.forwarding, signins.countries, signins.legacy on Graph-shaped JSON (messageRule,
 * signIn): rules to the tenant's own domains, disabled rules, the Exchange reader (configured
 * or not), grouping of sign-ins per person without duplicates, allowed countries, legacy clients
 * and what blocks them.
 */
import { strict as assert } from 'node:assert';
import type { MessageRule } from '@microsoft/microsoft-graph-types';
import { domainOf, evaluateMailForwarding, isExternal, mailForwarding, type MailForwardingReads } from '../../bot/checks/mailForwarding';
import { evaluateSigninsCountries, signinsCountries, type SignInRow, type SigninsCountriesReads } from '../../bot/checks/signinsCountries';
import { evaluateSigninsLegacy, legacyBlock, signinsLegacy, type SigninsLegacyReads } from '../../bot/checks/signinsLegacy';
import { caPolicy, daysAgo, NOW } from './fixtures';

const to = (address: string) => [{ emailAddress: { name: address, address } }];
const rule = (over: Partial<MessageRule>): MessageRule => ({ id: `r-${Math.random().toString(36).slice(2, 8)}`, displayName: 'Rule', sequence: 1, isEnabled: true, hasError: false, isReadOnly: false, conditions: {}, actions: {}, exceptions: null, ...over });
const user = (id: string, name = id) => ({ id, displayName: name, userPrincipalName: `${id}@contoso.com`, accountEnabled: true });

describe('mail.forwarding', () => {
  const verified = ['contoso.com', 'contoso.onmicrosoft.com', 'bücher.example'];
  const reads = (over: Partial<MailForwardingReads> = {}): MailForwardingReads => ({
    verifiedDomains: verified,
    mailboxes: [
      { user: user('dana', 'Dana'), rules: [rule({ id: 'r-inv', displayName: 'Invoices', actions: { forwardTo: to('acct@gmail.com'), markAsRead: true } })] },
      { user: user('isaiah'), rules: [rule({ id: 'r-old', displayName: 'Personal copy', isEnabled: false, actions: { redirectTo: to('me@outlook.com') } })] },
      {
        user: user('alex'),
        rules: [
          rule({ displayName: 'To Adele', actions: { forwardTo: to('adele@CONTOSO.com') } }),
          rule({ displayName: 'To the initial domain', actions: { forwardAsAttachmentTo: to('x@contoso.onmicrosoft.com') } }),
          rule({ displayName: 'IDN domain of ours', actions: { forwardTo: to('orders@bücher.example') } }),
          rule({ displayName: 'Exchange-internal X500', actions: { redirectTo: to('/o=ExchangeLabs/ou=Exchange Administrative Group/cn=Recipients/cn=adele') } }),
          rule({ displayName: 'Move only', actions: { moveToFolder: 'AAMk=' } }),
        ],
      },
      { user: user('harry', 'Harry ${pay} **now**'), rules: [rule({ id: 'r-pay', displayName: 'Payroll **${month}**', actions: { forwardAsAttachmentTo: to('h@protonmail.com'), delete: true } })] },
      { user: user('bg'), rules: [rule({ actions: { forwardTo: to('bg@gmail.com') } })] },
    ],
    withoutMailbox: 2,
    unreadable: 0,
    excludedAccounts: ['bg'],
    gaps: [],
    ...over,
  });

  it('knows the tenant’s own domains: case, initial domain, IDN, X500 addresses are inside', () => {
    const set = new Set(verified.map((d) => domainOf(`x@${d}`)));
    for (const a of ['a@CONTOSO.COM', 'b@contoso.onmicrosoft.com', 'c@bücher.example', 'd@xn--bcher-kva.example', '/o=ExchangeLabs/cn=x', 'smtp:e@contoso.com']) assert.equal(isExternal(a, set), false, a);
    for (const a of ['a@gmail.com', 'b@contoso.com.evil.io', 'c@sub.contoso.com']) assert.equal(isExternal(a, set), true, a);
  });

  const r = evaluateMailForwarding(reads(), NOW);

  it('an enabled external forward is high, with the disable-rule fix targeting the rule in its mailbox', () => {
    const f = r.findings.find((x) => x.subject.id === 'dana')!;
    assert.equal(f.severity, 'high');
    assert.match(f.detail, /forwards to acct@gmail.com, and marks it as read/);
    assert.equal(f.remediation, 'rule.disable');
    assert.deepEqual(f.target, { id: 'r-inv', displayName: 'Invoices', detail: 'dana@contoso.com', userId: 'dana' });
  });
  it('a disabled rule is low severity and offers deletion', () => {
    const f = r.findings.find((x) => x.subject.id === 'isaiah')!;
    assert.equal(f.severity, 'low');
    assert.equal(f.remediation, 'rule.delete');
    assert.match(f.detail, /\(disabled\)/);
  });
  it('rules forwarding to the tenant’s own domains are not findings, only counted', () => {
    assert.ok(!r.findings.some((f) => f.subject.id === 'alex'));
    assert.equal(r.data.internalForwards, 4);
  });
  it('names stay as written in the finding (the card escapes them)', () => {
    const f = r.findings.find((x) => x.subject.id === 'harry')!;
    assert.equal(f.subject.displayName, 'Harry ${pay} **now**');
    assert.match(f.detail, /Rule “Payroll \*\*\$\{month\}\*\*” forwards as attachment to h@protonmail.com, and deletes the original/);
  });
  it('excluded accounts are shown as excluded', () => assert.deepEqual(r.data.excluded.map((e) => e.id), ['bg']));
  it('without the Exchange reader: says "not configured", status from the rules', () => {
    assert.equal(r.data.exchangeReader, 'not configured');
    assert.equal(r.status, 'fail');
    assert.ok(r.data.notes.some((n) => /2 accounts with an address but no mailbox/.test(n)));
  });
  it('with the Exchange reader: mailbox forwarding outside and auto-forwarding On are findings', () => {
    const x = evaluateMailForwarding(
      reads({
        mailboxes: [],
        exchange: {
          mailboxForwarding: [
            { userPrincipalName: 'ceo@contoso.com', displayName: 'CEO', objectId: 'ceo', forwardingSmtpAddress: 'smtp:ceo@gmail.com', forwardingAddress: null, deliverToMailboxAndForward: false },
            { userPrincipalName: 'pa@contoso.com', displayName: 'PA', objectId: 'pa', forwardingSmtpAddress: 'smtp:boss@contoso.com', forwardingAddress: null, deliverToMailboxAndForward: true },
          ],
          autoForward: { outboundSpamPolicies: [{ name: 'Default', isDefault: true, autoForwardingMode: 'On' }], remoteDomains: [{ name: 'Default', domainName: '*', autoForwardEnabled: true }] },
        },
      }),
      NOW,
    );
    assert.equal(x.data.exchangeReader, 'configured');
    assert.deepEqual(x.findings.map((f) => f.subject.id).sort(), ['ceo', 'tenant:auto-forward']);
    assert.match(x.findings.find((f) => f.subject.id === 'ceo')!.detail, /ceo@gmail.com \(no copy kept\)/);
  });
  it('passes with nothing outside; blocked auto-forwarding is noted', () => {
    const x = evaluateMailForwarding(reads({ mailboxes: [], exchange: { mailboxForwarding: [], autoForward: { outboundSpamPolicies: [{ name: 'Default', isDefault: true, autoForwardingMode: 'Automatic' }], remoteDomains: [] } } }), NOW);
    assert.equal(x.status, 'pass');
    assert.ok(x.data.notes.some((n) => /blocked by policy \(Automatic\)/.test(n)));
  });
  it('answers "any forwarding rules?"', () => {
    for (const t of ['any forwarding rules', 'who forwards email outside', 'inbox rules', 'auto-forwarding']) assert.ok(mailForwarding.questions.some((q) => q.test(t)), t);
  });
});

const signIn = (over: Partial<SignInRow> & { country?: string; city?: string }): SignInRow => {
  const { country, city, ...rest } = over;
  return {
    id: `s-${Math.random().toString(36).slice(2, 10)}`,
    createdDateTime: daysAgo(1),
    userId: 'u1',
    userDisplayName: 'User',
    userPrincipalName: 'u1@contoso.com',
    appDisplayName: 'Office 365 Exchange Online',
    ipAddress: '1.2.3.4',
    clientAppUsed: 'Browser',
    location: { city: city ?? 'Bristol', state: null, countryOrRegion: country ?? 'GB', geoCoordinates: null },
    status: { errorCode: 0, failureReason: 'Other.', additionalDetails: null },
    ...rest,
  };
};

describe('signins.countries', () => {
  const dup = signIn({ id: 'dup', userId: 'dana', userDisplayName: 'Dana', country: 'NG', city: 'Lagos', createdDateTime: daysAgo(2) });
  const reads = (over: Partial<SigninsCountriesReads> = {}): SigninsCountriesReads => ({
    configuredCountries: [],
    tenantCountry: 'GB',
    days: 30,
    since: daysAgo(30),
    signIns: [
      signIn({ userId: 'alex' }),
      dup,
      { ...dup }, // the same sign-in again (pages overlapping)
      signIn({ userId: 'dana', userDisplayName: 'Dana', country: 'NG', city: 'Abuja', createdDateTime: daysAgo(5) }),
      signIn({ userId: 'dana', userDisplayName: 'Dana', country: 'RU', city: 'Moscow', createdDateTime: daysAgo(6) }),
      signIn({ userId: 'zoe', userDisplayName: 'Zoë ${x}', country: 'ES', city: 'Málaga', createdDateTime: daysAgo(10) }),
      signIn({ userId: 'bg', userPrincipalName: 'breakglass@contoso.onmicrosoft.com', country: 'US' }),
      signIn({ userId: 'nowhere', country: '' }),
    ],
    excludedAccounts: ['breakglass@contoso.onmicrosoft.com'],
    gaps: [],
    ...over,
  });
  const r = evaluateSigninsCountries(reads(), NOW);

  it('one finding per person, every country named once, duplicates counted once', () => {
    assert.deepEqual(r.findings.map((f) => f.subject.id), ['dana', 'zoe']);
    const dana = r.findings[0];
    assert.match(dana.detail, /^3 successful sign-ins from Nigeria \(Lagos, Abuja\) ×2, Russia \(Moscow\) ×1 · last 2 days ago$/);
    assert.equal(dana.key, 'NG,RU');
    assert.equal(dana.remediation, 'user.revokeSessions');
  });
  it('the tenant’s country is allowed by default; ALLOWED_COUNTRIES replaces it', () => {
    assert.deepEqual(r.data.allowed, ['GB']);
    const withSpain = evaluateSigninsCountries(reads({ configuredCountries: ['gb', 'es'] }), NOW);
    assert.deepEqual(withSpain.findings.map((f) => f.subject.id), ['dana']);
  });
  it('excluded accounts and sign-ins without a location are not findings', () => {
    assert.deepEqual(r.data.excluded.map((e) => e.id), ['bg']);
    assert.ok(r.data.notes.some((n) => /1 sign-in had no location/.test(n)));
  });
  it('unknown without sign-in logs (no P1) — and says so', () => {
    const x = evaluateSigninsCountries(reads({ signIns: null, gaps: [{ what: 'Sign-in logs', reason: 'licence', licence: 'Microsoft Entra ID P1' }] }), NOW);
    assert.equal(x.status, 'unknown');
    assert.equal(x.gaps[0].licence, 'Microsoft Entra ID P1');
  });
  it('unknown when no country is known at all', () => assert.equal(evaluateSigninsCountries(reads({ tenantCountry: null }), NOW).status, 'unknown'));
  it('answers "any strange sign-ins?"', () => {
    for (const t of ['any strange sign-ins', 'suspicious logins', 'sign-ins from abroad', 'who signed in from another country']) assert.ok(signinsCountries.questions.some((q) => q.test(t)), t);
  });
});

describe('signins.legacy', () => {
  const reads = (over: Partial<SigninsLegacyReads> = {}): SigninsLegacyReads => ({
    days: 30,
    signIns: [
      signIn({ userId: 'lynne', userDisplayName: 'Lynne', clientAppUsed: 'IMAP4', createdDateTime: daysAgo(1) }),
      signIn({ userId: 'lynne', userDisplayName: 'Lynne', clientAppUsed: 'Authenticated SMTP', createdDateTime: daysAgo(3) }),
      signIn({ userId: 'spray', userDisplayName: 'Target', clientAppUsed: 'Other clients', status: { errorCode: 50126, failureReason: 'bad password', additionalDetails: null } }),
    ],
    securityDefaults: false,
    policies: [],
    excludedAccounts: [],
    gaps: [],
    ...over,
  });

  it('successful legacy sign-ins with nothing blocking them fail, grouped per person', () => {
    const r = evaluateSigninsLegacy(reads(), NOW);
    assert.equal(r.status, 'fail');
    assert.equal(r.findings[0].subject.id, 'tenant:block-legacy-auth');
    const lynne = r.findings.find((f) => f.subject.id === 'lynne')!;
    assert.equal(lynne.severity, 'high');
    assert.match(lynne.detail, /Authenticated SMTP, IMAP4 · 2 successful sign-ins · last yesterday/);
    const spray = r.findings.find((f) => f.subject.id === 'spray')!;
    assert.equal(spray.severity, 'low');
    assert.match(spray.detail, /1 failed sign-in/);
  });
  const blockTable: Array<[string, Parameters<typeof legacyBlock>[1], boolean]> = [
    ['enforced block of legacy clients for everyone', [caPolicy({ displayName: 'Block legacy', grantControls: { builtInControls: ['block'] }, conditions: { clientAppTypes: ['exchangeActiveSync', 'other'] }, users: { excludeUsers: ['bg'] } })], true],
    ['report-only block', [caPolicy({ state: 'enabledForReportingButNotEnforced', grantControls: { builtInControls: ['block'] }, conditions: { clientAppTypes: ['exchangeActiveSync', 'other'] } })], false],
    ['block only ActiveSync', [caPolicy({ grantControls: { builtInControls: ['block'] }, conditions: { clientAppTypes: ['exchangeActiveSync'] } })], false],
    ['block legacy for one group', [caPolicy({ grantControls: { builtInControls: ['block'] }, conditions: { clientAppTypes: ['exchangeActiveSync', 'other'] }, users: { includeUsers: [], includeGroups: ['g'] } })], false],
    ['an MFA policy (not a block)', [caPolicy()], false],
  ];
  for (const [name, policies, blocked] of blockTable) {
    it(`${name} → ${blocked ? 'blocks' : 'does not block'}`, () => assert.equal(legacyBlock(false, policies).blocked, blocked));
  }
  it('security defaults block legacy authentication', () => assert.equal(legacyBlock(true, []).by, 'security defaults'));
  it('with a block in place and no use: pass', () => {
    const r = evaluateSigninsLegacy(reads({ signIns: [], securityDefaults: true }), NOW);
    assert.equal(r.status, 'pass');
    assert.equal(r.findings.length, 0);
  });
  it('says what is not enough', () => {
    const r = evaluateSigninsLegacy(reads({ policies: [caPolicy({ displayName: 'Block legacy (test)', state: 'enabledForReportingButNotEnforced', grantControls: { builtInControls: ['block'] }, conditions: { clientAppTypes: ['exchangeActiveSync', 'other'] } })] }), NOW);
    assert.match(r.findings[0].detail, /Not enough: “Block legacy \(test\)”: report-only/);
  });
  it('answers "legacy auth?"', () => {
    for (const t of ['legacy auth', 'is legacy authentication blocked', 'basic auth', 'who uses imap']) assert.ok(signinsLegacy.questions.some((q) => q.test(t)), t);
  });
});
