/**
 * Child process: one Vigil in MSP mode (startVigil, every simulated tenant registered as a
 * customer) whose scheduled scans of every tenant run against the shared app-wide reports budget.
 *
 * The scans are Vigil's own watchman's (claim a due job, scanTenant, commit under the lease),
 * `workers` tenants at once (SCAN_CONCURRENCY): a tenant may send at most 0.5 report requests/s,
 * so 122/10 s app-wide needs about 25 tenants scanned at once to be used at all. It ticks until it
 * finds nothing due (what SCAN_POLL_SECONDS does on a timer, without the idle polling).
 *
 * With several of these children on one PostgreSQL (--msp-processes), the scale-out budgets are
 * shared through the database (bot/store/pacingBudgets.ts), exactly as in production.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startVigil, type Vigil } from '../bot/index';
import { paceHost, sharedPacer } from '../bot/graph/pacing';
import { Watchman } from '../bot/watch/watchman';
import { parentPeer } from './ipc';
import { remoteDemo } from './remoteDemo';
import type { SimInfo } from './sim';

export interface MspPrepare {
  info: SimInfo;
  /** Tenants this process scans at once (its SCAN_CONCURRENCY). */
  workers: number;
  /** PostgreSQL (several processes share it and the Graph budgets); else embedded PGlite. */
  databaseUrl?: string;
}

export interface MspTenantRun {
  tenantId: string;
  worker: string;
  startedAt: number;
  finishedAt: number;
  status: string;
  incompleteChecks: number;
}

export interface MspResult {
  /** This process's runs (its workers' scans). */
  runs: MspTenantRun[];
  scans: number;
  pacer: ReturnType<ReturnType<typeof sharedPacer>['stats']>;
  /** Processes the pacer split the high-volume app-wide budgets among (1 = alone). */
  sharedAmong: number;
  startMs: number;
  peakRssMb: number;
  peakHeapMb: number;
  /**
   * Report requests as this process's pacer sent them, replayed through Graph's buckets: how far
   * below empty the app-wide (122/10 s) and the worst tenant's (5/10 s) bucket would go (0 = the
   * pacer itself never overspent; 429s then come from the way to Graph: arrival jitter).
   */
  pacerOverdraft: { app: number; tenant: number };
}

/** Replay send times (ms, one token each) through a token bucket: how far below empty it goes. */
function overdraft(times: number[], capacity: number, windowMs: number): number {
  const perMs = capacity / windowMs;
  let tokens = capacity;
  let last = NaN;
  let worst = 0;
  for (const t of times) {
    if (!Number.isNaN(last)) tokens = Math.min(capacity, tokens + (t - last) * perMs);
    last = t;
    tokens -= 1;
    worst = Math.max(worst, -tokens);
  }
  return worst;
}

const MB = 1024 * 1024;

let vigil: Vigil | undefined;
let workers: Watchman[] = [];
let dataDir: string | undefined;
let startMs = 0;
let peakRss = 0;
let peakHeap = 0;
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakHeap = Math.max(peakHeap, m.heapUsed);
}, 50);
sampler.unref();

async function prepare(req: MspPrepare): Promise<{ worker: string; tenants: number }> {
  const { info } = req;
  paceHost(new URL(info.baseUrl).hostname);
  dataDir = req.databaseUrl ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-msp-bench-'));
  const t0 = Date.now();
  vigil = await startVigil({
    env: {
      PORT: '0',
      ...(req.databaseUrl ? { DATABASE_URL: req.databaseUrl } : { DATA_DIR: dataDir }),
      LOG_LEVEL: 'silent',
      // The bench drives the watch itself (below); one scan per tenant in the measured round.
      SCAN_POLL_SECONDS: '0',
      SCAN_INTERVAL: '1440',
      SCAN_LEASE_SECONDS: '3600',
      SCAN_CONCURRENCY: String(Math.min(100, req.workers)),
    },
    demoTenant: remoteDemo(info),
  });
  startMs = Date.now() - t0;
  const v = vigil;
  workers = [v.watchman];
  const served = (await v.directory.refresh()).length;
  return { worker: v.watchman.worker, tenants: served };
}

async function scanAll(): Promise<MspResult> {
  const v = vigil!;
  const pacer = sharedPacer();
  pacer.reset();
  const sends: Array<[number, string]> = [];
  const stopObserving = pacer.observe((e) => {
    if (e.type !== 'send') return;
    const at = Date.now();
    for (const r of e.requests) if (r.family === 'reports') sends.push([at, e.tenantId.toLowerCase()]);
  });
  const counts = await Promise.all(
    workers.map(async (w) => {
      let n = 0;
      for (;;) {
        const done = await w.tick();
        if (done === 0) return n;
        n += done;
      }
    }),
  );
  stopObserving();
  const byTenant = new Map<string, number[]>();
  for (const [at, t] of sends) byTenant.set(t, [...(byTenant.get(t) ?? []), at]);
  const pacerOverdraft = {
    app: overdraft(sends.map(([at]) => at), 122, 10_000),
    tenant: Math.max(0, ...[...byTenant.values()].map((ts) => overdraft(ts, 5, 10_000))),
  };
  const mine = new Set(workers.map((w) => w.worker));
  const rows = await v.store.db.query<{ tenant_id: string; worker: string; started_at: Date | string; finished_at: Date | string | null; status: string; summary: { incomplete?: number } }>(
    `SELECT tenant_id, worker, started_at, finished_at, status, summary FROM scan_runs`,
  );
  const ms = (d: Date | string | null) => (d === null ? NaN : new Date(d).getTime());
  const m = process.memoryUsage();
  return {
    runs: rows
      .filter((r) => mine.has(r.worker))
      .map((r) => ({ tenantId: r.tenant_id, worker: r.worker, startedAt: ms(r.started_at), finishedAt: ms(r.finished_at), status: r.status, incompleteChecks: Number(r.summary?.incomplete ?? 0) })),
    scans: counts.reduce((a, b) => a + b, 0),
    pacer: pacer.stats(),
    sharedAmong: pacer.sharing().processes,
    startMs,
    peakRssMb: Math.max(peakRss, m.rss, process.resourceUsage().maxRSS * 1024) / MB,
    peakHeapMb: Math.max(peakHeap, m.heapUsed) / MB,
    pacerOverdraft,
  };
}

const parent = parentPeer();
parent
  .handle('prepare', (arg) => prepare(arg as MspPrepare))
  .handle('scan', () => scanAll())
  .handle('close', async () => {
    await vigil?.stop().catch(() => undefined);
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    return true;
  });
