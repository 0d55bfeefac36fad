/**
 * What a scheduled scan of an unchanged tenant costs in Graph requests (the figure the README and
 * the closing note quote): the demo tenant (Northwind, 44 users) at Graph's realistic page size
 * of 999, all 13 checks, read plainly and through the delta-synced users snapshot. The difference
 * must be exactly the user listings, replaced by one /users/delta request, with the same findings.
 *
 *   npx mocha --no-config -r tsx/cjs --extension ts --exit test/watch/scanCost.test.ts
 */
import { strict as assert } from 'node:assert';
import { CheckRunner } from '../../bot/checks';
import { loadConfig } from '../../bot/config';
import { startDemoTenant, type DemoTenant } from '../../bot/demo';
import { connectGraph, type GraphConnection } from '../../bot/graph/connect';
import { withUserSnapshot } from '../../bot/graph/userSnapshot';
import { openStore, type Store } from '../../bot/store';
import { scanTenant, type ScanOptions } from '../../bot/watch/scanner';

describe('the cost of scanning an unchanged tenant', function () {
  this.timeout(60_000);
  let demo: DemoTenant;
  let connection: GraphConnection;
  let store: Store;

  before(async () => {
    demo = await startDemoTenant();
    demo.knobs.maxPageSize = 999;
    connection = await connectGraph(loadConfig({}), { demoTenant: demo });
    store = await openStore({});
  });
  after(async () => {
    await store?.close();
    await demo?.close();
  });

  async function scan(opts: ScanOptions) {
    const runner = new CheckRunner((t) => connection.connectTenant(t));
    demo.requests.length = 0;
    const out = await scanTenant(runner, demo.tenantId, opts);
    const http = demo.requests.filter((r) => !r.inBatch);
    const inner = demo.requests.filter((r) => r.inBatch).length;
    return {
      keys: out.current.map((c) => c.key).sort(),
      http: http.length,
      batches: http.filter((r) => r.path === '/$batch').length,
      evaluated: http.filter((r) => r.path !== '/$batch').length + inner,
      listings: http.filter((r) => r.path.toLowerCase() === '/users').length,
      deltas: http.filter((r) => /^\/users\/(microsoft\.graph\.)?delta$/i.test(r.path)).length,
    };
  }

  it('with incremental users: the user listings become one /users/delta request, the findings stay the same', async () => {
    const viaSnapshot: ScanOptions = { graphView: (g, t) => withUserSnapshot(g, store.directoryUsers, { tenantId: t }) };
    const plain = await scan({});
    await scan(viaSnapshot); // the first round fills the snapshot
    const unchanged = await scan(viaSnapshot);
    assert.ok(plain.listings >= 2, `plain scans list users more than once (${plain.listings})`);
    assert.equal(unchanged.listings, 0);
    assert.equal(unchanged.deltas, 1);
    assert.equal(unchanged.http, plain.http - plain.listings + 1);
    assert.deepEqual(unchanged.keys, plain.keys, 'same findings');
    console.log(
      `      unchanged Northwind (44 users, 13 checks, page size 999): ${plain.http} HTTP requests plain (${plain.listings} user listings), ` +
        `${unchanged.http} with incremental users (1 /users/delta; ${unchanged.batches} $batch requests carrying the per-mailbox and per-user reads, ${unchanged.evaluated} evaluated)`,
    );
  });
});
