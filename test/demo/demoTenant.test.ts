/**
 * The demo tenant, driven through the REAL @azure/identity ClientSecretCredential and
 * the REAL Graph SDK over HTTPS (the throwaway certificate is trusted per client).
 */
import { strict as assert } from 'node:assert';
import { PageIterator, RetryHandlerOptions, type Client, type GraphError as SdkGraphError } from '@microsoft/microsoft-graph-client';
import {
  startDemoTenant,
  DEMO_TENANT_ID,
  DEMO_APPROVER_GROUP_ID,
  DEMO_PRACTICE_MANAGEMENT_GROUP_ID,
  DEMO_USERS,
  ROLE_TEMPLATE_IDS,
  type DemoTenant,
} from '../../bot/demo';
import { credentialFor, decodeJwt, graphClientFor, raw } from './helpers';

const noRetry = () => [new RetryHandlerOptions(0, 0)];

async function sdkError(p: Promise<unknown>): Promise<SdkGraphError> {
  try {
    await p;
  } catch (e) {
    return e as SdkGraphError;
  }
  throw new Error('expected the request to fail');
}

describe('demo tenant (Graph over HTTPS)', function () {
  this.timeout(20_000);
  let demo: DemoTenant;
  let graph: Client;
  let token: string;

  before(async () => {
    demo = await startDemoTenant();
    graph = graphClientFor(demo);
    token = (await credentialFor(demo).getToken(`${demo.baseUrl}/.default`))!.token;
  });
  after(async () => demo?.close());
  beforeEach(() => demo.reset());

  describe('identity platform', () => {
    it('issues a client-credentials token to the real ClientSecretCredential', async () => {
      const claims = decodeJwt(token);
      assert.equal(claims.tid, DEMO_TENANT_ID);
      assert.equal(claims.aud, demo.baseUrl);
      assert.equal(claims.appid, demo.clientId);
      assert.ok(claims.roles.includes('AuditLog.Read.All'));
      assert.ok(claims.exp > claims.iat && claims.nbf === claims.iat);
    });

    it('serves OpenID metadata on both well-known paths', async () => {
      for (const p of [`/${DEMO_TENANT_ID}/v2.0/.well-known/openid-configuration`, `/${DEMO_TENANT_ID}/.well-known/openid-configuration`]) {
        const r = await raw(demo, 'GET', p);
        assert.equal(r.status, 200);
        assert.equal(r.json.token_endpoint, `${demo.baseUrl}/${DEMO_TENANT_ID}/oauth2/v2.0/token`);
        assert.ok(r.json.issuer && r.json.authorization_endpoint && r.json.jwks_uri.startsWith('https://'));
      }
    });

    it('rejects a wrong secret (401 invalid_client) and an unknown tenant (400)', async () => {
      const form = (secret: string) => `grant_type=client_credentials&client_id=${demo.clientId}&client_secret=${secret}&scope=${encodeURIComponent('https://graph.microsoft.com/.default')}`;
      const bad = await raw(demo, 'POST', `/${DEMO_TENANT_ID}/oauth2/v2.0/token`, { form: form('nope') });
      assert.equal(bad.status, 401);
      assert.equal(bad.json.error, 'invalid_client');
      assert.match(bad.json.error_description, /^AADSTS7000215/);
      const unknown = await raw(demo, 'POST', '/11111111-2222-4333-8444-555555555555/oauth2/v2.0/token', { form: form(demo.clientSecret) });
      assert.equal(unknown.status, 400);
      assert.equal(unknown.json.error, 'invalid_request');
      const graphAud = await raw(demo, 'POST', `/${DEMO_TENANT_ID}/oauth2/v2.0/token`, { form: form(demo.clientSecret) });
      assert.equal(decodeJwt(graphAud.json.access_token).aud, 'https://graph.microsoft.com');
      await assert.rejects(credentialFor(demo, 'wrong').getToken(`${demo.baseUrl}/.default`), /invalid_client|AADSTS7000215/);
    });

    it('answers 401 InvalidAuthenticationToken without a valid token', async () => {
      const none = await raw(demo, 'GET', '/v1.0/users');
      assert.equal(none.status, 401);
      assert.equal(none.json.error.code, 'InvalidAuthenticationToken');
      const forged = await raw(demo, 'GET', '/v1.0/users', { token: token.slice(0, -4) + 'AAAA' });
      assert.equal(forged.status, 401);
      assert.equal(demo.requests.at(-1)!.status, 401);
    });
  });

  describe('users', () => {
    it('pages with @odata.nextLink, pages smaller than $top', async () => {
      const first = await graph.api('/users').select('id,displayName,accountEnabled').top(25).get();
      assert.equal(first.value.length, 10, 'server cap (maxPageSize) wins over $top');
      assert.match(first['@odata.nextLink'], new RegExp(`^${demo.baseUrl}/v1.0/users\\?.*\\$skiptoken=`));
      const all: any[] = [];
      await new PageIterator(graph, first, (u) => {
        all.push(u);
        return true;
      }).iterate();
      assert.equal(all.length, demo.tenant().users.length);
      assert.equal(new Set(all.map((u) => u.id)).size, all.length);
      const beta = await graph.api('/users').version('beta').top(5).get();
      assert.match(beta['@odata.nextLink'], /\/beta\/users\?/);
    });

    it('supports the documented $filter subset and $select', async () => {
      const disabled = await graph.api('/users').filter('accountEnabled eq false').select('displayName,accountEnabled').get();
      assert.deepEqual(disabled.value, [{ displayName: 'Dr Fiona Blake', accountEnabled: false }]);
      const guests = await graph.api('/users').filter("userType eq 'Guest' and accountEnabled eq true").select('userPrincipalName').get();
      assert.equal(guests.value.length, 3);
      assert.ok(guests.value.every((g: any) => g.userPrincipalName.includes('#EXT#')));
      const ids = [DEMO_USERS.alex.id, DEMO_USERS.megan.id];
      const some = await graph.api('/users').filter(`id in (${ids.map((i) => `'${i}'`).join(',')})`).get();
      assert.deepEqual(some.value.map((u: any) => u.displayName).sort(), ['Alex Wilber', 'Megan Bowen']);
      // v1.0 default property set does not include accountEnabled: callers must $select it.
      assert.ok(!('accountEnabled' in some.value[0]));
      const tooMany = await sdkError(graph.api('/users').filter(`id in (${Array.from({ length: 16 }, (_, i) => `'${i}'`).join(',')})`).get());
      assert.equal(tooMany.statusCode, 400);
      assert.equal(tooMany.code, 'Request_UnsupportedQuery');
      const bigTop = await sdkError(graph.api('/users').top(1000).get());
      assert.equal(bigTop.statusCode, 400);
      const badSelect = await sdkError(graph.api('/users').select('nope').get());
      assert.equal(badSelect.statusCode, 400);
      const byUpn = await graph.api(`/users/${DEMO_USERS.alex.upn}`).select('id').get();
      assert.equal(byUpn.id, DEMO_USERS.alex.id);
    });

    it('$count needs ConsistencyLevel: eventual', async () => {
      const withoutHeader = await sdkError(graph.api('/users').count(true).get());
      assert.equal(withoutHeader.statusCode, 400);
      const counted = await graph.api('/users').header('ConsistencyLevel', 'eventual').count(true).filter("userType eq 'Guest'").get();
      assert.equal(counted['@odata.count'], 3);
      const n = await raw(demo, 'GET', '/v1.0/users/$count', { token, headers: { ConsistencyLevel: 'eventual' } });
      assert.equal(n.status, 200);
      assert.match(String(n.headers['content-type']), /^text\/plain/);
      assert.equal(Number(n.text), demo.tenant().users.length);
      assert.equal((await raw(demo, 'GET', '/v1.0/users/$count', { token })).status, 400);
    });

    it('PATCH accountEnabled changes state (204)', async () => {
      const r = await raw(demo, 'PATCH', `/v1.0/users/${DEMO_USERS.chloe.id}`, { token, body: { accountEnabled: false } });
      assert.equal(r.status, 204);
      const u = await graph.api(`/users/${DEMO_USERS.chloe.id}`).select('accountEnabled').get();
      assert.equal(u.accountEnabled, false);
      assert.equal((await raw(demo, 'PATCH', `/v1.0/users/${DEMO_USERS.chloe.id}`, { token, body: { id: 'x' } })).status, 400);
    });

    it('404 and unknown-segment errors have Graph\'s shape', async () => {
      const r = await raw(demo, 'GET', '/v1.0/users/does-not-exist', { token, headers: { 'client-request-id': 'abc-123' } });
      assert.equal(r.status, 404);
      assert.equal(r.json.error.code, 'Request_ResourceNotFound');
      assert.match(r.json.error.message, /^Resource 'does-not-exist' does not exist/);
      assert.deepEqual(Object.keys(r.json.error.innerError).sort(), ['client-request-id', 'date', 'request-id']);
      assert.equal(r.json.error.innerError['client-request-id'], 'abc-123');
      assert.match(r.json.error.innerError.date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
      const seg = await raw(demo, 'GET', '/v1.0/usrs', { token });
      assert.equal(seg.status, 400);
      assert.equal(seg.json.error.message, "Resource not found for the segment 'usrs'.");
    });

    it('checkMemberGroups is transitive; transitiveMembers pages', async () => {
      const patti = await graph.api(`/users/${DEMO_USERS.patti.id}/checkMemberGroups`).post({ groupIds: [DEMO_APPROVER_GROUP_ID] });
      assert.deepEqual(patti.value, [DEMO_APPROVER_GROUP_ID]);
      const alex = await graph.api(`/users/${DEMO_USERS.alex.id}/checkMemberGroups`).post({ groupIds: [DEMO_APPROVER_GROUP_ID] });
      assert.deepEqual(alex.value, []);
      const members = await graph.api(`/groups/${DEMO_APPROVER_GROUP_ID}/transitiveMembers`).get();
      assert.deepEqual(members.value.map((m: any) => m.id).sort(), [DEMO_USERS.megan.id, DEMO_USERS.patti.id, DEMO_PRACTICE_MANAGEMENT_GROUP_ID].sort());
      const usersOnly = await graph.api(`/groups/${DEMO_APPROVER_GROUP_ID}/transitiveMembers/microsoft.graph.user`).get();
      assert.equal(usersOnly.value.length, 2);
    });

    it('licences: subscribedSkus, licenseDetails, assignLicense; revokeSignInSessions', async () => {
      const skus = await graph.api('/subscribedSkus').get();
      assert.equal(skus.value[0].skuPartNumber, 'SPB');
      const before = skus.value[0].consumedUnits;
      const details = await graph.api(`/users/${DEMO_USERS.patti.id}/licenseDetails`).get();
      assert.deepEqual(details.value, []);
      const updated = await graph.api(`/users/${DEMO_USERS.patti.id}/assignLicense`).post({ addLicenses: [{ skuId: skus.value[0].skuId, disabledPlans: [] }], removeLicenses: [] });
      assert.equal(updated.id, DEMO_USERS.patti.id);
      assert.equal((await graph.api('/subscribedSkus').get()).value[0].consumedUnits, before + 1);
      const revoked = await graph.api(`/users/${DEMO_USERS.dana.id}/revokeSignInSessions`).post({});
      assert.equal(revoked.value, true);
      assert.match(revoked['@odata.context'], /\$metadata#Edm\.Boolean$/);
    });
  });

  describe('authentication methods and MFA', () => {
    it('registration details: filter, and consistent with the methods', async () => {
      const res = await graph
        .api('/reports/authenticationMethods/userRegistrationDetails')
        .filter("isMfaRegistered eq false and userType eq 'member'")
        .get();
      const names: string[] = res.value.map((r: any) => r.userDisplayName);
      for (const n of ['Chloe Barnes', 'Mohammed Iqbal', 'Ella Thompson', 'Kacper Nowak', 'Gareth Price', 'Brightline IT Support', 'Dr Fiona Blake']) assert.ok(names.includes(n), n);
      assert.equal(names.length, 7);
      const it = res.value.find((r: any) => r.id === DEMO_USERS.itsupport.id);
      assert.equal(it.isAdmin, true);
      const admins = await graph.api('/reports/authenticationMethods/userRegistrationDetails').filter('isAdmin eq true').top(50).get();
      assert.ok(admins.value.length >= 8);
      // Dana's only second factor is SMS: delete it and she is no longer MFA-registered.
      const methods = await graph.api(`/users/${DEMO_USERS.dana.id}/authentication/methods`).get();
      const types = methods.value.map((m: any) => m['@odata.type']).sort();
      assert.deepEqual(types, ['#microsoft.graph.passwordAuthenticationMethod', '#microsoft.graph.phoneAuthenticationMethod']);
      const phone = methods.value.find((m: any) => m.phoneType === 'mobile');
      assert.match(phone.phoneNumber, /^\+44 /);
      await graph.api(`/users/${DEMO_USERS.dana.id}/authentication/phoneMethods/${phone.id}`).delete();
      const dana = await graph.api(`/reports/authenticationMethods/userRegistrationDetails/${DEMO_USERS.dana.id}`).get();
      assert.equal(dana.isMfaRegistered, false);
    });

    it('one user has three Microsoft Authenticator registrations', async () => {
      const rhys = await graph.api(`/users/${DEMO_USERS.rhys.id}/authentication/methods`).get();
      const apps = rhys.value.filter((m: any) => m['@odata.type'] === '#microsoft.graph.microsoftAuthenticatorAuthenticationMethod');
      assert.equal(apps.length, 3);
      assert.ok(apps.every((a: any) => a.displayName && a.deviceTag));
      const one = await graph.api(`/users/${DEMO_USERS.rhys.id}/authentication/microsoftAuthenticatorMethods/${apps[0].id}`).get();
      assert.equal(one.id, apps[0].id);
    });

    it('per-user MFA state: beta only; PATCH changes it', async () => {
      const path = `/users/${DEMO_USERS.chloe.id}/authentication/requirements`;
      assert.deepEqual((await graph.api(path).version('beta').get()).perUserMfaState, 'disabled');
      await graph.api(path).version('beta').patch({ perUserMfaState: 'enforced' });
      assert.equal((await graph.api(path).version('beta').get()).perUserMfaState, 'enforced');
      assert.equal(demo.tenant().findUser(DEMO_USERS.chloe.id)!.perUserMfaState, 'enforced');
      const v1 = await sdkError(graph.api(path).get());
      assert.equal(v1.statusCode, 400);
      const invalid = await raw(demo, 'PATCH', `/beta${path}`, { token, body: { perUserMfaState: 'sometimes' } });
      assert.equal(invalid.status, 400);
    });
  });

  describe('$batch', () => {
    it('routes inner requests through the same handlers and logs them', async () => {
      const r = await graph.api('/$batch').post({
        requests: [
          { id: '1', method: 'GET', url: `/users/${DEMO_USERS.alex.id}?$select=displayName` },
          { id: '2', method: 'GET', url: '/users/$count', headers: { ConsistencyLevel: 'eventual' } },
          { id: '3', method: 'GET', url: '/users/nobody' },
        ],
      });
      const byId = Object.fromEntries(r.responses.map((x: any) => [x.id, x]));
      assert.equal(byId['1'].status, 200);
      assert.equal(byId['1'].body.displayName, 'Alex Wilber');
      assert.equal(byId['2'].status, 200);
      assert.equal(Number(byId['2'].body), demo.tenant().users.length);
      assert.equal(byId['3'].status, 404);
      assert.equal(byId['3'].body.error.code, 'Request_ResourceNotFound');
      const inner = demo.requests.filter((q) => q.inBatch);
      assert.equal(inner.length, 3);
      assert.equal(demo.requests.filter((q) => !q.inBatch && q.path === '/$batch').length, 1);
    });

    it('inner throttling answers 429 with Retry-After in the inner headers', async () => {
      demo.knobs.faults.push({ match: 'GET /v1.0/users/', kind: 'throttle', retryAfterSeconds: 7, count: 1, inBatch: true });
      const r = await graph.api('/$batch').post({
        requests: [
          { id: 'a', method: 'GET', url: `/users/${DEMO_USERS.megan.id}` },
          { id: 'b', method: 'GET', url: `/users/${DEMO_USERS.adele.id}` },
        ],
      });
      const statuses = r.responses.map((x: any) => x.status).sort();
      assert.deepEqual(statuses, [200, 429]);
      const throttled = r.responses.find((x: any) => x.status === 429);
      assert.equal(throttled.headers['Retry-After'], '7');
      assert.equal(throttled.body.error.code, 'TooManyRequests');
    });

    it('rejects more than 20 requests', async () => {
      const requests = Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/organization' }));
      const e = await sdkError(graph.api('/$batch').post({ requests }));
      assert.equal(e.statusCode, 400);
    });
  });

  describe('faults, licences, permissions', () => {
    it('a forced top-level 429 carries Retry-After, and the SDK retries it', async () => {
      demo.knobs.faults.push({ match: 'GET /v1.0/organization', kind: 'throttle', retryAfterSeconds: 3, count: 1 });
      const r = await raw(demo, 'GET', '/v1.0/organization', { token });
      assert.equal(r.status, 429);
      assert.equal(r.headers['retry-after'], '3');
      demo.knobs.faults.push({ match: /^GET \/v1\.0\/domains$/, kind: 'throttle', retryAfterSeconds: 0, count: 1 });
      const domains = await graph.api('/domains').get();
      assert.equal(domains.value.length, 2);
      assert.deepEqual(demo.requests.filter((q) => q.path === '/domains').map((q) => q.status), [429, 200]);
      demo.knobs.faults.push({ match: 'GET /v1.0/domains', kind: 'status', status: 503, count: 1 });
      const e = await sdkError(graph.api('/domains').middlewareOptions(noRetry()).get());
      assert.equal(e.statusCode, 503);
    });

    it('reset and malformed faults', async () => {
      demo.knobs.faults.push({ match: 'GET /v1.0/domains', kind: 'reset', count: 1 });
      await assert.rejects(raw(demo, 'GET', '/v1.0/domains', { token }));
      demo.knobs.faults.push({ match: 'GET /v1.0/domains', kind: 'malformed', count: 1 });
      const m = await raw(demo, 'GET', '/v1.0/domains', { token });
      assert.equal(m.status, 200);
      assert.equal(m.json, undefined);
      assert.equal((await raw(demo, 'GET', '/v1.0/domains', { token })).status, 200);
    });

    it('without Entra ID P1 the reports answer 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant', async () => {
      demo.knobs.licences.entraP1 = false;
      const e = await sdkError(graph.api('/reports/authenticationMethods/userRegistrationDetails').get());
      assert.equal(e.statusCode, 403);
      assert.equal(e.code, 'Authentication_RequestFromNonPremiumTenantOrB2CTenant');
      assert.equal(e.message, "Neither tenant is B2C or tenant doesn't have premium license");
      assert.equal((await sdkError(graph.api('/auditLogs/signIns').get())).statusCode, 403);
    });

    it('PIM without P2 answers 400 AadPremiumLicenseRequired', async () => {
      const e = await sdkError(graph.api('/roleManagement/directory/roleEligibilityScheduleInstances').get());
      assert.equal(e.statusCode, 400);
      assert.equal(e.code, 'AadPremiumLicenseRequired');
      demo.knobs.licences.entraP2 = true;
      assert.deepEqual((await graph.api('/roleManagement/directory/roleEligibilityScheduleInstances').get()).value, []);
      assert.equal((await graph.api('/identityProtection/riskyUsers').filter("riskLevel eq 'high'").get()).value[0].id, DEMO_USERS.dana.id);
    });

    it('a missing application permission answers 403 Authorization_RequestDenied', async () => {
      demo.knobs.grantedRoles = ['User.Read.All'];
      const e = await sdkError(graph.api('/auditLogs/signIns').get());
      assert.equal(e.statusCode, 403);
      assert.equal(e.code, 'Authorization_RequestDenied');
      const mail = await sdkError(graph.api(`/users/${DEMO_USERS.dana.id}/mailFolders/inbox/messageRules`).get());
      assert.equal(mail.code, 'ErrorAccessDenied');
      assert.ok((await graph.api('/users').top(1).get()).value.length === 1);
      // New tokens carry only the granted roles.
      const fresh = await raw(demo, 'POST', `/${DEMO_TENANT_ID}/oauth2/v2.0/token`, { form: `grant_type=client_credentials&client_id=${demo.clientId}&client_secret=${demo.clientSecret}&scope=${encodeURIComponent(demo.baseUrl + '/.default')}` });
      assert.deepEqual(decodeJwt(fresh.json.access_token).roles, ['User.Read.All']);
    });
  });

  describe('roles', () => {
    it('lists built-in definitions; assignments with $expand=principal; DELETE removes', async () => {
      const defs = await graph.api('/roleManagement/directory/roleDefinitions').get();
      assert.equal(defs.value.find((d: any) => d.displayName === 'Global Administrator').templateId, ROLE_TEMPLATE_IDS.globalAdministrator);
      const gas = await graph
        .api('/roleManagement/directory/roleAssignments')
        .filter(`roleDefinitionId eq '${ROLE_TEMPLATE_IDS.globalAdministrator}'`)
        .expand('principal')
        .get();
      assert.equal(gas.value.length, 6);
      assert.ok(gas.value.every((a: any) => a.principal['@odata.type'] === '#microsoft.graph.user'));
      const it = gas.value.find((a: any) => a.principalId === DEMO_USERS.itsupport.id);
      assert.equal(it.principal.userPrincipalName, 'itsupport@northwinddental.onmicrosoft.com');
      await graph.api(`/roleManagement/directory/roleAssignments/${it.id}`).delete();
      const after = await graph.api('/roleManagement/directory/roleAssignments').filter(`roleDefinitionId eq '${ROLE_TEMPLATE_IDS.globalAdministrator}'`).get();
      assert.equal(after.value.length, 5);
      const reg = await graph.api(`/reports/authenticationMethods/userRegistrationDetails/${DEMO_USERS.itsupport.id}`).get();
      assert.equal(reg.isAdmin, false);
    });
  });

  describe('mail', () => {
    it('lists, patches and deletes inbox rules; forwarding story present', async () => {
      const rules = await graph.api(`/users/${DEMO_USERS.dana.id}/mailFolders/inbox/messageRules`).get();
      const invoices = rules.value.find((r: any) => r.displayName === 'Invoices');
      assert.equal(invoices.isEnabled, true);
      assert.deepEqual(invoices.conditions.subjectContains, ['invoice']);
      assert.match(invoices.actions.forwardTo[0].emailAddress.address, /@gmail\.com$/);
      const patched = await graph.api(`/users/${DEMO_USERS.dana.id}/mailFolders/inbox/messageRules/${invoices.id}`).patch({ isEnabled: false });
      assert.equal(patched.isEnabled, false);
      assert.equal(demo.tenant().findUser(DEMO_USERS.dana.id)!.inboxRules.find((r) => r.id === invoices.id)!.isEnabled, false);
      await graph.api(`/users/${DEMO_USERS.dana.id}/mailFolders/inbox/messageRules/${invoices.id}`).delete();
      const gone = await sdkError(graph.api(`/users/${DEMO_USERS.dana.id}/mailFolders/inbox/messageRules/${invoices.id}`).get());
      assert.equal(gone.statusCode, 404);
      const disabled = await graph.api(`/users/${DEMO_USERS.isaiah.id}/mailFolders/inbox/messageRules`).get();
      assert.equal(disabled.value[0].isEnabled, false);
      assert.match(disabled.value[0].actions.redirectTo[0].emailAddress.address, /@outlook\.com$/);
    });

    it('a user without a mailbox answers 404 MailboxNotEnabledForRESTAPI', async () => {
      const e = await sdkError(graph.api(`/users/${DEMO_USERS.itsupport.id}/mailFolders/inbox/messageRules`).get());
      assert.equal(e.statusCode, 404);
      assert.equal(e.code, 'MailboxNotEnabledForRESTAPI');
    });

    it('enforces 4 concurrent requests per mailbox (5th → 429 ApplicationThrottled with Retry-After)', async () => {
      demo.knobs.latencyMs = 150;
      const path = `/v1.0/users/${DEMO_USERS.dana.id}/mailFolders/inbox/messageRules`;
      const results = await Promise.all(Array.from({ length: 6 }, () => raw(demo, 'GET', path, { token })));
      const statuses = results.map((r) => r.status).sort();
      assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429]);
      const throttled = results.find((r) => r.status === 429)!;
      assert.equal(throttled.json.error.code, 'ApplicationThrottled');
      assert.ok(throttled.headers['retry-after']);
      // Another mailbox is unaffected, and slots are released afterwards.
      assert.equal((await raw(demo, 'GET', path, { token })).status, 200);
    });
  });

  describe('tenant data', () => {
    it('domains and organization', async () => {
      const org = await graph.api('/organization').get();
      assert.equal(org.value[0].id, DEMO_TENANT_ID);
      assert.equal(org.value[0].countryLetterCode, 'GB');
      const domains = await graph.api('/domains').get();
      const def = domains.value.find((d: any) => d.isDefault);
      assert.equal(def.id, 'northwinddental.co.uk');
      assert.ok(domains.value.find((d: any) => d.isInitial).id.endsWith('.onmicrosoft.com'));
    });

    it('sign-ins: filters and the Nigeria story', async () => {
      const since = new Date(Date.now() - 30 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const ok = await graph.api('/auditLogs/signIns').filter(`createdDateTime ge ${since} and status/errorCode eq 0 and userId eq '${DEMO_USERS.dana.id}'`).top(999).get();
      const countries = new Set(ok.value.map((s: any) => s.location.countryOrRegion));
      assert.ok(countries.has('NG') && countries.has('GB') && !countries.has('RU'));
      const all = await graph.api('/auditLogs/signIns').filter(`userId eq '${DEMO_USERS.dana.id}'`).get();
      assert.ok(all.value.some((s: any) => s.location.countryOrRegion === 'RU' && s.status.errorCode !== 0));
      const legacy = await graph.api('/auditLogs/signIns').filter("clientAppUsed eq 'IMAP4'").get();
      assert.ok(legacy.value.length > 0 && legacy.value.every((s: any) => s.userId === DEMO_USERS.lynne.id));
      const times = all.value.map((s: any) => s.createdDateTime);
      assert.deepEqual(times, [...times].sort().reverse(), 'newest first');
    });

    it('security defaults off; Conditional Access report-only admin MFA; create a policy', async () => {
      const sd = await graph.api('/policies/identitySecurityDefaultsEnforcementPolicy').get();
      assert.equal(sd.isEnabled, false);
      const policies = await graph.api('/identity/conditionalAccess/policies').get();
      assert.equal(policies.value.find((p: any) => p.displayName === 'Require MFA for admins').state, 'enabledForReportingButNotEnforced');
      assert.deepEqual(policies.value.find((p: any) => p.state === 'enabled').conditions.signInRiskLevels, ['high']);
      const created = await graph.api('/identity/conditionalAccess/policies').post({
        displayName: 'Block legacy authentication',
        state: 'enabledForReportingButNotEnforced',
        conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] }, clientAppTypes: ['exchangeActiveSync', 'other'] },
        grantControls: { operator: 'OR', builtInControls: ['block'] },
      });
      assert.ok(created.id);
      assert.equal((await graph.api('/identity/conditionalAccess/policies').get()).value.length, 3);
      await graph.api('/policies/identitySecurityDefaultsEnforcementPolicy').patch({ isEnabled: true });
      assert.equal((await graph.api('/policies/identitySecurityDefaultsEnforcementPolicy').get()).isEnabled, true);
    });

    it('secure score: ~38/80 today, a month of history, audit search control off', async () => {
      const latest = await graph.api('/security/secureScores').top(1).get();
      const s = latest.value[0];
      assert.ok(s.currentScore >= 35 && s.currentScore <= 40, String(s.currentScore));
      assert.equal(s.maxScore, 80);
      assert.equal(s.controlScores.find((c: any) => c.controlName === 'mip_search_auditlog').score, 0);
      demo.knobs.maxPageSize = 100;
      const history = await graph.api('/security/secureScores').top(31).get();
      assert.equal(history.value.length, 31);
      assert.ok(history.value[30].currentScore > s.currentScore, 'trending down');
      const profiles = await graph.api('/security/secureScoreControlProfiles').get();
      assert.ok(profiles.value.some((p: any) => p.id === 'mip_search_auditlog'));
    });

    it('control API and reset', async () => {
      const k = await raw(demo, 'POST', '/_demo/knobs', { body: { latencyMs: 0, faults: [{ match: 'GET /v1.0/organization', kind: 'status', status: 500, count: 1 }] } });
      assert.equal(k.status, 200);
      assert.equal((await raw(demo, 'GET', '/v1.0/organization', { token })).status, 500);
      const log = await raw(demo, 'GET', '/_demo/requests');
      assert.equal(log.json.requests.at(-1).status, 500);
      demo.tenant().findUser(DEMO_USERS.alex.id)!.user.accountEnabled = false;
      assert.equal((await raw(demo, 'POST', '/_demo/reset')).status, 204);
      assert.equal(demo.tenant().findUser(DEMO_USERS.alex.id)!.user.accountEnabled, true);
      assert.equal(demo.requests.length, 0);
    });
  });
});
