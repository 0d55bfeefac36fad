import { strict as assert } from 'node:assert';
import { FileShelf, LinkSigner } from '../../bot/report/links';
import { loadConfig } from '../../bot/config';
import { ReportFileStore, type Store } from '../../bot/store';
import { engines } from '../support/databases';

describe('signed report links', () => {
  let t = Date.parse('2026-11-20T10:00:00Z');
  const clock = () => new Date(t);
  const signer = new LinkSigner('a-test-secret-that-is-long-enough-123456', 15, clock);

  it('a fresh token for the right id is accepted, until it expires (15 minutes by default)', () => {
    const { token, expiresAt } = signer.sign('abc');
    assert.equal(expiresAt.getTime() - t, 15 * 60_000);
    assert.equal(signer.verify('abc', token), 'ok');
    t += 14 * 60_000;
    assert.equal(signer.verify('abc', token), 'ok');
    t += 60_000;
    assert.equal(signer.verify('abc', token), 'expired');
  });

  it('refuses a missing token', () => {
    assert.equal(signer.verify('abc', undefined), 'missing');
    assert.equal(signer.verify('abc', ''), 'missing');
  });

  it('refuses an altered token: signature, expiry, or a token made for another id', () => {
    const { token } = signer.sign('abc');
    const [exp, sig] = token.split('.');
    const flipped = sig.slice(0, 10) + (sig[10] === 'A' ? 'B' : 'A') + sig.slice(11);
    assert.equal(signer.verify('abc', `${exp}.${flipped}`), 'invalid');
    assert.equal(signer.verify('abc', `${Number(exp) + 3600}.${sig}`), 'invalid', 'the expiry is signed: it cannot be extended');
    assert.equal(signer.verify('abd', token), 'invalid');
    assert.equal(signer.verify('abc', `${token}x`), 'invalid');
    assert.equal(signer.verify('abc', 'garbage'), 'invalid');
  });

  it('refuses a token signed with another key (e.g. another deployment)', () => {
    const other = new LinkSigner('another-secret-that-is-long-enough-0000', 15, clock);
    assert.equal(signer.verify('abc', other.sign('abc').token), 'invalid');
  });

  it('without REPORT_LINK_SECRET each process signs with its own random key', () => {
    const a = new LinkSigner(undefined, 15, clock);
    const b = new LinkSigner(undefined, 15, clock);
    const { token } = a.sign('abc');
    assert.equal(a.verify('abc', token), 'ok');
    assert.equal(b.verify('abc', token), 'invalid');
  });
});

describe('the file shelf', () => {
  it('in memory (command line): ids are 128 random bits, files expire and the oldest go beyond the cap', async () => {
    let t = 0;
    const shelf = new FileShelf(() => new Date(t), 2);
    const put = () => shelf.put({ tenantId: 't', name: 'f', contentType: 'text/plain', bytes: Buffer.from('x') }, 1000);
    const a = await put();
    assert.match(a.id, /^[A-Za-z0-9_-]{22}$/);
    const b = await put();
    const c = await put();
    assert.equal(await shelf.get(a.id), undefined, 'dropped beyond the cap');
    assert.ok((await shelf.get(b.id)) && (await shelf.get(c.id)));
    t = 1000;
    assert.equal(await shelf.get(b.id), undefined, 'expired');
    assert.notEqual(b.id, c.id);
  });

  for (const engine of engines()) {
    describe(`in the database (${engine.name})`, () => {
      let store: Store;
      before(async () => {
        store = await engine.open();
      });
      after(() => store?.close());

      it('keeps the bytes exactly, serves them to another reader of the database, and forgets them when they expire or are withdrawn', async () => {
        let t = Date.parse('2026-11-22T10:00:00Z');
        const writer = new ReportFileStore(store.db, () => new Date(t));
        const reader = new ReportFileStore(store.db, () => new Date(t));
        const bytes = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff, 0x80, 0x0a]);
        const a = await writer.put({ tenantId: 'tenant-a', ownerId: 'user-1', name: 'Rapport é.pdf', contentType: 'application/pdf', bytes }, 60_000);
        assert.match(a.id, /^[A-Za-z0-9_-]{22}$/);
        const got = await reader.get(a.id);
        assert.ok(got);
        assert.deepEqual([got.tenantId, got.ownerId, got.name, got.contentType], ['tenant-a', 'user-1', 'Rapport é.pdf', 'application/pdf']);
        assert.ok(Buffer.isBuffer(got.bytes) && got.bytes.equals(bytes), 'binary content unchanged');
        assert.equal(await reader.get('not an id; DROP TABLE report_files'), undefined);
        const b = await writer.put({ tenantId: 'tenant-a', name: 'b.csv', contentType: 'text/csv', bytes: Buffer.from('x') }, 120_000);
        await reader.delete(b.id);
        assert.equal(await writer.get(b.id), undefined, 'withdrawn');
        t += 60_000;
        assert.equal(await reader.get(a.id), undefined, 'expired');
        await writer.put({ tenantId: 'tenant-a', name: 'c.csv', contentType: 'text/csv', bytes: Buffer.from('y') }, 1_000);
        const left = await store.db.query<{ id: string }>('SELECT id FROM report_files WHERE id = $1', [a.id]);
        assert.equal(left.length, 0, 'expired files are deleted as new ones come');
      });

      it('the link key without REPORT_LINK_SECRET is made once and is the same for every process', async () => {
        const [k1, k2] = await Promise.all([new ReportFileStore(store.db).sharedKey('report-links'), new ReportFileStore(store.db).sharedKey('report-links')]);
        assert.equal(k1, k2);
        assert.match(k1, /^[A-Za-z0-9_-]{43}$/);
        assert.notEqual(await new ReportFileStore(store.db).sharedKey('other'), k1);
        const a = new LinkSigner(k1, 15);
        const b = new LinkSigner(await new ReportFileStore(store.db).sharedKey('report-links'), 15);
        assert.equal(b.verify('abc', a.sign('abc').token), 'ok', 'a link signed by one process verifies in another');
      });
    });
  }
});

describe('report configuration', () => {
  it('defaults to 15-minute links', () => {
    assert.deepEqual(loadConfig({}).reports, { linkSecret: undefined, linkMinutes: 15 });
  });
  it('refuses a short secret and a silly lifetime, one line each', () => {
    assert.throws(() => loadConfig({ REPORT_LINK_SECRET: 'short' }), /REPORT_LINK_SECRET: must be at least 32 characters/);
    assert.throws(() => loadConfig({ REPORT_LINK_MINUTES: '0' }), /REPORT_LINK_MINUTES: must be a number of minutes from 1 to 1440/);
    assert.throws(() => loadConfig({ REPORT_LINK_MINUTES: 'soon' }), /REPORT_LINK_MINUTES/);
    assert.equal(loadConfig({ REPORT_LINK_MINUTES: '60' }).reports.linkMinutes, 60);
  });
});
