import { strict as assert } from 'node:assert';
import type { NewApproval, Store } from '../../bot/store';
import { engines } from '../support/databases';

const T0 = new Date('2026-11-22T10:00:00Z');
const later = (min: number) => new Date(T0.getTime() + min * 60_000);

function newRequest(over: Partial<NewApproval> = {}): NewApproval {
  return {
    id: `req_${Math.random().toString(36).slice(2)}_${Date.now()}`,
    tenantId: 'tenant-a',
    actionId: 'mfa.require',
    targets: [{ id: 'user-1', displayName: 'Zoë Ångström', detail: 'zoe@contoso.com' }],
    params: {},
    summary: 'PATCH …',
    requesterId: 'alex',
    requesterName: 'Alex',
    requesterRef: { conversation: { id: 'personal-1' } },
    requiredApprovals: 1,
    createdAt: T0,
    expiresAt: later(60),
    ...over,
  };
}

for (const engine of engines()) {
  describe(`store on ${engine.name}`, function () {
    this.timeout(60_000);
    let store: Store;
    before(async () => {
      store = await engine.open();
    });
    after(async () => store?.close());

    it('round-trips a request with unicode and JSON fields', async () => {
      const created = await store.approvals.create(newRequest());
      const got = await store.approvals.get(created.id);
      assert.equal(got?.targets[0].displayName, 'Zoë Ångström');
      assert.equal(got?.state, 'pending');
      assert.deepEqual(got?.requesterRef, { conversation: { id: 'personal-1' } });
      assert.equal(got?.expiresAt.toISOString(), later(60).toISOString());
    });

    it('approval moves pending → approved once; a second approval by anyone finds nothing to do', async () => {
      const r = await store.approvals.create(newRequest());
      const first = await store.approvals.addApproval(r.id, { approverId: 'megan', approverName: 'Megan', at: T0.toISOString() }, later(1));
      assert.equal(first?.state, 'approved');
      assert.equal(first?.decidedBy, 'megan');
      const second = await store.approvals.addApproval(r.id, { approverId: 'patti', approverName: 'Patti', at: T0.toISOString() }, later(2));
      assert.equal(second, undefined);
    });

    it('two-approver requests need two distinct approvers', async () => {
      const r = await store.approvals.create(newRequest({ requiredApprovals: 2 }));
      const a = await store.approvals.addApproval(r.id, { approverId: 'megan', approverName: 'Megan', at: '' }, later(1));
      assert.equal(a?.state, 'pending');
      const again = await store.approvals.addApproval(r.id, { approverId: 'megan', approverName: 'Megan', at: '' }, later(2));
      assert.equal(again, undefined, 'the same approver twice does not count twice');
      const b = await store.approvals.addApproval(r.id, { approverId: 'patti', approverName: 'Patti', at: '' }, later(3));
      assert.equal(b?.state, 'approved');
      assert.equal(b?.approvals.length, 2);
    });

    it('an expired request cannot be approved, and the sweep expires it once', async () => {
      const r = await store.approvals.create(newRequest({ expiresAt: later(5) }));
      assert.equal(await store.approvals.addApproval(r.id, { approverId: 'megan', approverName: 'Megan', at: '' }, later(6)), undefined);
      const expired = await store.approvals.expireDue(later(6));
      assert.ok(expired.some((e) => e.id === r.id));
      assert.ok(!(await store.approvals.expireDue(later(7))).some((e) => e.id === r.id));
      assert.equal((await store.approvals.get(r.id))?.state, 'expired');
    });

    it('exactly one of many concurrent claims wins execution', async () => {
      const r = await store.approvals.create(newRequest());
      await store.approvals.addApproval(r.id, { approverId: 'megan', approverName: 'Megan', at: '' }, later(1));
      const claims = await Promise.all(Array.from({ length: 20 }, () => store.approvals.claimExecution(r.id, later(2))));
      assert.equal(claims.filter(Boolean).length, 1);
      const done = await store.approvals.finish(r.id, 'succeeded', { ok: true }, later(3));
      assert.equal(done?.state, 'succeeded');
      assert.equal(await store.approvals.finish(r.id, 'failed', {}, later(4)), undefined, 'a finished request stays finished');
    });

    it('reject and cancel only apply to pending requests', async () => {
      const r = await store.approvals.create(newRequest());
      assert.equal((await store.approvals.decide(r.id, 'rejected', 'megan', 'Megan', later(1)))?.state, 'rejected');
      assert.equal(await store.approvals.decide(r.id, 'cancelled', 'alex', 'Alex', later(2)), undefined);
      assert.equal(await store.approvals.addApproval(r.id, { approverId: 'patti', approverName: 'Patti', at: '' }, later(3)), undefined);
    });

    it('the audit trail is append-only: the database refuses updates and deletes', async () => {
      await store.audit.append({ tenantId: 'tenant-a', requestId: 'r1', actorId: 'megan', event: 'approved' }, T0);
      const rows = await store.audit.forRequest('r1');
      assert.equal(rows.length, 1);
      await assert.rejects(store.db.query(`UPDATE audit_log SET event = 'x'`), /append-only/);
      await assert.rejects(store.db.query(`DELETE FROM audit_log`), /append-only/);
    });

    it('card refs resolve only in their own tenant, kind and lifetime', async () => {
      const id = await store.cardRefs.put({ tenantId: 'tenant-a', kind: 'offer', payload: { x: 1 }, ttlMs: 60_000 }, T0);
      assert.deepEqual(await store.cardRefs.get(id, 'tenant-a', 'offer', later(0.5)), { x: 1 });
      assert.equal(await store.cardRefs.get(id, 'tenant-b', 'offer', later(0.5)), undefined);
      assert.equal(await store.cardRefs.get(id, 'tenant-a', 'view', later(0.5)), undefined);
      assert.equal(await store.cardRefs.get(id, 'tenant-a', 'offer', later(2)), undefined);
      assert.equal(await store.cardRefs.get("' OR 1=1 --", 'tenant-a', 'offer', later(0.5)), undefined);
    });

    it('channels are set per tenant and purpose, last one wins', async () => {
      await store.channels.set({ tenantId: 'tenant-a', purpose: 'approvals', ref: { c: 1 }, name: 'Security', setBy: 'megan', setAt: T0 });
      await store.channels.set({ tenantId: 'tenant-a', purpose: 'approvals', ref: { c: 2 }, name: 'Security 2', setBy: 'patti', setAt: later(1) });
      const c = await store.channels.get('tenant-a', 'approvals');
      assert.deepEqual(c?.ref, { c: 2 });
      assert.equal(await store.channels.get('tenant-b', 'approvals'), undefined);
    });
  });
}
