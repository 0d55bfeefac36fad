/**
 * Composition root: the only place that wires Vigil's rooms together. `startVigil` is what
 * `npm start` runs and what the end-to-end tests start in-process.
 */
import * as fs from 'node:fs';
import { ApprovalNotifier } from './chat/approvalCards';
import { Assistant } from './chat/assistant';
import { CheckRunner } from './checks';
import { ConfigError, loadConfig, type GraphCredentialConfig, type VigilConfig } from './config';
import { DEMO_APPROVER_GROUP_ID, startDemoTenant, type DemoTenant } from './demo';
import { GraphApi } from './graph/api';
import { createCredential, createGraphClient } from './graph/client';
import { createLogger, type Logger } from './log';
import { ApproverDirectory } from './remediation/approvers';
import { ApprovalWorkflow, type WorkflowDeps } from './remediation/workflow';
import { openStore, type Store } from './store';
import { VigilActivityHandler } from './teams/activityHandler';
import { createAdapter, type AdapterOptions } from './teams/adapter';
import { TeamsMessenger } from './teams/messenger';
import { startServer } from './teams/server';

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
  graphFor(tenantId: string): GraphApi;
  stop(): Promise<void>;
}

export async function startVigil(opts: VigilOptions = {}): Promise<Vigil> {
  const config = loadConfig(opts.env ?? process.env);
  const log = opts.logger ?? createLogger(config.logLevel);
  const now = opts.now ?? (() => new Date());

  const ownDemo = config.demo && !opts.demoTenant ? await startDemoTenant({ now }) : undefined;
  const demo = config.demo ? (opts.demoTenant ?? ownDemo) : undefined;
  const graphSetup = demo ? demoGraphSetup(config, demo) : { baseUrl: config.graph.baseUrl, credential: config.graph.credential!, trustedCaPem: undefined };
  const credential = createCredential(graphSetup.credential, graphSetup.trustedCaPem);
  const client = createGraphClient({ baseUrl: graphSetup.baseUrl, credential, trustedCaPem: graphSetup.trustedCaPem, retryDelaySeconds: opts.retryDelaySeconds });
  const graph = new GraphApi(client, graphSetup.credential.tenantId);
  const graphFor = (tenantId: string): GraphApi => {
    if (tenantId.toLowerCase() !== graph.tenantId.toLowerCase()) throw new Error(`Vigil is not connected to tenant ${tenantId}`);
    return graph;
  };

  const store = await openStore({ databaseUrl: config.store.databaseUrl, dataDir: config.store.dataDir });
  const approverPolicy =
    demo && !config.approvers.ids.length && !config.approvers.groupId ? { ids: [], groupId: DEMO_APPROVER_GROUP_ID } : config.approvers;
  const approvers = new ApproverDirectory(approverPolicy, graphFor);

  const adapter = createAdapter({ ...config.bot, authOverrides: opts.authOverrides }, log);
  const messenger = new TeamsMessenger(adapter, config.bot.appId);
  const notifier = new ApprovalNotifier(messenger, store.channels, store.approvals, log);
  const workflow = new ApprovalWorkflow({
    approvals: store.approvals,
    audit: store.audit,
    approvers,
    graphFor,
    events: notifier,
    ttlMinutes: config.approvalTtlMinutes,
    now,
    afterWrite: opts.afterWrite,
  });
  const checks = new CheckRunner(graphFor, now);
  const assistant = new Assistant({ store, checks, workflow, approvers, now });
  const allowedTenantIds = config.allowedTenantIds.length ? config.allowedTenantIds : [graph.tenantId];
  const handler = new VigilActivityHandler({ assistant, allowedTenantIds, log });
  const server = await startServer({ port: config.port, host: config.host, adapter, handler, log });

  // A crash mid-approval loses nothing: settle what was in flight, then keep expiring on a timer.
  await workflow.reconcile().catch((err) => log.error({ err: { message: (err as Error).message } }, 'reconcile failed'));
  const timer = setInterval(() => {
    workflow.expireDue().catch((err) => log.warn({ err: { message: (err as Error).message } }, 'expiry sweep failed'));
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
    graphFor,
    async stop() {
      clearInterval(timer);
      await server.close();
      await store.close();
      if (ownDemo) await ownDemo.close();
    },
  };
}

function demoGraphSetup(config: VigilConfig, demo: DemoTenant): { baseUrl: string; credential: GraphCredentialConfig; trustedCaPem: string } {
  void config;
  return {
    baseUrl: demo.baseUrl,
    credential: { tenantId: demo.tenantId, clientId: demo.clientId, clientSecret: demo.clientSecret, authorityHost: demo.baseUrl },
    trustedCaPem: demo.caCertPem,
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
