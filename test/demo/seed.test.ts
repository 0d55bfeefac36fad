/**
 * The seed's story, its fidelity to the Graph schema (v1.0 CSDL, when the shared
 * metadata is present), the synthetic generator, and MSP mode (several tenants).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  DEMO_APPROVER_GROUP_ID,
  DEMO_USERS,
  ROLE_TEMPLATE_IDS,
  DemoTenantState,
  defaultSeed,
  generateSeed,
  startDemoTenant,
} from '../../bot/demo';
import { credentialFor, graphClientFor } from './helpers';

const NOW = new Date('2026-03-10T14:30:00Z');
const DAY = 86_400_000;

describe('demo seed: Northwind Dental Care', () => {
  const seed = defaultSeed(NOW);
  const state = new DemoTenantState(seed);
  const reg = (id: string) => state.registrationDetails(state.findUser(id)!, NOW);

  it('has the fixed Playground users with their exact ids', () => {
    const expected: Record<string, [string, string]> = {
      alex: ['00000000-0000-4000-8000-000000000020', 'Alex Wilber'],
      megan: ['00000000-0000-4000-8000-000000000021', 'Megan Bowen'],
      adele: ['00000000-0000-4000-8000-000000000022', 'Adele Vance'],
      isaiah: ['00000000-0000-4000-8000-000000000023', 'Isaiah Langer'],
      patti: ['00000000-0000-4000-8000-000000000024', 'Patti Fernandez'],
      lynne: ['00000000-0000-4000-8000-000000000025', 'Lynne Robbins'],
    };
    for (const [k, [id, name]] of Object.entries(expected)) {
      const u = DEMO_USERS[k as keyof typeof DEMO_USERS];
      assert.equal(u.id, id);
      assert.equal(u.name, name);
      assert.equal(state.findUser(id)!.user.displayName, name);
    }
    assert.equal(reg(DEMO_USERS.alex.id).isAdmin, false);
    assert.equal(reg(DEMO_USERS.alex.id).isMfaRegistered, true);
  });

  it('tells the MFA story: recent joiners, one long-standing member, the IT account', () => {
    const enabledMembers = state.users.filter((u) => u.accountEnabled && u.userType === 'Member');
    const withMfa = enabledMembers.filter((u) => reg(u.id).isMfaRegistered);
    assert.ok(withMfa.length >= 32 && withMfa.length <= 36, String(withMfa.length));
    const lacking = enabledMembers.filter((u) => !reg(u.id).isMfaRegistered);
    const ages = lacking.map((u) => Math.round((NOW.getTime() - Date.parse(u.createdDateTime!)) / DAY)).sort((a, b) => a - b);
    assert.deepEqual(ages.slice(0, 4), [3, 9, 21, 45]);
    assert.ok(lacking.some((u) => u.id === DEMO_USERS.itsupport.id));
    assert.ok(lacking.some((u) => u.id === DEMO_USERS.gareth.id && ages.includes(730)));
    const disabled = state.users.filter((u) => !u.accountEnabled);
    assert.equal(disabled.length, 1);
    assert.equal(reg(disabled[0].id).isMfaRegistered, false);
    const guests = state.users.filter((u) => u.userType === 'Guest');
    assert.equal(guests.length, 3);
    assert.equal(guests.filter((g) => !reg(g.id).isMfaRegistered).length, 2);
    assert.ok(state.users.some((u) => /[^\x00-\x7f]/.test(u.displayName)), 'unicode names');
    for (const u of state.users) assert.ok(Date.parse(u.createdDateTime!) < NOW.getTime());
  });

  it('has six Global Admins, exactly one licensed with a mailbox; an Exchange admin without MFA', () => {
    const gas = [...state.roleAssignments.values()].filter((a) => a.roleDefinitionId === ROLE_TEMPLATE_IDS.globalAdministrator);
    assert.equal(gas.length, 6);
    const licensed = gas.map((a) => state.findUser(a.principalId)!).filter((r) => r.user.assignedLicenses!.length > 0);
    assert.equal(licensed.length, 1);
    assert.equal(licensed[0].hasMailbox, true);
    const it = state.findUser(DEMO_USERS.itsupport.id)!;
    assert.equal(it.user.userPrincipalName, 'itsupport@northwinddental.onmicrosoft.com');
    assert.deepEqual(it.user.assignedLicenses, []);
    const exchange = [...state.roleAssignments.values()].find((a) => a.roleDefinitionId === ROLE_TEMPLATE_IDS.exchangeAdministrator)!;
    assert.equal(reg(exchange.principalId).isMfaRegistered, false);
    assert.ok([...state.roleAssignments.values()].some((a) => a.principalId === DEMO_USERS.megan.id && a.roleDefinitionId === ROLE_TEMPLATE_IDS.securityAdministrator));
    assert.ok(gas.some((a) => a.principalId === DEMO_USERS.patti.id));
  });

  it('approvers: Megan directly, Patti through a nested group', () => {
    const members = state.transitiveMembers(DEMO_APPROVER_GROUP_ID);
    assert.ok(members.includes(DEMO_USERS.megan.id) && members.includes(DEMO_USERS.patti.id));
    assert.ok(!state.findGroup(DEMO_APPROVER_GROUP_ID)!.members.includes(DEMO_USERS.patti.id));
    assert.ok(!members.includes(DEMO_USERS.alex.id));
  });

  it('has the SMS-only user and per-user MFA mostly disabled', () => {
    assert.deepEqual(reg(DEMO_USERS.dana.id).methodsRegistered, ['mobilePhone']);
    // Mostly: Patti turned per-user MFA on for herself (the one person MFA is actually required for).
    assert.deepEqual(state.users.filter((u) => state.findUser(u.id)!.perUserMfaState !== 'disabled').map((u) => u.id), [DEMO_USERS.patti.id]);
  });

  it('is deterministic', () => {
    assert.deepEqual(defaultSeed(NOW), seed);
  });
});

/** Minimal CSDL reader: type name → { properties → type, open }. */
function loadCsdl(file: string): Map<string, { props: Map<string, string>; open: boolean }> {
  const xml = fs.readFileSync(file, 'utf8');
  const raw = new Map<string, { base?: string; props: Map<string, string>; open: boolean }>();
  const typeRe = /<(EntityType|ComplexType) Name="(\w+)"([^>]*?)(\/>|>([\s\S]*?)<\/\1>)/g;
  for (const m of xml.matchAll(typeRe)) {
    const props = new Map<string, string>();
    for (const p of (m[5] ?? '').matchAll(/<(?:Navigation)?Property Name="(\w+)" Type="([^"]+)"/g)) props.set(p[1], p[2]);
    const base = /BaseType="graph\.(\w+)"/.exec(m[3])?.[1];
    if (!raw.has(m[2])) raw.set(m[2], { base, props, open: /OpenType="true"/.test(m[3]) });
  }
  const out = new Map<string, { props: Map<string, string>; open: boolean }>();
  for (const [name, t] of raw) {
    const props = new Map(t.props);
    let open = t.open;
    for (let b = t.base; b; b = raw.get(b)?.base) {
      for (const [k, v] of raw.get(b)?.props ?? []) props.set(k, v);
      open ||= Boolean(raw.get(b)?.open);
    }
    out.set(name, { props, open });
  }
  return out;
}

/** Open types whose extra members Graph really returns (e.g. controlScore.scoreInPercentage). */
const OPEN_OK = new Set(['controlScore', 'averageComparativeScore']);

describe('demo seed against the Graph v1.0 schema', function () {
  const csdlPath = path.resolve(__dirname, '../../../shared/graph-metadata/schemas/v1.0-Prod.csdl');
  const seed = defaultSeed(NOW);
  let csdl: ReturnType<typeof loadCsdl>;

  before(function () {
    if (!fs.existsSync(csdlPath)) this.skip();
    csdl = loadCsdl(csdlPath);
  });

  /** Every property of `obj` exists on `type` (recursing into graph complex types). */
  function check(obj: unknown, type: string, where: string, problems: string[]): void {
    if (obj === null || typeof obj !== 'object') return;
    const rec = obj as Record<string, unknown>;
    const odataType = typeof rec['@odata.type'] === 'string' ? (rec['@odata.type'] as string).replace('#microsoft.graph.', '') : type;
    const t = csdl.get(odataType);
    if (!t) return problems.push(`${where}: unknown type ${odataType}`) as unknown as void;
    for (const [k, v] of Object.entries(rec)) {
      if (k.startsWith('@odata.')) continue;
      const pt = t.props.get(k);
      if (!pt) {
        // Directory objects are open types (extension properties) but we do not use any:
        // only Secure Score's open complex types carry extra members in real responses.
        if (!(t.open && OPEN_OK.has(odataType))) problems.push(`${where}.${k} is not a property of ${odataType}`);
        continue;
      }
      const inner = /^(?:Collection\()?graph\.(\w+)\)?$/.exec(pt)?.[1];
      if (!inner || !csdl.has(inner)) continue;
      if (Array.isArray(v)) v.forEach((x, i) => check(x, inner, `${where}.${k}[${i}]`, problems));
      else check(v, inner, `${where}.${k}`, problems);
    }
  }

  it('the checker itself catches a wrong property', () => {
    const problems: string[] = [];
    check({ displayName: 'x', mfaEnabled: true, assignedLicenses: [{ skuId: 'x', plan: 1 }] }, 'user', 'probe', problems);
    assert.deepEqual(problems, ['probe.mfaEnabled is not a property of user', 'probe.assignedLicenses[0].plan is not a property of assignedLicense']);
  });

  it('uses only real property names', () => {
    const problems: string[] = [];
    const state = new DemoTenantState(seed);
    for (const r of seed.users) {
      check(r.user, 'user', r.user.displayName, problems);
      r.methods.forEach((m) => check(m, 'authenticationMethod', `${r.user.displayName}.methods`, problems));
      r.inboxRules.forEach((x) => check(x, 'messageRule', `${r.user.displayName}.rules`, problems));
      check(state.registrationDetails(state.findUser(r.user.id)!, NOW), 'userRegistrationDetails', 'registration', problems);
    }
    check(seed.organization, 'organization', 'organization', problems);
    seed.domains.forEach((d) => check(d, 'domain', d.id, problems));
    seed.skus.forEach((s) => check(s, 'subscribedSku', 'sku', problems));
    seed.roleDefinitions.forEach((d) => check(d, 'unifiedRoleDefinition', d.displayName, problems));
    seed.roleAssignments.forEach((a) => check(a, 'unifiedRoleAssignment', 'assignment', problems));
    seed.signIns.slice(0, 50).forEach((s) => check(s, 'signIn', 'signIn', problems));
    seed.conditionalAccessPolicies.forEach((p) => check(p, 'conditionalAccessPolicy', p.displayName!, problems));
    seed.secureScores.slice(0, 2).forEach((s) => check(s, 'secureScore', 'secureScore', problems));
    seed.secureScoreControlProfiles.forEach((p) => check(p, 'secureScoreControlProfile', p.id, problems));
    seed.riskyUsers.forEach((r) => check(r, 'riskyUser', 'riskyUser', problems));
    assert.deepEqual(problems, []);
  });
});

describe('synthetic tenants and MSP mode', function () {
  this.timeout(20_000);

  it('generateSeed: ~5% without MFA, ~2% forwarding, a few admins', () => {
    const seed = generateSeed({ users: 5000, now: NOW, seed: 7 });
    const state = new DemoTenantState(seed);
    const noMfa = seed.users.filter((u) => !state.registrationDetails(u, NOW).isMfaRegistered).length;
    assert.ok(noMfa > 150 && noMfa < 350, String(noMfa));
    const fwd = seed.users.filter((u) => u.inboxRules.length > 0).length;
    assert.ok(fwd > 50 && fwd < 150, String(fwd));
    assert.equal(seed.roleAssignments.length, 5);
    assert.equal(new Set(seed.users.map((u) => u.user.id)).size, 5000);
    assert.deepEqual(generateSeed({ users: 50, now: NOW, seed: 7 }).users[3], generateSeed({ users: 50, now: NOW, seed: 7 }).users[3]);
  });

  it('generates 100k users quickly', () => {
    const t0 = Date.now();
    const seed = generateSeed({ users: 100_000, now: NOW, signInsPerUser: 0 });
    assert.equal(seed.users.length, 100_000);
    assert.ok(Date.now() - t0 < 8000, `${Date.now() - t0} ms`);
  });

  it('serves a second tenant to a token for that tenant', async () => {
    const demo = await startDemoTenant();
    try {
      const other = demo.addTenant(generateSeed({ users: 30, name: 'contoso', now: new Date() }));
      const graph = graphClientFor(demo, credentialFor(demo, demo.clientSecret, other.id));
      const org = await graph.api('/organization').get();
      assert.equal(org.value[0].id, other.id);
      const users = await graph.api('/users').header('ConsistencyLevel', 'eventual').count(true).get();
      assert.equal(users['@odata.count'], 30);
      assert.ok(demo.requests.every((r) => r.tenantId === other.id));
      // The domain name works as the tenant in the authority too.
      const byDomain = graphClientFor(demo, credentialFor(demo, demo.clientSecret, 'contoso.onmicrosoft.com'));
      assert.equal((await byDomain.api('/organization').get()).value[0].id, other.id);
    } finally {
      await demo.close();
    }
  });
});
