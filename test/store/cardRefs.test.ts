/**
 * A card's buttons are written in one INSERT (CardRefStore.batch), shared with the other
 * cards ready at the same time (group commit). Each reference must still resolve only in its own
 * tenant, kind and lifetime, with its own payload — exactly as one written alone by `put` — and a
 * card the database refuses must not take the others down with it.
 */
import { strict as assert } from 'node:assert';
import { CardRefStore, type Queryable, type Store } from '../../bot/store';
import { engines } from '../support/databases';

const T0 = new Date('2026-11-22T10:00:00Z');
const later = (min: number) => new Date(T0.getTime() + min * 60_000);

for (const engine of engines()) {
  describe(`card refs written together on ${engine.name}`, function () {
    this.timeout(60_000);
    let store: Store;
    before(async () => {
      store = await engine.open();
    });
    after(async () => store?.close());

    it('one batch writes each reference with its own tenant, kind, user, payload and lifetime', async () => {
      const batch = store.cardRefs.batch(T0);
      const ids = [
        batch.add({ tenantId: 'tenant-a', userId: 'alex', kind: 'offer', payload: { target: { displayName: 'Zoë ${secret} \'; DROP TABLE card_refs; --' } }, ttlMs: 60_000 }),
        batch.add({ tenantId: 'tenant-b', kind: 'view', payload: { checkId: 'mfa.registration', page: 2 }, ttlMs: 120_000 }),
        batch.add({ tenantId: 'tenant-a', kind: 'offer-all', payload: { targets: [1, 2, 3] }, ttlMs: 60_000 }),
      ];
      await batch.save();
      assert.equal(ids.length, 3);
      assert.equal(new Set(ids).size, 3);
      for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{22}$/);
      assert.deepEqual(await store.cardRefs.get(ids[0], 'tenant-a', 'offer', later(0.5)), { target: { displayName: 'Zoë ${secret} \'; DROP TABLE card_refs; --' } });
      assert.equal(await store.cardRefs.get(ids[0], 'tenant-b', 'offer', later(0.5)), undefined, 'other tenant');
      assert.equal(await store.cardRefs.get(ids[0], 'tenant-a', 'view', later(0.5)), undefined, 'other kind');
      assert.equal(await store.cardRefs.get(ids[0], 'tenant-a', 'offer', later(1)), undefined, 'expired');
      assert.deepEqual(await store.cardRefs.find(ids[1], 'view', later(1.5)), { tenantId: 'tenant-b', payload: { checkId: 'mfa.registration', page: 2 } });
      assert.equal(await store.cardRefs.get(ids[1], 'tenant-b', 'view', later(2)), undefined, 'its own lifetime');
      assert.deepEqual(await store.cardRefs.get(ids[2], 'tenant-a', 'offer-all', later(0.5)), { targets: [1, 2, 3] });
      const [row] = await store.db.query<{ user_id: string | null; created_at: Date; expires_at: Date }>(`SELECT user_id, created_at, expires_at FROM card_refs WHERE id = $1`, [ids[0]]);
      assert.equal(row.user_id, 'alex');
      assert.equal(new Date(row.created_at).toISOString(), T0.toISOString());
      assert.equal(new Date(row.expires_at).toISOString(), later(1).toISOString());
    });

    it('a batch hands out ids at once, and they resolve only after save()', async () => {
      const batch = store.cardRefs.batch(T0);
      const a = batch.add({ tenantId: 'tenant-a', kind: 'view', payload: { page: 1 }, ttlMs: 60_000 });
      const b = batch.add({ tenantId: 'tenant-a', kind: 'view', payload: { page: 2 }, ttlMs: 60_000 });
      assert.equal(batch.size, 2);
      assert.equal(await store.cardRefs.get(a, 'tenant-a', 'view', later(0.5)), undefined, 'not yet saved');
      await batch.save();
      assert.equal(batch.size, 0);
      assert.deepEqual(await store.cardRefs.get(a, 'tenant-a', 'view', later(0.5)), { page: 1 });
      assert.deepEqual(await store.cardRefs.get(b, 'tenant-a', 'view', later(0.5)), { page: 2 });
      await batch.save(); // nothing new: no statement, no error
    });

    it('cards ready at the same time share one INSERT (group commit); each caller resolves once its rows are in', async () => {
      const statements: string[] = [];
      const counting: Queryable = {
        query: (sql, params) => {
          if (/INSERT INTO card_refs/.test(sql)) statements.push(sql);
          return store.db.query(sql, params);
        },
      };
      const refs = new CardRefStore(counting);
      const cards = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const batch = refs.batch(T0);
          const ids = Array.from({ length: 12 }, (_, j) => batch.add({ tenantId: i % 2 ? 'tenant-a' : 'tenant-b', kind: 'offer', payload: { card: i, button: j }, ttlMs: 60_000 }));
          await batch.save();
          // Resolved only after the commit: every id of this card resolves now, in its own tenant only.
          for (const [j, id] of ids.entries()) assert.deepEqual(await refs.get(id, i % 2 ? 'tenant-a' : 'tenant-b', 'offer', later(0.5)), { card: i, button: j });
          assert.equal(await refs.get(ids[0], i % 2 ? 'tenant-b' : 'tenant-a', 'offer', later(0.5)), undefined);
          return ids;
        }),
      );
      assert.equal(new Set(cards.flat()).size, 240);
      assert.equal(statements.length, 1, `${statements.length} INSERTs for 20 cards saved together`);
    });

    it('a card the database refuses fails alone: the cards written with it are still saved', async () => {
      const refs = new CardRefStore(store.db);
      const good = refs.batch(T0);
      const goodId = good.add({ tenantId: 'tenant-a', kind: 'view', payload: { page: 1 }, ttlMs: 60_000 });
      const bad = refs.batch(T0);
      // PostgreSQL refuses NUL in jsonb (inbound text is stripped of it; this is the last line of defence).
      bad.add({ tenantId: 'tenant-a', kind: 'view', payload: { text: 'nul \u0000 here' }, ttlMs: 60_000 });
      const other = refs.batch(T0);
      const otherId = other.add({ tenantId: 'tenant-b', kind: 'view', payload: { page: 2 }, ttlMs: 60_000 });
      const [a, b, c] = await Promise.allSettled([good.save(), bad.save(), other.save()]);
      assert.equal(a.status, 'fulfilled');
      assert.equal(b.status, 'rejected');
      assert.equal(c.status, 'fulfilled');
      assert.deepEqual(await refs.get(goodId, 'tenant-a', 'view', later(0.5)), { page: 1 });
      assert.deepEqual(await refs.get(otherId, 'tenant-b', 'view', later(0.5)), { page: 2 });
    });

    it('put still writes a single reference', async () => {
      const id = await store.cardRefs.put({ tenantId: 'tenant-a', kind: 'pick', payload: { text: 'who lacks MFA?' }, ttlMs: 60_000 }, T0);
      assert.deepEqual(await store.cardRefs.get(id, 'tenant-a', 'pick', later(0.5)), { text: 'who lacks MFA?' });
    });
  });
}
