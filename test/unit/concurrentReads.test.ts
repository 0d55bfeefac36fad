/**
 * bot/chat/concurrentReads.ts: how long a shared read's answer may be reused. The clock is a
 * variable here, so "a second later" is exact.
 */
import { strict as assert } from 'node:assert';
import { ConcurrentReads } from '../../bot/chat/concurrentReads';

function counter() {
  let reads = 0;
  let release: Array<() => void> = [];
  return {
    get reads() {
      return reads;
    },
    /** A read that finishes when `finish()` is called, answering its own number. */
    read: () => {
      const n = ++reads;
      return new Promise<number>((resolve) => release.push(() => resolve(n)));
    },
    finish() {
      for (const r of release) r();
      release = [];
    },
  };
}

describe('ConcurrentReads', () => {
  it('callers during a running read share it; with keepMs 0 the next caller after it reads again', async () => {
    let t = 0;
    const shared = new ConcurrentReads(() => t);
    const c = counter();
    const a = shared.share('k', c.read);
    const b = shared.share('k', c.read);
    assert.equal(c.reads, 1);
    c.finish();
    assert.deepEqual(await Promise.all([a, b]), [1, 1]);
    const next = shared.share('k', c.read);
    assert.equal(c.reads, 2);
    c.finish();
    assert.equal(await next, 2);
  });

  it('keeps an answer until keepMs after its read began, then reads again', async () => {
    let t = 1_000;
    const shared = new ConcurrentReads(() => t);
    const c = counter();
    const first = shared.share('k', c.read, 1_000);
    c.finish();
    assert.equal(await first, 1);
    t = 1_999;
    assert.equal(await shared.share('k', c.read, 1_000), 1);
    t = 2_000;
    const fresh = shared.share('k', c.read, 1_000);
    c.finish();
    assert.equal(await fresh, 2);
    assert.equal(await shared.share('other', async () => 'x', 1_000), 'x', 'keys are separate');
  });

  it('never keeps a failed read, and forget() makes the next caller read afresh', async () => {
    const t = 0;
    const shared = new ConcurrentReads(() => t);
    await assert.rejects(shared.share('k', async () => Promise.reject(new Error('database away')), 1_000), /database away/);
    assert.equal(await shared.share('k', async () => 'ok', 1_000), 'ok');
    shared.forget('k');
    assert.equal(await shared.share('k', async () => 'after a change', 1_000), 'after a change');
  });
});
