/**
 * The whole catalogue, table-driven, against the demo tenant through the real Graph SDK:
 * request → (two approvers for high risk) → exactly the expected Graph write → read-back →
 * `succeeded`; and for each action its precondition failing at execution time → no write at
 * all, `failed`, and a reason a person understands.
 */
import { strict as assert } from 'node:assert';
import { ALL_PERMISSIONS, DEMO_USERS, ROLE_TEMPLATE_IDS, SKU_BUSINESS_PREMIUM, type DemoTenant, type RecordedRequest } from '../../bot/demo';
import { allActions } from '../../bot/remediation/catalogue';
import { caPolicyBody } from '../../bot/remediation/actions/tenantPolicies';
import type { TargetResult } from '../../bot/remediation/types';
import type { ActionTarget, ApprovalRecord } from '../../bot/store';
import { actor, alex, megan, patti, startHarness, userRecord, userTarget, type Harness } from './support/harness';

interface ExpectedWrite {
  method: RecordedRequest['method'];
  path: string;
  version?: 'v1.0' | 'beta';
  body?: unknown;
}

interface Case {
  name: string;
  action: string;
  /** Arrange the tenant (after a reset) and name the target. */
  arrange(demo: DemoTenant): ActionTarget;
  write(t: ActionTarget, demo: DemoTenant): ExpectedWrite;
  /** The change is in the tenant (read straight from the demo's state). */
  inPlace(demo: DemoTenant, t: ActionTarget): boolean;
  /** Make the precondition fail between the request and the approvals. */
  breakIt(demo: DemoTenant, t: ActionTarget): void;
  refusal: RegExp;
}

const GA = ROLE_TEMPLATE_IDS.globalAdministrator;
const rules = (demo: DemoTenant, userId: string) => userRecord(demo, userId).inboxRules;
const gaAssignment = (demo: DemoTenant, userId: string) => [...demo.tenant().roleAssignments.values()].find((a) => a.principalId === userId && a.roleDefinitionId === GA)!;
const methodOf = (demo: DemoTenant, upn: string, type: string) => userRecord(demo, upn).methods.find((m) => m['@odata.type'] === `#microsoft.graph.${type}AuthenticationMethod`)!;

function methodTarget(demo: DemoTenant, upn: string, type: 'microsoftAuthenticator' | 'softwareOath' | 'phone', pick = 0): ActionTarget {
  const rec = userRecord(demo, upn);
  const m = rec.methods.filter((x) => x['@odata.type'] === `#microsoft.graph.${type}AuthenticationMethod`)[pick];
  return { id: m.id, displayName: String(m.displayName ?? m.phoneNumber ?? type), detail: rec.user.userPrincipalName, userId: rec.user.id, params: { methodType: type } };
}

const SEGMENT = { microsoftAuthenticator: 'microsoftAuthenticatorMethods', softwareOath: 'softwareOathMethods', phone: 'phoneMethods' } as const;

function methodCase(name: string, upn: string, type: keyof typeof SEGMENT): Case {
  return {
    name,
    action: 'authMethod.remove',
    arrange: (demo) => methodTarget(demo, upn, type),
    write: (t) => ({ method: 'DELETE', path: `/users/${t.userId}/authentication/${SEGMENT[type]}/${t.id}`, version: 'v1.0' }),
    inPlace: (demo, t) => !userRecord(demo, t.userId!).methods.some((m) => m.id === t.id && m['@odata.type'].includes(type)),
    // Leave the method as the account's only second factor.
    breakIt: (demo, t) => {
      const rec = userRecord(demo, t.userId!);
      rec.methods = rec.methods.filter((m) => m.id === t.id || m['@odata.type'].endsWith('passwordAuthenticationMethod'));
    },
    refusal: /only second factor/,
  };
}

const CASES: Case[] = [
  {
    name: 'require MFA for a new joiner',
    action: 'mfa.require',
    arrange: (demo) => userTarget(demo, DEMO_USERS.chloe.id),
    write: (t) => ({ method: 'PATCH', path: `/users/${t.id}/authentication/requirements`, version: 'beta', body: { perUserMfaState: 'enforced' } }),
    inPlace: (demo, t) => userRecord(demo, t.id).perUserMfaState === 'enforced',
    breakIt: (demo, t) => void (userRecord(demo, t.id).perUserMfaState = 'enforced'),
    refusal: /already enforced/,
  },
  {
    name: 'revoke the sessions of a compromised account',
    action: 'user.revokeSessions',
    arrange: (demo) => userTarget(demo, DEMO_USERS.dana.id),
    write: (t) => ({ method: 'POST', path: `/users/${t.id}/revokeSignInSessions`, version: 'v1.0' }),
    inPlace: (demo, t) => Boolean(userRecord(demo, t.id).user.signInSessionsValidFromDateTime),
    breakIt: (demo, t) => void (userRecord(demo, t.id).user.userType = 'Guest'),
    refusal: /guest/,
  },
  {
    name: 'block sign-in',
    action: 'user.block',
    arrange: (demo) => userTarget(demo, DEMO_USERS.dana.id),
    write: (t) => ({ method: 'PATCH', path: `/users/${t.id}`, version: 'v1.0', body: { accountEnabled: false } }),
    inPlace: (demo, t) => userRecord(demo, t.id).user.accountEnabled === false,
    breakIt: (demo, t) => void (userRecord(demo, t.id).user.accountEnabled = false),
    refusal: /already blocked/,
  },
  {
    name: 'unblock sign-in',
    action: 'user.unblock',
    arrange: (demo) => userTarget(demo, DEMO_USERS.fiona.id),
    write: (t) => ({ method: 'PATCH', path: `/users/${t.id}`, version: 'v1.0', body: { accountEnabled: true } }),
    inPlace: (demo, t) => userRecord(demo, t.id).user.accountEnabled === true,
    breakIt: (demo, t) => void (userRecord(demo, t.id).user.accountEnabled = true),
    refusal: /already allowed/,
  },
  {
    name: 'disable the invoice-forwarding rule',
    action: 'rule.disable',
    arrange: (demo) => {
      const rule = rules(demo, DEMO_USERS.dana.id).find((r) => r.displayName === 'Invoices')!;
      return { id: rule.id, displayName: 'Invoices', detail: DEMO_USERS.dana.upn, userId: DEMO_USERS.dana.id };
    },
    write: (t) => ({ method: 'PATCH', path: `/users/${t.userId}/mailFolders/inbox/messageRules/${t.id}`, version: 'v1.0', body: { isEnabled: false } }),
    inPlace: (demo, t) => rules(demo, t.userId!).find((r) => r.id === t.id)?.isEnabled === false,
    breakIt: (demo, t) => void (rules(demo, t.userId!).find((r) => r.id === t.id)!.isEnabled = false),
    refusal: /already turned off/,
  },
  {
    name: 'delete the invoice-forwarding rule (high risk)',
    action: 'rule.delete',
    arrange: (demo) => {
      const rule = rules(demo, DEMO_USERS.dana.id).find((r) => r.displayName === 'Invoices')!;
      return { id: rule.id, displayName: 'Invoices', detail: DEMO_USERS.dana.upn, userId: DEMO_USERS.dana.id };
    },
    write: (t) => ({ method: 'DELETE', path: `/users/${t.userId}/mailFolders/inbox/messageRules/${t.id}`, version: 'v1.0' }),
    inPlace: (demo, t) => !rules(demo, t.userId!).some((r) => r.id === t.id),
    breakIt: (demo, t) => {
      const rec = userRecord(demo, t.userId!);
      rec.inboxRules = rec.inboxRules.filter((r) => r.id !== t.id);
    },
    refusal: /no longer exists/,
  },
  {
    name: 'remove the shared IT account’s Global Administrator role (high risk)',
    action: 'role.removeGlobalAdmin',
    arrange: (demo) => ({ id: gaAssignment(demo, DEMO_USERS.itsupport.id).id, displayName: DEMO_USERS.itsupport.name, detail: DEMO_USERS.itsupport.upn, userId: DEMO_USERS.itsupport.id }),
    write: (t) => ({ method: 'DELETE', path: `/roleManagement/directory/roleAssignments/${t.id}`, version: 'v1.0' }),
    inPlace: (demo, t) => !demo.tenant().roleAssignments.has(t.id),
    // Only Patti and the target stay Global Admins: removing it would leave one.
    breakIt: (demo, t) => {
      for (const [id, a] of demo.tenant().roleAssignments) if (a.roleDefinitionId === GA && id !== t.id && a.principalId !== DEMO_USERS.patti.id) demo.tenant().roleAssignments.delete(id);
    },
    refusal: /would leave 1 Global Administrator/,
  },
  {
    name: 'remove the licences of an admin account',
    action: 'licences.removeFromAdmin',
    arrange: (demo) => userTarget(demo, DEMO_USERS.oliver.id),
    write: (t) => ({ method: 'POST', path: `/users/${t.id}/assignLicense`, version: 'v1.0', body: { addLicenses: [], removeLicenses: [SKU_BUSINESS_PREMIUM] } }),
    inPlace: (demo, t) => (userRecord(demo, t.id).user.assignedLicenses ?? []).length === 0,
    breakIt: (demo, t) => {
      for (const [id, a] of demo.tenant().roleAssignments) if (a.principalId === t.id) demo.tenant().roleAssignments.delete(id);
    },
    refusal: /holds no admin role/,
  },
  {
    name: 'turn on security defaults (high risk)',
    action: 'securityDefaults.enable',
    arrange: (demo) => {
      demo.tenant().conditionalAccessPolicies.clear();
      return { id: demo.tenantId, displayName: 'Northwind Dental Care' };
    },
    write: () => ({ method: 'PATCH', path: '/policies/identitySecurityDefaultsEnforcementPolicy', version: 'v1.0', body: { isEnabled: true } }),
    inPlace: (demo) => demo.tenant().securityDefaultsEnabled === true,
    breakIt: (demo) =>
      void demo.tenant().conditionalAccessPolicies.set('new-policy', { id: 'new-policy', displayName: 'Block legacy authentication', state: 'enabled' }),
    refusal: /Conditional Access policies \("Block legacy authentication"\).*cannot be turned on/,
  },
  {
    name: 'create "Require MFA for administrators" in report-only state (high risk)',
    action: 'ca.requireMfaForAdmins',
    arrange: (demo) => ({ id: demo.tenantId, displayName: 'Northwind Dental Care' }),
    write: () => ({ method: 'POST', path: '/identity/conditionalAccess/policies', version: 'v1.0', body: caPolicyBody([DEMO_USERS.breakglass.id]) }),
    inPlace: (demo) =>
      [...demo.tenant().conditionalAccessPolicies.values()].some(
        (p) => p.displayName === 'Require MFA for administrators' && p.state === 'enabledForReportingButNotEnforced' && p.conditions?.users?.excludeUsers?.includes(DEMO_USERS.breakglass.id),
      ),
    breakIt: (demo) => void (demo.tenant().securityDefaultsEnabled = true),
    refusal: /Security defaults are on/,
  },
  methodCase('remove one of three authenticator apps', 'rhys.morgan@northwinddental.co.uk', 'microsoftAuthenticator'),
  methodCase('remove a software OATH token', 'freya.scott@northwinddental.co.uk', 'softwareOath'),
  methodCase('remove a phone number', 'jose.nunez@northwinddental.co.uk', 'phone'),
];

describe('remediation catalogue against the demo tenant', function () {
  this.timeout(60_000);
  let h: Harness;
  const requester = () => ({ id: alex.aadObjectId, name: alex.name });

  before(async () => {
    h = await startHarness({ approvalsChannel: false });
  });
  after(async () => h?.close());

  /** Request as Alex, then approve as Megan (and Patti when two approvers are needed). */
  async function requestAndApprove(c: Case, breakBeforeApproval = false): Promise<{ record: ApprovalRecord; mark: number; target: ActionTarget }> {
    h.demo.reset();
    const target = c.arrange(h.demo);
    const mark = h.demo.requests.length;
    const requested = await h.vigil.workflow.request({ tenantId: h.tenantId, actionId: c.action, targets: [target], requester: requester(), requesterRef: null });
    assert.ok(requested.ok, `request refused: ${!requested.ok && requested.message}`);
    assert.deepEqual(h.writesSince(mark), [], 'asking writes nothing');
    if (breakBeforeApproval) c.breakIt(h.demo, requested.record.targets[0]);
    const high = requested.record.requiredApprovals === 2;
    const first = await h.vigil.workflow.approve(requested.record.id, actor(megan, h.tenantId));
    assert.ok(first.ok, !first.ok ? first.message : '');
    if (high) {
      assert.equal(first.record.state, 'pending', 'one approval is not enough for a high-risk fix');
      assert.deepEqual(h.writesSince(mark), [], 'nothing written after the first of two approvals');
      const second = await h.vigil.workflow.approve(requested.record.id, actor(patti, h.tenantId));
      assert.ok(second.ok, !second.ok ? second.message : '');
    }
    return { record: (await h.vigil.store.approvals.get(requested.record.id))!, mark, target: requested.record.targets[0] };
  }

  it('covers every action of the catalogue, with the ids checks rely on', () => {
    const ids = allActions().map((a) => a.id).sort();
    assert.deepEqual(ids, ['authMethod.remove', 'ca.requireMfaForAdmins', 'licences.removeFromAdmin', 'mfa.require', 'role.removeGlobalAdmin', 'rule.delete', 'rule.disable', 'securityDefaults.enable', 'user.block', 'user.revokeSessions', 'user.unblock']);
    assert.deepEqual([...new Set(CASES.map((c) => c.action))].sort(), ids, 'the table tests every action');
    for (const a of allActions()) {
      assert.ok(a.title && a.permission && a.readPermission, `${a.id} names its permissions`);
      assert.equal(a.risk === 'high', ['role.removeGlobalAdmin', 'rule.delete', 'securityDefaults.enable', 'ca.requireMfaForAdmins'].includes(a.id), `${a.id} risk`);
    }
  });

  for (const c of CASES) {
    it(`${c.action}: ${c.name} — exactly the expected write, read back, succeeded`, async () => {
      const { record, mark, target } = await requestAndApprove(c);
      const expected = c.write(target, h.demo);
      assert.match(record.summary, new RegExp(`${expected.method} /${expected.version ?? 'v1.0'}${expected.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), 'the approvers saw the exact call');
      const writes = h.writesSince(mark);
      assert.equal(writes.length, 1, `one write: ${JSON.stringify(writes.map((w) => `${w.method} ${w.path}`))}`);
      const [w] = writes;
      assert.equal(w.method, expected.method);
      assert.equal(w.path, expected.path);
      assert.equal(w.version, expected.version ?? 'v1.0');
      if (expected.body !== undefined) assert.deepEqual(w.body, expected.body);
      assert.ok(w.status >= 200 && w.status < 300, `Graph answered ${w.status}`);
      assert.equal(record.state, 'succeeded');
      const results = record.result!.targets as TargetResult[];
      assert.equal(results[0].outcome, 'done');
      assert.match(results[0].message, /confirmed by reading it back/);
      assert.ok(c.inPlace(h.demo, target), 'the change is in the tenant');
      const trail = (await h.vigil.store.audit.forRequest(record.id)).map((r) => r.event);
      const approvals = record.requiredApprovals === 2 ? ['approval-recorded', 'approved'] : ['approved'];
      assert.deepEqual(trail, ['requested', ...approvals, 'execution-started', 'succeeded']);
    });

    it(`${c.action}: precondition not met at execution → no write, a clear reason`, async () => {
      const { record, mark } = await requestAndApprove(c, true);
      assert.deepEqual(h.writesSince(mark), [], 'no write at all');
      assert.equal(record.state, 'failed');
      const [result] = record.result!.targets as TargetResult[];
      assert.equal(result.outcome, 'skipped');
      assert.match(result.message, c.refusal);
    });
  }

  it('refuses at request time what cannot work, with the reason: security defaults while Conditional Access policies exist', async () => {
    h.demo.reset();
    const mark = h.demo.requests.length;
    const out = await h.vigil.workflow.request({ tenantId: h.tenantId, actionId: 'securityDefaults.enable', targets: [{ id: h.tenantId, displayName: 'Northwind' }], requester: requester(), requesterRef: null });
    assert.ok(!out.ok);
    assert.match(out.message, /Conditional Access policies \("Require MFA for admins", "MFA for risky sign-ins"\).*the two are alternatives/);
    assert.deepEqual(h.writesSince(mark), []);
  });

  it('never blocks a break-glass account', async () => {
    const c = CASES.find((x) => x.action === 'user.block')!;
    const { record, mark } = await requestAndApprove({ ...c, arrange: (demo) => userTarget(demo, DEMO_USERS.breakglass.id), breakIt: () => undefined }, true);
    assert.deepEqual(h.writesSince(mark), []);
    assert.match((record.result!.targets as TargetResult[])[0].message, /break-glass/);
  });

  it('a Global Admin removal is never approved by the admin it removes', async () => {
    h.demo.reset();
    const target = { id: gaAssignment(h.demo, DEMO_USERS.patti.id).id, displayName: DEMO_USERS.patti.name, userId: DEMO_USERS.patti.id };
    const mark = h.demo.requests.length;
    // Asked for: refused at once, since only Megan could approve it and it needs two.
    const asked = await h.vigil.workflow.request({ tenantId: h.tenantId, actionId: 'role.removeGlobalAdmin', targets: [target], requester: requester(), requesterRef: null });
    assert.ok(!asked.ok);
    assert.match(asked.message, /needs 2 different approvers, and this tenant has 1 who could approve it \(not counting the person asking or the person it acts on\)/);
    // A request that exists anyway (made elsewhere): Patti's click is refused and does not count.
    const now = new Date();
    const record = await h.vigil.store.approvals.create({
      id: 'elsewhere_made_request_0001', tenantId: h.tenantId, actionId: 'role.removeGlobalAdmin', targets: [target], params: {}, summary: 'DELETE …',
      requesterId: alex.aadObjectId, requesterName: alex.name, requesterRef: null, requiredApprovals: 2, createdAt: now, expiresAt: new Date(now.getTime() + 3_600_000),
    });
    const own = await h.vigil.workflow.approve(record.id, actor(patti, h.tenantId));
    assert.ok(!own.ok);
    assert.equal(own.refusal, 'forbidden');
    assert.match(own.message, /your own account or role/);
    assert.equal((await h.vigil.store.approvals.get(record.id))!.approvals.length, 0, 'her click did not count');
    assert.deepEqual(h.writesSince(mark), []);
  });

  it('a missing Graph permission fails the fix with the error code and the permission to add', async () => {
    h.demo.reset();
    h.demo.knobs.grantedRoles = ALL_PERMISSIONS.filter((p) => p !== 'Policy.ReadWrite.AuthenticationMethod');
    try {
      const target = userTarget(h.demo, DEMO_USERS.mohammed.id);
      const req = await h.vigil.workflow.request({ tenantId: h.tenantId, actionId: 'mfa.require', targets: [target], requester: requester(), requesterRef: null });
      assert.ok(req.ok);
      const out = await h.vigil.workflow.approve(req.record.id, actor(megan, h.tenantId));
      assert.ok(out.ok);
      assert.equal(out.record.state, 'failed');
      const [r] = out.record.result!.targets as TargetResult[];
      assert.equal(r.outcome, 'failed');
      assert.equal(r.errorCode, 'Authorization_RequestDenied');
      assert.match(r.message, /403 Authorization_RequestDenied.*lacks the application permission Policy\.ReadWrite\.AuthenticationMethod.*grant admin consent/);
      assert.equal(userRecord(h.demo, target.id).perUserMfaState, 'disabled', 'nothing changed');
    } finally {
      h.demo.knobs.grantedRoles = 'all';
    }
  });

  it('bulk: one request for 45 people, executed in $batch requests of at most 20, with a result per person', async () => {
    h.demo.reset();
    // 40 more new joiners without MFA, shaped like Chloe.
    const chloe = userRecord(h.demo, DEMO_USERS.chloe.id);
    for (let i = 0; i < 40; i++) {
      const id = `00000000-0000-4000-9000-${String(i).padStart(12, '0')}`;
      h.demo.tenant().addUser({ ...structuredClone(chloe), user: { ...structuredClone(chloe.user), id, displayName: `New Joiner ${i}`, userPrincipalName: `joiner${i}@northwinddental.co.uk` } });
    }
    const people = [DEMO_USERS.chloe, DEMO_USERS.mohammed, DEMO_USERS.ella, DEMO_USERS.kacper].map((u) => userTarget(h.demo, u.id));
    for (let i = 0; i < 40; i++) people.push(userTarget(h.demo, `joiner${i}@northwinddental.co.uk`));
    people.push(userTarget(h.demo, DEMO_USERS.patti.id)); // has MFA (and per-user MFA enforced): skipped, with the reason
    assert.equal(people.length, 45);
    const mark = h.demo.requests.length;
    const req = await h.vigil.workflow.request({ tenantId: h.tenantId, actionId: 'mfa.require', targets: people, requester: requester(), requesterRef: null });
    assert.ok(req.ok);
    assert.equal(req.record.targets.length, 45, 'one request, 45 targets');
    const out = await h.vigil.workflow.approve(req.record.id, actor(megan, h.tenantId));
    assert.ok(out.ok);
    const log = h.demo.requests.slice(mark);
    const patches = log.filter((r) => r.method === 'PATCH');
    assert.equal(patches.length, 44, 'one write per person who needed it');
    assert.ok(patches.every((p) => p.inBatch && p.version === 'beta'), 'every write inside a $batch');
    assert.equal(new Set(patches.map((p) => p.path)).size, 44, 'no one written twice');
    const envelopes = log.filter((r) => r.method === 'POST' && r.path === '/$batch' && !r.inBatch);
    const writeEnvelopes = envelopes.filter((e) => (e.body as { requests: Array<{ method: string }> }).requests.some((x) => x.method === 'PATCH'));
    assert.deepEqual(writeEnvelopes.map((e) => (e.body as { requests: unknown[] }).requests.length), [20, 20, 4]);
    assert.ok(envelopes.every((e) => (e.body as { requests: unknown[] }).requests.length <= 20));
    const results = out.record.result!.targets as TargetResult[];
    assert.equal(results.length, 45);
    assert.equal(results.filter((r) => r.outcome === 'done').length, 44);
    const skipped = results.find((r) => r.id === DEMO_USERS.patti.id)!;
    assert.equal(skipped.outcome, 'skipped');
    assert.match(skipped.message, /already enforced|has registered MFA/);
    assert.equal(out.record.state, 'succeeded');
  });
});
