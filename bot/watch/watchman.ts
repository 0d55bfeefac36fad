/**
 * Keeps watch on its own: claims due scan jobs (one worker per tenant per interval, however
 * many Vigil processes share the database), scans, commits finding state and alerts under
 * the job's lease, then hands pending alerts to the delivery. A dead worker's lease runs out
 * and another worker scans that tenant; alerts left pending by a crash are delivered later.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { CheckRunner } from '../checks';
import type { AlertRecord, ScanClaim, Store } from '../store';
import { scanTenant } from './scanner';
import type { GraphApi } from '../graph/api';
import { withUserSnapshot } from '../graph/userSnapshot';
import { newRequestId, withLogContext } from '../log';
import { traceScan } from '../telemetry';

export interface WatchedTenant {
  tenantId: string;
  /** Minutes between full scans (every check). */
  intervalMinutes: number;
  /** Minutes between quick scans (the cheap checks) in between; 0 or absent: none. */
  quickIntervalMinutes?: number;
  alertsPaused: boolean;
}

export interface AlertSink {
  /** Send one alert; must mark it sent/failed/undeliverable in the store. */
  deliver(alert: AlertRecord): Promise<void>;
}

interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface WatchmanDeps {
  store: Store;
  runner: CheckRunner;
  tenants(): Promise<WatchedTenant[]>;
  alerts: AlertSink;
  log: Logger;
  now?: () => Date;
  /** How long a claimed scan may run before another worker may take it over. */
  leaseMs?: number;
  /** Wait before retrying a scan that failed as a whole. */
  retryMs?: number;
  worker?: string;
  /**
   * Read users incrementally: each scan syncs the tenant's users snapshot through `/users/delta`
   * once and serves the checks' user listings from it (bot/graph/userSnapshot.ts). Off by default.
   */
  incrementalUsers?: boolean;
  /**
   * Tenants this process scans at once (SCAN_CONCURRENCY). A tenant may make only 5 report
   * requests per 10 s, the app 122 across tenants: about 25 tenants at once use the whole app-wide
   * budget; one at a time, 500 tenants would take hours.
   */
  concurrency?: number;
  /** Test seam: runs after the scan's Graph reads, before its results are committed. */
  beforeCommit?: (tenantId: string) => Promise<void>;
}

/** Quick scans only make sense more often than full ones: otherwise none (0). */
export function quickIntervalOf(t: Pick<WatchedTenant, 'intervalMinutes' | 'quickIntervalMinutes'>): number {
  const quick = t.quickIntervalMinutes ?? 0;
  return quick > 0 && quick < t.intervalMinutes ? quick : 0;
}

export class Watchman {
  readonly worker: string;
  private readonly now: () => Date;
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(private readonly deps: WatchmanDeps) {
    this.now = deps.now ?? (() => new Date());
    this.worker = deps.worker ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  }

  /** Make the job table match the tenants being watched. */
  async syncJobs(): Promise<WatchedTenant[]> {
    const tenants = await this.deps.tenants();
    for (const t of tenants) await this.deps.store.watch.ensureJob(t.tenantId, this.now());
    await this.deps.store.watch.removeJobsExcept(tenants.map((t) => t.tenantId));
    // A tenant no longer watched keeps no copy of its directory.
    if (this.deps.incrementalUsers) await this.deps.store.directoryUsers.forgetExcept(tenants.map((t) => t.tenantId));
    return tenants;
  }

  /**
   * Scan every due tenant this worker can claim — up to `concurrency` tenants at once — then
   * deliver pending alerts. Returns scans done.
   */
  async tick(): Promise<number> {
    const tenants = new Map((await this.syncJobs()).map((t) => [t.tenantId.toLowerCase(), t]));
    let scans = 0;
    const lane = async () => {
      for (;;) {
        const claim = await this.deps.store.watch.claimDue(this.worker, this.now(), this.deps.leaseMs ?? 15 * 60_000);
        if (!claim) return;
        if ((await this.scanClaimed(claim, tenants.get(claim.tenantId))) !== 'failed') scans++;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.deps.concurrency ?? 1) }, lane));
    await this.deliverPending();
    return scans;
  }

  /** One claimed scan: read, commit under the lease (or release the job for a retry when it fails). */
  private async scanClaimed(claim: ScanClaim, watched: WatchedTenant | undefined): Promise<'done' | 'lost' | 'failed'> {
    const tenant = watched ?? { tenantId: claim.tenantId, intervalMinutes: 60, alertsPaused: false };
    // One scan id per scan: on every log line written while it runs, and on its span and duration metric.
    const scanId = newRequestId();
    return withLogContext({ scanId, tenantId: claim.tenantId }, () =>
      traceScan(claim.tenantId, scanId, async () => {
        try {
          const outcome = await scanTenant(this.deps.runner, claim.tenantId, { graphView: this.graphView(), quick: claim.kind === 'quick' });
          await this.deps.beforeCommit?.(claim.tenantId);
          const now = this.now();
          const committed = await this.deps.store.watch.commitScan({
            claim,
            worker: this.worker,
            now,
            nextRunAt: new Date(now.getTime() + (claim.kind === 'quick' ? quickIntervalOf(tenant) : tenant.intervalMinutes) * 60_000),
            nextQuickRunAt: quickIntervalOf(tenant) ? new Date(now.getTime() + quickIntervalOf(tenant) * 60_000) : null,
            current: outcome.current,
            completeChecks: outcome.completeChecks,
            alertsPaused: tenant.alertsPaused,
            summary: { findings: outcome.current.length, checks: outcome.results.length, incomplete: outcome.results.length - outcome.completeChecks.length },
          });
          if (committed === 'lost') this.deps.log.warn({ tenantId: claim.tenantId, worker: this.worker }, 'scan lease lost; results discarded');
          else this.deps.log.info({ tenantId: claim.tenantId, kind: claim.kind, findings: outcome.current.length, newFindings: committed.newKeys.length, alerted: committed.alert?.findingKeys.length ?? 0 }, 'scan done');
          return committed === 'lost' ? ('lost' as const) : ('done' as const);
        } catch (err) {
          const now = this.now();
          await this.deps.store.watch.failScan(claim, this.worker, (err as Error).message, now, new Date(now.getTime() + (this.deps.retryMs ?? 5 * 60_000)));
          this.deps.log.warn({ tenantId: claim.tenantId, err: { message: (err as Error).message } }, 'scan failed; will retry');
          return 'failed' as const;
        }
      }, (outcome) => outcome),
    );
  }

  /** The scan's view of a tenant's Graph: users from the delta-synced snapshot when enabled. */
  private graphView(): ((graph: GraphApi, tenantId: string) => GraphApi) | undefined {
    if (!this.deps.incrementalUsers) return undefined;
    return (graph, tenantId) => withUserSnapshot(graph, this.deps.store.directoryUsers, { tenantId, now: this.now, log: this.deps.log });
  }

  async deliverPending(): Promise<number> {
    let sent = 0;
    for (;;) {
      const batch = await this.deps.store.watch.claimPendingAlerts(this.now());
      if (!batch.length) return sent;
      for (const alert of batch) {
        await this.deps.alerts.deliver(alert);
        sent++;
      }
    }
  }

  /** Poll for due work every `pollMs` until stopped; overlapping ticks are skipped. */
  start(pollMs: number): void {
    const loop = () => {
      if (this.running) return;
      this.running = this.tick()
        .catch((err) => this.deps.log.warn({ err: { message: (err as Error).message } }, 'watch tick failed'))
        .finally(() => (this.running = undefined));
    };
    // The first look waits one period too: a process that just started answers chat first.
    this.timer = setInterval(loop, pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
