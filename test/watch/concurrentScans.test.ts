/**
 * One process scans several tenants at once (SCAN_CONCURRENCY): in MSP mode a tenant may make only
 * 5 report requests per 10 s, so one tenant at a time would leave Graph's app-wide budget idle
 * and take hours for hundreds of tenants. Against ten demo tenants over HTTPS, on every engine:
 * each tenant is scanned exactly once per round, never more than SCAN_CONCURRENCY at a time, and
 * a commit is fenced by the run that claimed the job.
 */
import { strict as assert } from 'node:assert';
import { CheckRunner } from '../../bot/checks';
import { loadConfig } from '../../bot/config';
import { startDemoTenant, type DemoTenant } from '../../bot/demo';
import { connectGraph, demoSeeds, type GraphConnection } from '../../bot/graph/connect';
import type { Store } from '../../bot/store';
import { Watchman } from '../../bot/watch/watchman';
import { engines } from '../support/databases';

const silent = { info() {}, warn() {} };

describe('SCAN_CONCURRENCY: a process scans several tenants at once', () => {
  it('defaults to 10 tenants; refuses 0 and fractions', () => {
    assert.equal(loadConfig({}).watch.concurrency, 10);
    assert.equal(loadConfig({ SCAN_CONCURRENCY: '25' }).watch.concurrency, 25);
    assert.throws(() => loadConfig({ SCAN_CONCURRENCY: '0' }), /SCAN_CONCURRENCY/);
    assert.throws(() => loadConfig({ SCAN_CONCURRENCY: '2.5' }), /SCAN_CONCURRENCY/);
  });

  for (const engine of engines()) {
    describe(`on ${engine.name}`, function () {
      this.timeout(120_000);
      let demo: DemoTenant;
      let connection: GraphConnection;
      let store: Store;

      before(async () => {
        demo = await startDemoTenant({ tenants: demoSeeds(10) });
        demo.knobs.latencyMs = 20; // scans long enough to overlap
        connection = await connectGraph(loadConfig({}), { demoTenant: demo });
        store = await engine.open();
      });
      after(async () => {
        await store?.close();
        await demo?.close();
      });

      it('ten tenants, four at a time: each scanned exactly once, at most four overlapping, more than one', async () => {
        const runner = new CheckRunner((t) => connection.connectTenant(t));
        const watchman = new Watchman({
          store,
          runner,
          tenants: async () => demo.tenantIds().map((tenantId) => ({ tenantId, intervalMinutes: 60, alertsPaused: false })),
          alerts: { deliver: async () => undefined },
          log: silent,
          concurrency: 4,
        });
        let running = 0;
        let most = 0;
        const runAll = runner.runAll.bind(runner);
        // Observe how many scans are in flight (the scan itself is unchanged).
        runner.runAll = async (...args) => {
          most = Math.max(most, ++running);
          try {
            return await runAll(...args);
          } finally {
            running--;
          }
        };
        assert.equal(await watchman.tick(), 10);
        const runs = await store.watch.runs();
        const perTenant = new Map<string, number>();
        for (const r of runs) perTenant.set(r.tenantId, (perTenant.get(r.tenantId) ?? 0) + (r.status === 'done' ? 1 : 0));
        assert.deepEqual([...perTenant.values()], Array(10).fill(1), 'each tenant once');
        assert.ok(most > 1 && most <= 4, `in flight at most: ${most}`);
        assert.equal(await watchman.tick(), 0, 'nothing due after the round');
      });

      it('a commit is fenced by its run: a scan whose lease was taken over, even by the same process, is discarded', async () => {
        const t = demo.tenantIds()[0].toLowerCase();
        await store.watch.makeDue(t, new Date(0));
        const first = await store.watch.claimDue('same-process', new Date(), 1);
        assert.equal(first?.tenantId, t);
        await new Promise((r) => setTimeout(r, 5)); // the 1-ms lease runs out
        const second = await store.watch.claimDue('same-process', new Date(), 60_000);
        assert.equal(second?.tenantId, t, 'taken over');
        const commit = (claim: NonNullable<typeof first>) =>
          store.watch.commitScan({ claim, worker: 'same-process', now: new Date(), nextRunAt: new Date(Date.now() + 3_600_000), current: [], completeChecks: [], alertsPaused: false, summary: {} });
        assert.equal(await commit(first!), 'lost', 'the first run lost its lease');
        assert.notEqual(await commit(second!), 'lost', 'the run holding the lease commits');
      });
    });
  }
});
