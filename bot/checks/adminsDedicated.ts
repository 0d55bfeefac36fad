/**
 * admins.dedicated — admin accounts that hold licences or a mailbox. An admin should sign in to
 * a separate, unlicensed, cloud-only account for admin work only: one that reads mail and browses
 * the web is one phishing click from a tenant takeover. Entra ID P1/P2 licences are fine on an
 * admin account (PIM and Conditional Access need them) and are not reported.
 *
 * Reads: privileged role holders (as admins.mfa); their licences ($batch of `id in (…)`), the
 * tenant's SKUs (one request) to name them, and a mailbox probe per admin ($batch of
 * GET /users/{id}/mailboxSettings — 404 MailboxNotEnabledForRESTAPI means no mailbox).
 */
import type { SubscribedSku } from '@microsoft/microsoft-graph-types';
import { GLOBAL_ADMIN_ROLE, must, readRoleHolders, usersByIds, type RoleHolder, type UserFacts } from './graphReads';
import { ADMINS } from './adminsMfa';
import { gapFor } from './mfaRegistration';
import { excludedMatcher } from './settings';
import type { Check, CheckResult, Finding, Gap, Subject } from './types';

export interface AdminsDedicatedReads {
  holders: RoleHolder[];
  accounts: Record<string, Pick<UserFacts, 'id' | 'displayName' | 'userPrincipalName' | 'accountEnabled' | 'assignedLicenses'>>;
  /** skuId → skuPartNumber; null = could not read */
  skus: Record<string, string> | null;
  /** Has an Exchange Online mailbox, per admin id (lower-cased); absent = unknown. */
  mailbox: Record<string, boolean>;
  excludedAccounts: string[];
  gaps: Gap[];
}

export interface AdminsDedicatedData {
  admins: number;
  dedicated: number;
  excluded: Subject[];
  notes: string[];
}

/** Licences that belong on an admin account. */
const ADMIN_OK_SKUS = new Set(['AAD_PREMIUM', 'AAD_PREMIUM_P2', 'AAD_PREMIUM_FACULTY', 'AAD_PREMIUM_P2_FACULTY', 'Microsoft_Entra_ID_Governance', 'Microsoft_Entra_Suite']);
/** Friendly names of common SKUs; anything else shows its part number. */
const SKU_NAMES: Record<string, string> = {
  SPB: 'Microsoft 365 Business Premium',
  O365_BUSINESS_PREMIUM: 'Microsoft 365 Business Standard',
  O365_BUSINESS_ESSENTIALS: 'Microsoft 365 Business Basic',
  SPE_E3: 'Microsoft 365 E3',
  SPE_E5: 'Microsoft 365 E5',
  ENTERPRISEPACK: 'Office 365 E3',
  ENTERPRISEPREMIUM: 'Office 365 E5',
  STANDARDPACK: 'Office 365 E1',
  EXCHANGESTANDARD: 'Exchange Online (Plan 1)',
  EXCHANGEENTERPRISE: 'Exchange Online (Plan 2)',
  SPE_F1: 'Microsoft 365 F3',
};

export const adminsDedicated: Check<AdminsDedicatedReads, AdminsDedicatedData> = {
  id: 'admins.dedicated',
  title: 'Admins using everyday accounts',
  why: 'Admin work belongs on a separate, unlicensed account without a mailbox: an admin who reads mail and browses the web is one phishing click from a tenant takeover.',
  ask: 'do admins use separate accounts?',
  questions: [
    new RegExp(String.raw`\b${ADMINS}\b.*\b(?:licen[cs]es?|licensed|mailbox(?:es)?|dedicated|separate|shared|everyday|daily|e-?mail)\b`),
    new RegExp(String.raw`\b(?:dedicated|separate|licensed|unlicensed)\s+${ADMINS}\b`),
  ],
  reads: [
    { request: 'GET /roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq …&$expand=principal (in $batch)', permission: 'RoleManagement.Read.Directory' },
    { request: 'GET /users?$filter=id in (…)&$select=assignedLicenses (in $batch)', permission: 'User.Read.All' },
    { request: 'GET /subscribedSkus', permission: 'LicenseAssignment.Read.All' },
    { request: 'GET /users/{id}/mailboxSettings (in $batch, admins only)', permission: 'MailboxSettings.Read' },
  ],
  read: async (ctx) => {
    const graph = ctx.graph;
    const roles = await must(readRoleHolders(graph), 'Role holders', 'RoleManagement.Read.Directory');
    const gaps = [...roles.gaps];
    const ids = [...new Set(roles.holders.filter((h) => h.principalType === 'user').map((h) => h.principalId))];
    const accounts = await must(usersByIds(graph, ids, 'id,displayName,userPrincipalName,accountEnabled,assignedLicenses'), 'Admin accounts and licences', 'User.Read.All');
    const skus = await graph
      .all<SubscribedSku>('/subscribedSkus', { query: { $select: 'skuId,skuPartNumber' } })
      .then((rows) => Object.fromEntries(rows.map((s) => [String(s.skuId).toLowerCase(), s.skuPartNumber ?? String(s.skuId)])))
      .catch((err) => {
        gaps.push(gapFor(err, 'Licence names', 'LicenseAssignment.Read.All'));
        return null;
      });
    const mailbox: Record<string, boolean> = {};
    const enabledIds = ids.filter((id) => accounts[id]?.accountEnabled !== false);
    try {
      const responses = await graph.batch(enabledIds.map((id, i) => ({ id: String(i), method: 'GET' as const, url: `/users/${id}/mailboxSettings` })));
      let failed: unknown;
      responses.forEach((res, i) => {
        const key = enabledIds[i].toLowerCase();
        if (!res.error) mailbox[key] = true;
        else if (res.error.isNotFound || res.error.code === 'MailboxNotEnabledForRESTAPI') mailbox[key] = false;
        else failed ??= res.error;
      });
      if (failed) gaps.push(gapFor(failed, 'Which admins have a mailbox', 'MailboxSettings.Read'));
    } catch (err) {
      gaps.push(gapFor(err, 'Which admins have a mailbox', 'MailboxSettings.Read'));
    }
    return { holders: roles.holders, accounts, skus, mailbox, excludedAccounts: ctx.settings?.excludedAccounts ?? [], gaps };
  },
  evaluate: evaluateAdminsDedicated,
};

export function evaluateAdminsDedicated(reads: AdminsDedicatedReads, now: Date): CheckResult<AdminsDedicatedData> {
  const isExcluded = excludedMatcher(reads.excludedAccounts);
  const byPerson = new Map<string, { holder: RoleHolder; roles: Set<string>; global: boolean }>();
  for (const h of reads.holders) {
    if (h.principalType !== 'user') continue;
    const k = h.principalId.toLowerCase();
    const p = byPerson.get(k) ?? { holder: h, roles: new Set<string>(), global: false };
    p.roles.add(h.roleName);
    p.global ||= h.roleId === GLOBAL_ADMIN_ROLE;
    byPerson.set(k, p);
  }
  const excluded: Subject[] = [];
  const findings: Finding[] = [];
  let admins = 0;
  let unknownMailboxes = false;
  for (const [key, p] of byPerson) {
    const account = reads.accounts[p.holder.principalId] ?? Object.values(reads.accounts).find((a) => a.id?.toLowerCase() === key);
    if (account?.accountEnabled === false) continue;
    const subject: Subject = { id: p.holder.principalId, displayName: account?.displayName ?? p.holder.principalName, userPrincipalName: account?.userPrincipalName ?? p.holder.principalUpn ?? '' };
    if (isExcluded(subject)) {
      excluded.push(subject);
      continue;
    }
    admins++;
    unknownMailboxes ||= reads.mailbox[key] === undefined;
    const licences = (account?.assignedLicenses ?? [])
      .map((l) => {
        const part = reads.skus?.[String(l.skuId).toLowerCase()];
        return { part, name: part ? (SKU_NAMES[part] ?? part) : String(l.skuId) };
      })
      .filter((l) => !(l.part && ADMIN_OK_SKUS.has(l.part)));
    const hasMailbox = reads.mailbox[key] === true;
    if (!licences.length && !hasMailbox) continue;
    const what = [licences.length ? `licensed (${licences.map((l) => l.name).join(', ')})` : '', hasMailbox ? 'has a mailbox' : ''].filter(Boolean).join(' and ');
    findings.push({
      severity: p.global ? 'high' : 'medium',
      subject,
      detail: `${[...p.roles].sort().join(', ')} · ${what}: use a separate, unlicensed admin account`,
      remediation: licences.length ? 'licences.removeFromAdmin' : null,
      facts: { licensed: licences.length > 0, mailbox: hasMailbox, globalAdmin: p.global },
    });
  }
  findings.sort((a, b) => Number(b.facts?.globalAdmin) - Number(a.facts?.globalAdmin) || a.subject.displayName.localeCompare(b.subject.displayName));
  const bad = findings.length;
  return {
    id: adminsDedicated.id,
    title: adminsDedicated.title,
    status: bad ? (findings.some((f) => f.severity === 'high') ? 'fail' : 'warn') : 'pass',
    reason: bad
      ? `${bad} of ${admins} admin account${admins === 1 ? '' : 's'} ${bad === 1 ? 'is' : 'are'} also used for everyday work (licensed or with a mailbox).`
      : `All ${admins} admin accounts are dedicated: no licences, no mailbox.`,
    findings,
    gaps: reads.gaps,
    data: {
      admins,
      dedicated: admins - bad,
      excluded,
      notes: [
        'Entra ID P1/P2 licences on admin accounts are fine and not reported.',
        ...(unknownMailboxes ? ['Some mailboxes could not be checked; see below.'] : []),
      ],
    },
    generatedAt: now.toISOString(),
  };
}
