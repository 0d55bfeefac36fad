import { strict as assert } from 'node:assert';
import { FileShelf, LinkSigner } from '../../bot/report/links';
import { loadConfig } from '../../bot/config';

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
  it('ids are 128 random bits, files expire and the oldest go beyond the cap', () => {
    let t = 0;
    const shelf = new FileShelf(() => new Date(t), 2);
    const put = () => shelf.put({ tenantId: 't', name: 'f', contentType: 'text/plain', bytes: Buffer.from('x') }, 1000);
    const a = put();
    assert.match(a.id, /^[A-Za-z0-9_-]{22}$/);
    const b = put();
    const c = put();
    assert.equal(shelf.get(a.id), undefined, 'dropped beyond the cap');
    assert.ok(shelf.get(b.id) && shelf.get(c.id));
    t = 1000;
    assert.equal(shelf.get(b.id), undefined, 'expired');
    assert.notEqual(b.id, c.id);
  });
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
