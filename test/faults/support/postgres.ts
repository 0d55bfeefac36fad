/**
 * A PostgreSQL server a test may restart. By default a private, throwaway cluster of the machine's
 * own PostgreSQL (initdb in a temporary folder, its own port and socket): restarting it disturbs
 * nobody — not the shared server other test runs use at the same time. With
 * VIGIL_TEST_RESTART_SHARED_PG=1 (`npm run test:soak`) the shared cluster itself is restarted
 * (`pg_ctlcluster … restart`), as an operator would.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';

export interface RestartablePostgres {
  /** A database URL on this server (a fresh database). */
  url: string;
  kind: 'private' | 'shared';
  /** Stop the server, wait `downMs`, start it again; resolves once it accepts connections. */
  restart(downMs?: number): Promise<void>;
  close(): Promise<void>;
}

function binDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return undefined;
  const versions = fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0], 'bin') : undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const c = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await c.connect();
      await c.query('SELECT 1');
      await c.end();
      return;
    } catch {
      await c.end().catch(() => undefined);
      if (Date.now() > until) throw new Error(`PostgreSQL at ${url.replace(/:[^:@/]*@/, ':***@')} did not come back within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A private cluster, or undefined when PostgreSQL's server binaries are not installed. */
export async function privatePostgres(): Promise<RestartablePostgres | undefined> {
  const bin = binDir();
  if (!bin) return undefined;
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args]] : [path.join(bin, cmd), args];
    const out = spawnSync(file, argv, { encoding: 'utf8' });
    if (out.status !== 0) throw new Error(`${cmd} failed: ${out.stderr || out.stdout}`);
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-pg-'));
  if (asRoot) execFileSync('chown', ['postgres:', dir]);
  const data = path.join(dir, 'data');
  const port = await freePort();
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const start = () => run('pg_ctl', ['-D', data, '-l', path.join(dir, 'log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  const stop = () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  start();
  const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await waitReady(admin);
  const c = new Client({ connectionString: admin });
  await c.connect();
  await c.query('CREATE DATABASE vigil');
  await c.end();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/vigil`,
    kind: 'private',
    async restart(downMs = 1500) {
      stop();
      await sleep(downMs);
      start();
      await waitReady(admin);
    },
    async close() {
      try {
        stop();
      } catch {
        // already stopped
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The shared cluster (DATABASE_URL): a fresh database on it, and a real `pg_ctlcluster restart`. */
export async function sharedPostgres(databaseUrl: string): Promise<RestartablePostgres> {
  const version = fs.readdirSync('/etc/postgresql')[0];
  const name = `vigil_restart_${process.pid}_${Date.now()}`;
  const admin = new Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(databaseUrl);
  u.pathname = `/${name}`;
  const ctl = (action: string) => execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action], { stdio: 'ignore' });
  return {
    url: u.toString(),
    kind: 'shared',
    async restart(downMs = 1500) {
      ctl('stop');
      await sleep(downMs);
      ctl('start');
      await waitReady(databaseUrl);
    },
    async close() {
      const c = new Client({ connectionString: databaseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
