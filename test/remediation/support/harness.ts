/**
 * Shared set-up for the remediation tests: the real Vigil (startVigil: restify, CloudAdapter,
 * Graph SDK over HTTPS, the store) against the demo tenant, Teams played by FakeTeams, and
 * helpers that read the demo tenant's request log ("what did Vigil write?").
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEMO_USERS, startDemoTenant, type DemoTenant, type RecordedRequest } from '../../../bot/demo';
import { startVigil, type Vigil, type VigilOptions } from '../../../bot/index';
import { openStore, type ActionTarget } from '../../../bot/store';
import { FakeTeams, type TeamsUser } from '../../support/fakeTeams';

export const asTeamsUser = (u: { id: string; name: string }): TeamsUser => ({ id: `29:${u.id}`, aadObjectId: u.id, name: u.name });
export const alex = asTeamsUser(DEMO_USERS.alex);
export const megan = asTeamsUser(DEMO_USERS.megan);
export const patti = asTeamsUser(DEMO_USERS.patti);
export const lynne = asTeamsUser(DEMO_USERS.lynne);

/** A person as the workflow sees them (the tenant comes from the activity, here the demo's). */
export const actor = (u: TeamsUser, tenantId: string) => ({ id: u.aadObjectId, name: u.name, tenantId });

/** Graph writes in the log: everything but reads, the $batch envelopes and approver look-ups. */
export function writesIn(requests: RecordedRequest[]): RecordedRequest[] {
  return requests.filter((r) => r.method !== 'GET' && !(r.method === 'POST' && /^\/\$batch$|\/checkMemberGroups$/.test(r.path)));
}

export interface Harness {
  demo: DemoTenant;
  vigil: Vigil;
  teams: FakeTeams;
  dataDir: string;
  tenantId: string;
  /** Writes since a mark in the request log. */
  writesSince(mark: number): RecordedRequest[];
  /** Restart Vigil on the same database (after `stop`), e.g. with another clock. */
  restart(opts?: Partial<VigilOptions>): Promise<Vigil>;
  close(): Promise<void>;
}

/** Quiet, no scheduled scans, own data folder. */
export function testEnv(dataDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent', SCAN_POLL_SECONDS: '0', ...extra };
}

/**
 * A migrated embedded database, made once per test process and copied for each Vigil: creating a
 * PGlite database takes seconds, opening a copy a fraction of that.
 */
let template: Promise<string> | undefined;
export async function freshDataDir(): Promise<string> {
  template ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-template-'));
    const store = await openStore({ dataDir: dir });
    await store.close();
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  })();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-remediation-'));
  fs.cpSync(await template, dir, { recursive: true });
  return dir;
}

export async function startHarness(opts: { env?: NodeJS.ProcessEnv; now?: () => Date; demo?: DemoTenant; approvalsChannel?: boolean } = {}): Promise<Harness> {
  const demo = opts.demo ?? (await startDemoTenant());
  const dataDir = await freshDataDir();
  const env = testEnv(dataDir, opts.env);
  let vigil = await startVigil({ env, demoTenant: demo, now: opts.now });
  const teams = new FakeTeams(vigil.url, demo.tenantId);
  await teams.start();
  if (opts.approvalsChannel !== false) {
    const res = await teams.say(megan, 'use this channel for approvals', teams.channel());
    if (res.status !== 200) throw new Error(`could not set the approvals channel: ${res.status}`);
  }
  const h: Harness = {
    demo,
    get vigil() {
      return vigil;
    },
    teams,
    dataDir,
    tenantId: demo.tenantId,
    writesSince: (mark) => writesIn(demo.requests.slice(mark)),
    async restart(more = {}) {
      vigil = await startVigil({ env, demoTenant: demo, now: opts.now, ...more });
      return vigil;
    },
    async close() {
      await teams.stop();
      await vigil.stop().catch(() => undefined);
      if (!opts.demo) await demo.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  } as Harness;
  return h;
}

/** The demo user record (live: changing it changes what Graph answers). */
export function userRecord(demo: DemoTenant, id: string) {
  const rec = demo.tenant().findUser(id);
  if (!rec) throw new Error(`no demo user ${id}`);
  return rec;
}

/** A user as a fix target, the way checks name them. */
export function userTarget(demo: DemoTenant, idOrUpn: string): ActionTarget {
  const u = userRecord(demo, idOrUpn).user;
  return { id: u.id, displayName: u.displayName, detail: u.userPrincipalName };
}
