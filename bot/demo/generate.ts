/**
 * Synthetic tenants for benchmarks (1k–100k users) in realistic proportions: ~5% without MFA,
 * ~2% with an external forwarding rule, a handful of admins (one of them without MFA in big
 * tenants), ~3% guests and ~2% disabled accounts (neither with a mailbox), ~2% licensed members
 * without a mailbox, a sign-in per user over the last week (a few failed, from abroad or over
 * legacy protocols) and `signInActivity` with ~4% stale accounts.
 *
 * The fields added after the first version draw from a second random stream, so a given
 * `seed` still yields the same MFA gaps, rules and join dates as before.
 *
 * Objects are built one by one in plain loops (no giant JSON strings); the server
 * serialises them a page at a time.
 */
import { DAY_MS, guidFrom, outlookId, prng } from './ids';
import { PASSWORD_METHOD_ID, ROLE_TEMPLATE_IDS, SKU_BUSINESS_PREMIUM, defaultSeed, roleAssignmentId } from './seed';
import type { DemoAuthMethod, DemoTenantSeed, DemoUserRecord } from './state';

export interface GenerateSeedOptions {
  users: number;
  /** Deterministic output for the same seed (default 1). */
  seed?: number;
  now?: Date;
  tenantId?: string;
  /** e.g. "contoso" → contoso.example / contoso.onmicrosoft.com */
  name?: string;
  /** Fraction of enabled members without any MFA method (default 0.05). */
  withoutMfaRate?: number;
  /** Fraction of users with an inbox rule forwarding outside (default 0.02). */
  forwardingRate?: number;
  /** Number of Global Administrators (default 5). */
  admins?: number;
  /** Sign-ins per user over the last 7 days (default 1; 0 for none). */
  signInsPerUser?: number;
  /** Fraction of guests (B2B, no licence, no mailbox; default 0.03). */
  guestRate?: number;
  /** Fraction of disabled accounts (default 0.02; they keep their licence but never sign in). */
  disabledRate?: number;
  /** Fraction of members without a mailbox (no licence; default 0.02). */
  withoutMailboxRate?: number;
  /** Admins without MFA (default 1 from 1,000 users, else 0). */
  adminsWithoutMfa?: number;
}

const GIVEN = ['Alex', 'Sam', 'Jordan', 'Taylor', 'Morgan', 'Casey', 'Jamie', 'Riley', 'Avery', 'Quinn', 'Zoë', 'José', 'Siobhán', 'Łukasz', 'Ngozi', 'Wei', 'Aarav', 'Fatima'];
const SURNAME = ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Patel', 'Wright', 'Núñez', 'Ångström', 'Okafor', 'Chen', 'Kowalski', 'Murphy'];
const DEPARTMENTS = ['Sales', 'Finance', 'Operations', 'Engineering', 'Support', 'HR', 'Marketing'];

export function generateSeed(opts: GenerateSeedOptions): DemoTenantSeed {
  const now = opts.now ?? new Date();
  const rnd = prng(opts.seed ?? 1);
  const name = (opts.name ?? `synthetic${opts.users}`).toLowerCase();
  const tenantId = opts.tenantId ?? guidFrom(`tenant/${name}/${opts.seed ?? 1}`);
  const domain = `${name}.example`;
  const initial = `${name}.onmicrosoft.com`;
  const noMfaRate = opts.withoutMfaRate ?? 0.05;
  const fwdRate = opts.forwardingRate ?? 0.02;
  const admins = Math.min(opts.admins ?? 5, opts.users);
  const signInsPerUser = opts.signInsPerUser ?? 1;
  const rnd2 = prng(((opts.seed ?? 1) * 7919 + 17) >>> 0);
  const guestRate = opts.guestRate ?? 0.03;
  const disabledRate = opts.disabledRate ?? 0.02;
  const noMailboxRate = opts.withoutMailboxRate ?? 0.02;
  const adminsWithoutMfa = Math.min(admins, opts.adminsWithoutMfa ?? (opts.users >= 1000 ? 1 : 0));
  // Ids: a tenant-specific prefix + a counter — unique, deterministic, cheap.
  const prefix = tenantId.slice(0, 8);
  const userId = (i: number) => `${prefix}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

  const users: DemoUserRecord[] = new Array(opts.users);
  const signIns: DemoTenantSeed['signIns'] = [];
  for (let i = 0; i < opts.users; i++) {
    const given = GIVEN[i % GIVEN.length];
    const surname = SURNAME[Math.floor(i / GIVEN.length) % SURNAME.length];
    const id = userId(i);
    const upn = `user${i}@${domain}`;
    const createdDaysAgo = 30 + Math.floor(rnd() * 1400);
    const created = new Date(now.getTime() - createdDaysAgo * DAY_MS).toISOString();
    const isAdmin = i < admins;
    // The last admins are the ones without MFA (the first stays a clean break-glass account).
    const adminLacksMfa = isAdmin && i >= admins - adminsWithoutMfa;
    const drawnMfa = isAdmin || rnd() >= noMfaRate;
    const hasMfa = drawnMfa && !adminLacksMfa;
    // Second stream: account kind, mailbox, sign-in activity.
    const kind = rnd2();
    const isGuest = !isAdmin && kind < guestRate;
    const isDisabled = !isAdmin && !isGuest && kind < guestRate + disabledRate;
    const noMailbox = isGuest || (!isAdmin && !isDisabled && kind < guestRate + disabledRate + noMailboxRate);
    const activity = rnd2();
    const lastSignInDaysAgo = isDisabled ? 120 + Math.floor(activity * 400) : activity < 0.04 ? 91 + Math.floor(activity * 5000) : Math.floor(activity * 7);
    const neverSignedIn = !isDisabled && activity > 0.99;
    const methods: DemoAuthMethod[] = [{ '@odata.type': '#microsoft.graph.passwordAuthenticationMethod', id: PASSWORD_METHOD_ID, password: null, createdDateTime: created }];
    if (hasMfa) {
      methods.push(
        rnd() < 0.8
          ? { '@odata.type': '#microsoft.graph.microsoftAuthenticatorAuthenticationMethod', id: guidFrom(`${id}/a`), displayName: 'Phone', deviceTag: 'SoftwareTokenActivated', phoneAppVersion: '6.2401.0119', createdDateTime: created }
          : { '@odata.type': '#microsoft.graph.phoneAuthenticationMethod', id: '3179e48a-750b-4051-897c-87b9720928f7', phoneNumber: `+44 7700 ${String(900000 + (i % 99999)).slice(0, 6)}`, phoneType: 'mobile', smsSignInState: 'notAllowedByPolicy' },
      );
    }
    const guestUpn = `user${i}_partner.example#EXT#@${initial}`;
    const lastSignIn = new Date(now.getTime() - lastSignInDaysAgo * DAY_MS - 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const rec: DemoUserRecord = {
      user: {
        id,
        displayName: `${given} ${surname} ${i}`,
        givenName: given,
        surname,
        userPrincipalName: isGuest ? guestUpn : upn,
        mail: isGuest ? `user${i}@partner.example` : upn,
        accountEnabled: !isDisabled,
        userType: isGuest ? 'Guest' : 'Member',
        createdDateTime: created,
        jobTitle: null,
        department: DEPARTMENTS[i % DEPARTMENTS.length],
        usageLocation: 'GB',
        businessPhones: [],
        assignedLicenses: noMailbox ? [] : [{ skuId: SKU_BUSINESS_PREMIUM, disabledPlans: [] }],
        signInActivity: neverSignedIn
          ? { lastSignInDateTime: null, lastNonInteractiveSignInDateTime: null, lastSuccessfulSignInDateTime: null }
          : { lastSignInDateTime: lastSignIn, lastNonInteractiveSignInDateTime: lastSignIn, lastSuccessfulSignInDateTime: lastSignIn },
      },
      hasMailbox: !noMailbox,
      perUserMfaState: 'disabled',
      methods,
      inboxRules: [],
    };
    if (rnd() < fwdRate && !noMailbox) {
      rec.inboxRules.push({
        id: outlookId(`${id}/rule`),
        displayName: 'Forward',
        sequence: 1,
        isEnabled: true,
        hasError: false,
        isReadOnly: false,
        conditions: {},
        actions: { forwardTo: [{ emailAddress: { name: 'Personal', address: `user${i}.personal@gmail.com` } }] },
      });
    }
    users[i] = rec;
    for (let s = 0; s < signInsPerUser; s++) {
      const drawn = new Date(now.getTime() - Math.floor(rnd() * 7 * DAY_MS) - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      // The newest sign-in is the one signInActivity reports.
      const at = s === 0 ? lastSignIn : drawn < lastSignIn ? drawn : lastSignIn;
      // Disabled and stale accounts have no sign-in this week.
      if (isDisabled || neverSignedIn || lastSignInDaysAgo > 7) continue;
      const odd = rnd2();
      const failed = odd < 0.03;
      const abroad = odd >= 0.03 && odd < 0.04;
      const legacy = odd >= 0.04 && odd < 0.05;
      signIns.push({
        id: guidFrom(`${id}/signin/${s}`),
        createdDateTime: at,
        userId: id,
        userDisplayName: rec.user.displayName,
        userPrincipalName: rec.user.userPrincipalName,
        appDisplayName: 'Office 365 Exchange Online',
        clientAppUsed: legacy ? 'IMAP4' : 'Browser',
        ipAddress: abroad ? `45.83.${i % 255}.${s % 255}` : `81.2.${i % 255}.${s % 255}`,
        location: abroad ? { city: 'Lagos', state: 'Lagos', countryOrRegion: 'NG' } : { city: 'London', state: 'London', countryOrRegion: 'GB' },
        status: failed ? { errorCode: 50126, failureReason: 'Error validating credentials due to invalid username or password.' } : { errorCode: 0, failureReason: 'Other.' },
        conditionalAccessStatus: 'notApplied',
        isInteractive: true,
      });
    }
  }

  // Reuse the demo tenant's static parts (role definitions, controls, policies) with new ids.
  const base = defaultSeed(now);
  return {
    ...base,
    tenantId,
    organization: {
      ...base.organization,
      id: tenantId,
      displayName: `${name} (synthetic)`,
      verifiedDomains: [
        { capabilities: 'Email, OfficeCommunicationsOnline', isDefault: true, isInitial: false, name: domain, type: 'Managed' },
        { capabilities: 'Email, OfficeCommunicationsOnline', isDefault: false, isInitial: true, name: initial, type: 'Managed' },
      ],
    },
    domains: [
      { ...base.domains[0], id: domain },
      { ...base.domains[1], id: initial },
    ],
    skus: [{ ...base.skus[0], id: `${tenantId}_${SKU_BUSINESS_PREMIUM}`, accountId: tenantId, prepaidUnits: { enabled: opts.users, suspended: 0, warning: 0, lockedOut: 0 } }],
    users,
    groups: [],
    roleAssignments: users.slice(0, admins).map((u) => ({
      id: roleAssignmentId(ROLE_TEMPLATE_IDS.globalAdministrator, u.user.id),
      principalId: u.user.id,
      roleDefinitionId: ROLE_TEMPLATE_IDS.globalAdministrator,
      directoryScopeId: '/',
    })),
    roleEligibilities: [],
    signIns,
    riskyUsers: [],
    secureScores: base.secureScores.map((s) => ({ ...s, id: s.id.replace(base.tenantId, tenantId), azureTenantId: tenantId, activeUserCount: opts.users, licensedUserCount: opts.users })),
    secureScoreControlProfiles: base.secureScoreControlProfiles.map((p) => ({ ...p, azureTenantId: tenantId })),
  };
}
