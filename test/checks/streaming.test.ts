/**
 * The long reads stream (issue #7: a 100k-user tenant must fit in 256 MB): against the demo tenant
 * (real Graph SDK over HTTPS) with 3 items a page, the per-person reads of mail.forwarding,
 * mfa.enforcement and auth.methods go out while their list is still being paged — not after its
 * last page — and the answers are those of a run with pages of 10. Shared reads within a scan are
 * handed out frozen, once, without a copy per reader; streamed pages are not remembered.
 */
import { strict as assert } from 'node:assert';
import { CheckRunner, findCheck } from '../../bot/checks';
import type { CheckSettings } from '../../bot/checks/settings';
import type { CheckResult } from '../../bot/checks/types';
import { startDemoTenant, type DemoTenant } from '../../bot/demo';
import { DEMO_EXCLUDED_ACCOUNTS } from '../../bot/demo/seed';
import { GraphApi } from '../../bot/graph/api';
import { createCredential, createGraphClient } from '../../bot/graph/client';
import { withSharedReads } from '../../bot/graph/sharedReads';

describe('streaming reads', function () {
  this.timeout(60_000);
  let demo: DemoTenant;
  let graph: GraphApi;
  const settings: CheckSettings = { excludedAccounts: DEMO_EXCLUDED_ACCOUNTS, allowedCountries: [], signInLookbackDays: 30 };
  const run = async (id: string): Promise<CheckResult> => new CheckRunner(() => graph, () => new Date(), 0, settings).run(findCheck(id)!, demo.tenantId);
  const comparable = (r: CheckResult) => ({ status: r.status, reason: r.reason, findings: r.findings, gaps: r.gaps, data: r.data });

  before(async () => {
    demo = await startDemoTenant();
    const credential = createCredential({ tenantId: demo.tenantId, clientId: demo.clientId, clientSecret: demo.clientSecret, authorityHost: demo.baseUrl }, demo.caCertPem);
    graph = new GraphApi(createGraphClient({ baseUrl: demo.baseUrl, credential, trustedCaPem: demo.caCertPem, retryDelaySeconds: 0 }), demo.tenantId, { sleep: async () => undefined });
  });
  beforeEach(() => demo.reset());
  after(async () => demo?.close());

  /** Index (in arrival order) of the first request matching `per`, and of the last page of the list matching `list`. */
  function order(from: number, list: (r: DemoTenant['requests'][number]) => boolean, per: RegExp): { firstPer: number; lastPage: number; pages: number } {
    const log = demo.requests.slice(from);
    const pages = log.map((r, i) => [r, i] as const).filter(([r]) => !r.inBatch && list(r));
    return { firstPer: log.findIndex((r) => r.inBatch && per.test(r.path)), lastPage: pages[pages.length - 1]?.[1] ?? -1, pages: pages.length };
  }

  const cases: Array<{ id: string; list: (r: DemoTenant['requests'][number]) => boolean; per: RegExp }> = [
    { id: 'mail.forwarding', list: (r) => r.path === '/users', per: /\/mailFolders\/inbox\/messageRules$/ },
    { id: 'mfa.enforcement', list: (r) => r.path === '/users', per: /\/authentication\/requirements$/ },
    { id: 'auth.methods', list: (r) => r.path === '/reports/authenticationMethods/userRegistrationDetails', per: /\/authentication\/microsoftAuthenticatorMethods$/ },
  ];
  for (const c of cases) {
    it(`${c.id}: per-person reads start before the list's last page, with the same answer as with bigger pages`, async () => {
      const big = await run(c.id);
      // (Not reset in between: the seed's times move with the clock.)
      demo.knobs.maxPageSize = 3;
      const from = demo.requests.length;
      const small = await run(c.id);
      const o = order(from, c.list, c.per);
      assert.ok(o.pages >= 5, `the list took ${o.pages} pages`);
      assert.ok(o.firstPer >= 0, 'per-person reads were made');
      assert.ok(o.firstPer < o.lastPage, `first per-person read (#${o.firstPer}) before the last page (#${o.lastPage})`);
      assert.ok(small.findings.length > 0, 'has findings');
      assert.deepEqual(comparable(small), comparable(big));
    });
  }

  it('mfa.enforcement: a per-user $batch that keeps failing mid-stream leaves every uncovered member "could not tell", all counted', async () => {
    const clean = await run('mfa.enforcement');
    const cleanData = clean.data as { members: number; membersRequired: number; membersUnknown: number };
    demo.knobs.maxPageSize = 3;
    demo.knobs.faults.push({ match: 'POST /beta/$batch', kind: 'status', status: 500, count: 100_000 });
    const r = await run('mfa.enforcement');
    const data = r.data as typeof cleanData;
    assert.equal(r.findings.length, 0, 'no finding without the evidence');
    assert.equal(r.status, 'unknown');
    assert.ok(r.gaps.some((g) => g.what === 'Per-user MFA state'), JSON.stringify(r.gaps));
    assert.equal(data.members, cleanData.members, 'every member still counted (the listing went on)');
    // Those required only by their per-user state (Patti: enforced) cannot be told either.
    const perUser = (clean.data as { by: Record<string, number> }).by['per-user MFA'];
    assert.ok(perUser > 0);
    assert.equal(data.membersUnknown, clean.findings.length + cleanData.membersUnknown + perUser);
    assert.equal(data.membersRequired, cleanData.membersRequired - perUser);
  });

  it('auth.methods: Authenticator reads that keep failing drop only the "several apps" findings, with a gap', async () => {
    const clean = await run('auth.methods');
    demo.knobs.maxPageSize = 3;
    demo.knobs.faults.push({ match: /microsoftAuthenticatorMethods$/, inBatch: true, kind: 'status', status: 500, count: 100_000 });
    const r = await run('auth.methods');
    assert.ok(clean.findings.some((f) => f.key === 'several-authenticators'), 'the clean run has some');
    assert.deepEqual(
      r.findings.map((f) => `${f.subject.id} ${f.key}`),
      clean.findings.filter((f) => f.key !== 'several-authenticators').map((f) => `${f.subject.id} ${f.key}`),
    );
    assert.ok(r.gaps.some((g) => g.what === 'How many Authenticator apps each person has'));
  });

  it('signins.countries counts across pages as a single read would', async () => {
    const big = await run('signins.countries');
    demo.knobs.maxPageSize = 3;
    const small = await run('signins.countries');
    assert.ok(small.findings.length > 0);
    assert.deepEqual(comparable(small), comparable(big));
  });

  it('shared reads: one request, the same frozen answer for every reader; a reader cannot disturb another', async () => {
    const view = withSharedReads(graph);
    const from = demo.requests.length;
    const [a, b] = await Promise.all([view.all<{ id: string }>('/domains'), view.all<{ id: string }>('/domains')]);
    assert.equal(demo.requests.slice(from).filter((r) => r.path === '/domains').length, 1, 'read once');
    assert.equal(a, b, 'no copy per reader');
    const ids = b.map((d) => d.id);
    assert.throws(() => (a as Array<{ id: string }>).sort((x, y) => y.id.localeCompare(x.id)), TypeError);
    assert.throws(() => {
      (a[0] as { id: string }).id = 'evil.example';
    }, TypeError);
    assert.deepEqual(b.map((d) => d.id), ids, 'the other reader sees what Graph answered');
    // Copying first works, as checks do.
    assert.deepEqual([...a].sort((x, y) => x.id.localeCompare(y.id)).length, ids.length);
  });

  it('shared reads: a failed read is not remembered; streamed pages are not remembered', async () => {
    const view = withSharedReads(graph);
    demo.knobs.faults.push({ match: 'GET /v1.0/domains', kind: 'status', status: 500, count: 3 });
    await assert.rejects(view.all('/domains'));
    assert.ok((await view.all('/domains')).length > 0, 'the next reader reads again');
    const from = demo.requests.length;
    for (let i = 0; i < 2; i++) for await (const page of view.pages('/users', { query: { $select: 'id', $top: 999 } })) assert.ok(Array.isArray(page));
    const firstPages = demo.requests.slice(from).filter((r) => r.path === '/users' && !r.query.$skiptoken);
    assert.equal(firstPages.length, 2, 'each streaming reader reads its own pages');
  });
});
