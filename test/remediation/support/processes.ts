/**
 * Vigil in child processes sharing one PostgreSQL schema, all talking to the test's demo tenant
 * over HTTPS as if it were a real tenant (client credentials, the demo's CA trusted through
 * NODE_EXTRA_CA_CERTS in those processes only).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { DEMO_APPROVER_GROUP_ID, DEMO_CLIENT_ID, type DemoTenant } from '../../../bot/demo';
import { openStore, type Store } from '../../../bot/store';

export interface SharedSchema {
  url: string;
  /** A store of the test's own on that schema (to look, and to create requests "from elsewhere"). */
  store: Store;
  drop(): Promise<void>;
}

export async function sharedSchema(databaseUrl: string): Promise<SharedSchema> {
  const schema = `vigil_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const u = new URL(databaseUrl);
  u.searchParams.set('options', `-c search_path=${schema}`);
  const store = await openStore({ databaseUrl: u.toString() });
  return {
    url: u.toString(),
    store,
    async drop() {
      await store.close();
      const c = new Client({ connectionString: databaseUrl });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    },
  };
}

export interface BotProcess {
  url: string;
  child: ChildProcess;
  /** Resolves when the process has exited (with its signal, if killed). */
  exited: Promise<NodeJS.Signals | number | null>;
  stop(): Promise<void>;
}

const CHILD = path.join(__dirname, 'vigilChild.ts');

export async function startBotProcess(demo: DemoTenant, databaseUrl: string, extra: NodeJS.ProcessEnv = {}): Promise<BotProcess> {
  const caFile = path.join(os.tmpdir(), `vigil-demo-ca-${process.pid}.pem`);
  fs.writeFileSync(caFile, demo.caCertPem);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_EXTRA_CA_CERTS: caFile,
    PORT: '0',
    LOG_LEVEL: 'silent',
    SCAN_POLL_SECONDS: '0',
    AZURE_TENANT_ID: demo.tenantId,
    AZURE_CLIENT_ID: DEMO_CLIENT_ID,
    AZURE_CLIENT_SECRET: demo.clientSecret,
    AZURE_AUTHORITY_HOST: demo.baseUrl,
    GRAPH_BASE_URL: demo.baseUrl,
    APPROVER_GROUP_ID: DEMO_APPROVER_GROUP_ID,
    DATABASE_URL: databaseUrl,
    ...extra,
  };
  const child = spawn(process.execPath, ['-r', 'tsx/cjs', CHILD], { env, cwd: path.resolve(__dirname, '../../..'), stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += String(d);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
    void exited.then((why) => reject(new Error(`bot process exited (${why}) before listening: ${stderr.slice(-2000)}`)));
  });
  return {
    url,
    child,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
