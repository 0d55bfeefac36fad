/**
 * Composition root: the only place that wires Vigil's rooms together. `startVigil` is what
 * `npm start` runs and what the end-to-end tests start in-process.
 */
import * as fs from 'node:fs';
import { ApprovalNotifier, ApprovalViews } from './chat/approvalCards';
import { Assistant } from './chat/assistant';
import { CheckRunner, checkSettingsFor } from './checks';
import { ConfigError, loadConfig, type VigilConfig } from './config';
import { DEMO_APPROVER_GROUP_ID, type DemoTenant } from './demo';
import { DEMO_EXCLUDED_ACCOUNTS } from './demo/seed';
import type { GraphApi } from './graph/api';
import { connectGraph } from './graph/connect';
import { createLogger, type Logger } from './log';
import { ApproverDirectory } from './remediation/approvers';
import { AuditExports } from './remediation/auditTrail';
import { ApprovalWorkflow, type WorkflowDeps } from './remediation/workflow';
import { openStore, ReportFileStore, TeamsUserDirectory, type Store } from './store';
import { PacingBudgetStore } from './store/pacingBudgets';
import { sharedPacer } from './graph/pacing';
import { VigilActivityHandler } from './teams/activityHandler';
import { createAdapter, type AdapterOptions } from './teams/adapter';
import { TeamsMessenger } from './teams/messenger';
import { startServer } from './teams/server';
import { ReportChat } from './chat/reports';
import { LinkSigner, ReportDesk } from './report';
import { AlertDelivery } from './chat/alerts';
import { TenantDirectory } from './tenants/directory';
import { readTenantsFile, registerTenants } from './tenants/bulk';
import { quickIntervalOf, Watchman } from './watch/watchman';
import { Tenancy } from './chat/tenancy';
import { WatchCommands } from './chat/watchCommands';
import { initTelemetry, observeApprovals } from './telemetry';
import { graphTokenSource } from './permissions';
import { doctorCard, runDoctor } from './cli/doctor';

export interface VigilOptions {
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Use this demo tenant instead of starting one (tests share one across cases). */
  demoTenant?: DemoTenant;
  now?: () => Date;
  /** Test seams. */
  authOverrides?: AdapterOptions['authOverrides'];
  afterWrite?: WorkflowDeps['afterWrite'];
  /** Graph retry wait when Graph sends no Retry-After (seconds). */
  retryDelaySeconds?: number;
}

export interface Vigil {
  url: string;
  port: number;
  config: VigilConfig;
  store: Store;
  demo?: DemoTenant;
  workflow: ApprovalWorkflow;
  watchman: Watchman;
  directory: TenantDirectory;
  graphFor(tenantId: string): GraphApi;
  stop(): Promise<void>;
}

export async function startVigil(opts: VigilOptions = {}): Promise<Vigil> {
  const config = loadConfig(opts.env ?? process.env);
  const log = opts.logger ?? createLogger(config.logLevel);
  const now = opts.now ?? (() => new Date());
  // OpenTelemetry to Azure Monitor when APPLICATIONINSIGHTS_CONNECTION_STRING is set (tests init their own).
  const telemetry = config.telemetry.connectionString ? initTelemetry({ connectionString: config.telemetry.connectionString }) : undefined;

  // Graph (and the demo tenant in demo mode), built exactly as the `vigil` command line builds it.
  const connection = await connectGraph(config, { demoTenant: opts.demoTenant, now, retryDelaySeconds: opts.retryDelaySeconds });
  const { graph, demo } = connection;

  const store = await openStore({ databaseUrl: config.store.databaseUrl, dataDir: config.store.dataDir });
  // Scale-out: every process on one PostgreSQL spends the same Graph budgets (bot/graph/pacing.ts header).
  const budgets = store.db.kind === 'postgres' ? await new PacingBudgetStore(store.db).start() : undefined;
  const unsharePacing = budgets ? sharedPacer().share(budgets) : undefined;
  // The tenants served: the home tenant, plus customer tenants registered in MSP mode.
  const directory = new TenantDirectory(store.tenants, graph.tenantId, (t) => connection.connectTenant(t), { excludedAccounts: config.checks?.excludedAccounts });
  const bulk = [
    ...(config.watch.tenantsFile ? readTenantsFile(config.watch.tenantsFile) : []),
    ...(demo ? demo.tenantIds().slice(1).map((id) => ({ tenantId: id, displayName: demo.tenant(id).organization.displayName })) : []),
  ];
  for (const problem of await registerTenants(directory, bulk, 'start-up', now())) log.warn({ problem }, 'tenant not registered');
  await directory.refresh();
  const graphFor = (tenantId: string): GraphApi => {
    if (!directory.isServed(tenantId)) throw new Error(`Vigil does not serve tenant ${tenantId}`);
    return connection.connectTenant(tenantId);
  };
  const approverPolicy =
    demo && !config.approvers.ids.length && !config.approvers.groupId ? { ids: [], groupId: DEMO_APPROVER_GROUP_ID } : config.approvers;
  // Each tenant's own approvers: the home tenant's from configuration, a customer tenant's from its registry settings.
  const approvers = new ApproverDirectory(async (tenantId) => {
    if (directory.isHome(tenantId)) return approverPolicy;
    const settings = (await directory.get(tenantId))?.settings;
    return { ids: settings?.approverIds ?? [], groupId: settings?.approverGroupId };
  }, graphFor, Date.now, directory.homeTenantId);

  const adapter = createAdapter({ ...config.bot, authOverrides: opts.authOverrides }, log);
  const messenger = new TeamsMessenger(adapter, config.bot.appId);
  const teamsUsers = new TeamsUserDirectory(store.db);
  const approvalViews = new ApprovalViews(approvers, teamsUsers, log, now);
  const checkSettings = checkSettingsFor(config, demo ? DEMO_EXCLUDED_ACCOUNTS : []);
  const notifier = new ApprovalNotifier(messenger, store.channels, store.approvals, approvalViews, log);
  const workflow = new ApprovalWorkflow({
    approvals: store.approvals,
    audit: store.audit,
    approvers,
    graphFor,
    events: observeApprovals(notifier),
    ttlMinutes: config.approvalTtlMinutes,
    enabled: config.remediation.enabled,
    highRiskApprovals: config.remediation.highRiskApprovals,
    // Break-glass accounts: the tenant's own EXCLUDED_ACCOUNTS setting, else the checks' (the demo's account in demo mode).
    breakGlassFor: async (tenantId) => {
      const own = (await directory.get(tenantId))?.settings.excludedAccounts;
      return own?.length ? own : checkSettings(tenantId).excludedAccounts;
    },
    now,
    afterWrite: opts.afterWrite,
  });
  // Posture-check settings per tenant (EXCLUDED_ACCOUNTS, ALLOWED_COUNTRIES, Exchange reader); the demo excludes its break-glass account.
  const checks = new CheckRunner(graphFor, now, undefined, checkSettings);
  // Reports ("report", "export … as CSV"): files on a shelf in the database, handed out by file
  // consent in personal chat or by a signed link that expires (GET /reports/{id}); links use
  // PUBLIC_URL, else this server. Any process on the database can serve what another made: the
  // files are in the database and, without REPORT_LINK_SECRET, so is the key that signs links.
  let publicUrl = config.publicUrl ?? '';
  const shelf = new ReportFileStore(store.db, now);
  const linkKey = config.reports.linkSecret ?? (await shelf.sharedKey('report-links'));
  const signer = new LinkSigner(linkKey, config.reports.linkMinutes, now);
  const reportDesk = new ReportDesk({ runner: checks, graphFor, signer, shelf, baseUrl: () => publicUrl, now });
  const reportChat = new ReportChat({ desk: reportDesk });
  // The audit trail as CSV ("audit log", "export audit log"), on the same shelf and links as reports.
  const auditExports = new AuditExports(
    store.audit,
    { shelve: (file, delivery) => shelf.put(file, (delivery === 'link' ? signer.ttlMinutes : 60) * 60_000), link: (file) => reportDesk.link(file) },
    now,
  );
  // "doctor" in chat (approvers): the tenant's token roles against the permissions table.
  const doctor = async (tenantId: string) => doctorCard(await runDoctor(config, { demo, tenantId }));
  // Keeping watch: scheduled scans of every served tenant, alerts to their channels.
  const alertDelivery = new AlertDelivery({ store, messenger, tenantName: (t) => directory.name(t), isApprover: (t, u) => approvers.isApprover(t, u), log, now });
  const scheduleOf = (t: { settings: { scanIntervalMinutes?: number } }) => ({
    intervalMinutes: t.settings.scanIntervalMinutes ?? config.watch.intervalMinutes,
    quickIntervalMinutes: config.watch.quickIntervalMinutes,
  });
  const watchman = new Watchman({
    store,
    runner: checks,
    tenants: async () => (await directory.refresh()).map((t) => ({ tenantId: t.tenantId, ...scheduleOf(t), alertsPaused: t.alertsPaused })),
    alerts: alertDelivery,
    log,
    now,
    leaseMs: config.watch.leaseSeconds * 1000,
    concurrency: config.watch.concurrency,
    // Scheduled scans read users through /users/delta from a snapshot in the database; chat reads Graph.
    incrementalUsers: true,
  });
  // MSP mode: which tenant a question is about; the provider's approvers see every customer tenant.
  const tenancy = new Tenancy(directory, (userId) => approvers.isApprover(directory.homeTenantId, userId));
  const watchCommands = new WatchCommands({
    store,
    directory,
    tenancy,
    isApprover: (t, u) => approvers.isApprover(t, u),
    scanNow: async (tenantId) => {
      await store.watch.makeDue(tenantId, now());
      await watchman.tick();
    },
    schedule: async (tenantId) => {
      const s = scheduleOf({ settings: (await directory.get(tenantId))?.settings ?? {} });
      return { ...s, quickIntervalMinutes: quickIntervalOf(s) };
    },
    now,
  });
  const assistant = new Assistant({
    store,
    checks,
    workflow,
    approvers,
    reports: reportChat,
    views: approvalViews,
    exports: auditExports,
    teamsUsers,
    doctor,
    tenancy,
    watch: watchCommands,
    alerts: alertDelivery,
    now,
  });
  // ALLOWED_TENANT_IDS when set; otherwise every tenant Vigil serves (home + registered).
  const allowedTenantIds = config.allowedTenantIds.length ? config.allowedTenantIds : (tenantId: string) => directory.isServed(tenantId);
  const handler = new VigilActivityHandler({ assistant, allowedTenantIds, log, files: reportChat });
  const readiness = readinessProbe(store, graphTokenSource(config, demo), log);
  const server = await startServer({ port: config.port, host: config.host, adapter, handler, log, reports: reportDesk, readiness });
  publicUrl ||= server.url;

  // A crash mid-approval loses nothing: settle what was in flight, then keep expiring on a timer.
  await workflow.reconcile().catch((err) => log.error({ err: { message: (err as Error).message } }, 'reconcile failed'));
  if (config.watch.pollSeconds > 0) watchman.start(config.watch.pollSeconds * 1000);

  const timer = setInterval(() => {
    workflow.expireDue().catch((err) => log.warn({ err: { message: (err as Error).message } }, 'expiry sweep failed'));
    // A process that died mid-execution: once its lease runs out, settle its request by reading back.
    workflow.reconcile().catch((err) => log.warn({ err: { message: (err as Error).message } }, 'reconcile sweep failed'));
    store.cardRefs.purgeExpired(now()).catch(() => undefined);
  }, 60_000);
  timer.unref();

  if (!config.bot.appId) log.warn('BOT_ID is not set: inbound Bot Framework authentication is OFF and Vigil listens on 127.0.0.1 only. Never run like this in production.');
  log.info({ url: server.url, demo: Boolean(demo), store: store.db.kind, tenants: allowedTenantIds }, 'Vigil is listening');

  return {
    url: server.url,
    port: server.port,
    config,
    store,
    demo,
    workflow,
    watchman,
    directory,
    graphFor,
    async stop() {
      clearInterval(timer);
      await watchman.stop();
      await server.close();
      unsharePacing?.();
      await budgets?.stop();
      await store.close();
      await connection.close();
      await telemetry?.shutdown();
    },
  };
}

/** GET /readyz: the database answers and a Graph token can be had (each within 5 s). Why not is logged, never returned. */
function readinessProbe(store: Store, graph: { credential: { getToken(scope: string): Promise<unknown> }; scope: string }, log: Logger): () => Promise<boolean> {
  const within = <T>(what: string, p: Promise<T>) =>
    Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} timed out`)), 5000).unref())]);
  return async () => {
    try {
      await within('database', store.db.query('SELECT 1'));
      if (!(await within('graph token', graph.credential.getToken(graph.scope)))) throw new Error('no Graph token');
      return true;
    } catch (err) {
      log.warn({ err: { message: (err as Error).message.split('\n')[0] } }, 'not ready');
      return false;
    }
  };
}

async function main(): Promise<void> {
  // A local .env is honoured for `npm start`; real deployments set the environment directly.
  if (fs.existsSync('.env')) process.loadEnvFile('.env');
  try {
    const vigil = await startVigil();
    const stop = async () => {
      await vigil.stop();
      process.exit(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (vigil.demo) {
      process.stdout.write(
        `\nVigil is running on the built-in demo tenant (Northwind Dental Care) at ${vigil.url}/api/messages\n` +
          `Chat with it: in another terminal run \`npm run playground\`, open the URL it prints, and ask "who lacks MFA?"\n\n`,
      );
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

if (require.main === module) void main();
