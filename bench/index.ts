/**
 * `npm run bench` — how close Vigil comes to what Microsoft Graph's documented limits allow.
 *
 *   npm run bench                      1k, 10k, 100k users (≤ 10 min on 2 cores)
 *   npm run bench -- --quick           1k and 10k only, fewer samples, runs overlapped (≤ 60 s)
 *   npm run bench -- --rtt=50 --sizes=1000,5000 --scan=both --baseline-concurrency=8 --chat-sizes=1000
 *   npm run bench -- --memory-by-check --sizes=100000     each check alone: who holds the memory
 *   npm run bench -- --profile=prof/ --parts=chat          CPU profiles; only some measurements
 *   npm run bench -- --parts=msp --msp=500x200             MSP: every tenant scanned against the shared
 *                                                          app-wide reports budget (≈ 11 min; not in the default run)
 *   (MSP: --msp-workers=N tenants scanned at once in all (SCAN_CONCURRENCY, split over the processes), --msp-processes=P Vigil processes on --database-url)
 *   (also --cold=N --warm=N --throughput=S --concurrency=N --baseline-budget=MS --database-url=… --out=FILE)
 *   (chat throughput: --chat-rate=R offers R activities/s (open loop) instead of --concurrency senders;
 *    --chat-processes=P spreads it over P Vigil processes on --database-url; see bench/chat.ts)
 *
 * For each tenant size: the Graph simulator (own process) with a generated tenant, the given
 * round-trip latency and the documented limits enforced; Vigil's full scan (own process: every
 * check in CHECKS); the baseline per-user script (own process); and the bot itself answering
 * "who lacks MFA?" over its HTTP endpoint (own process). Results: tables on stdout (Markdown)
 * and everything in bench-results.json (gitignored).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BaselineRequest, BaselineResult } from './baseline';
import { throttleBound, type TimeBound } from './bounds';
import type { ChatRequest, ChatResult } from './chat';
import { startChild, type Child } from './ipc';
import type { ScanRequest, ScanResult } from './scan';
import { CHECKS } from '../bot/checks';
import type { SimCounts, SimInfo, SimStartMany } from './sim';
import type { MspPrepare, MspResult } from './msp';

interface Options {
  quick: boolean;
  sizes: number[];
  rttMs: number;
  scanModes: Array<ScanRequest['mode']>;
  cold: number;
  warm: number;
  throughputSeconds: number;
  concurrency: number;
  /** Chat throughput as an open loop at this many activities/s (else closed loop with `concurrency` senders). */
  chatRate?: number;
  /** Vigil processes taking the chat throughput load (> 1 needs PostgreSQL). */
  chatProcesses: number;
  chatSizes: number[];
  baselineConcurrency: number;
  baselineBudgetMs: number;
  databaseUrl?: string;
  out: string;
  /** Which measurements to run (default all). */
  parts: Set<'scan' | 'baseline' | 'chat' | 'msp'>;
  /** MSP measurement: tenants × users each, tenants scanned at once in all (SCAN_CONCURRENCY summed over processes), Vigil processes (> 1 needs PostgreSQL). */
  msp: { tenants: number; users: number; workers: number; processes: number };
  /** Write V8 CPU profiles of the child processes here. */
  profileDir?: string;
  /** Diagnose memory: each check alone in its own process at the largest size (no other measurement). */
  memoryByCheck: boolean;
  /** Sizes where only the "who lacks MFA?" reads are scanned (quick mode's 10k: a full scan there needs over a minute by the reports budget alone). */
  questionOnly: number[];
}

function parseArgs(argv: string[]): Options {
  const flags = new Map<string, string>();
  for (const a of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a}`);
    flags.set(m[1], m[2] ?? 'true');
  }
  const quick = flags.get('quick') === 'true';
  const num = (k: string, d: number) => (flags.has(k) ? Number(flags.get(k)) : d);
  const list = (k: string, d: number[]) => (flags.has(k) ? flags.get(k)!.split(',').map(Number) : d);
  const sizes = list('sizes', quick ? [1_000, 10_000] : [1_000, 10_000, 100_000]);
  const scan = flags.get('scan') ?? 'concurrent';
  return {
    quick,
    sizes,
    rttMs: num('rtt', 100),
    scanModes: scan === 'both' ? ['concurrent', 'sequential'] : [scan as ScanRequest['mode']],
    cold: num('cold', quick ? 20 : 50),
    warm: num('warm', quick ? 20 : 50),
    throughputSeconds: num('throughput', quick ? 5 : 10),
    concurrency: num('concurrency', 32),
    chatRate: flags.has('chat-rate') ? Number(flags.get('chat-rate')) : undefined,
    chatProcesses: num('chat-processes', 1),
    // One size is enough for reply times and throughput (cached answers cost the same at any size);
    // 10k is the issue's reference size. --chat-sizes=1000,10000,100000 measures more.
    chatSizes: list('chat-sizes', quick ? [1_000] : [10_000]),
    baselineConcurrency: num('baseline-concurrency', 16),
    baselineBudgetMs: num('baseline-budget', quick ? 3_000 : 6_000),
    databaseUrl: flags.get('database-url'),
    out: flags.get('out') ?? path.join(process.cwd(), 'bench-results.json'),
    parts: new Set((flags.get('parts') ?? 'scan,baseline,chat').split(',') as Array<'scan' | 'baseline' | 'chat' | 'msp'>),
    msp: (() => {
      const m = /^(\d+)x(\d+)$/.exec(flags.get('msp') ?? '500x200');
      if (!m) throw new Error('--msp=TENANTSxUSERS, e.g. --msp=500x200');
      return { tenants: Number(m[1]), users: Number(m[2]), workers: num('msp-workers', 32), processes: num('msp-processes', 1) };
    })(),
    profileDir: flags.get('profile'),
    questionOnly: list('question-only', quick ? [10_000] : []),
    memoryByCheck: flags.get('memory-by-check') === 'true',
  };
}

// --- formatting ---------------------------------------------------------------------------------

const int = (n: number) => Math.round(n).toLocaleString('en-GB');
const secs = (ms: number) => (ms >= 100_000 ? `${int(ms / 1000)} s` : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 1000).toFixed(2)} s`);
const msf = (ms: number) => (ms >= 1000 ? secs(ms) : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`);
const mb = (n: number) => `${Math.round(n)} MB`;
const ratio = (a: number, b: number) => (b > 0 ? `${a / b >= 10 ? (a / b).toFixed(0) : (a / b).toFixed(1)}×` : '–');
const sum = (xs: Array<{ http: number; evaluated: number }> | undefined, k: 'http' | 'evaluated') => (xs ?? []).reduce((n, x) => n + x[k], 0);
const users = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

// --- one tenant size ----------------------------------------------------------------------------

interface ScanRun {
  result: ScanResult;
  counts: SimCounts;
  bound: TimeBound;
  /** Only these checks (quick mode's 10k: the "who lacks MFA?" reads). */
  only?: string[];
}

interface SizeResult {
  users: number;
  info: Omit<SimInfo, 'clientSecret' | 'caCertPem'>;
  scans: ScanRun[];
  baseline?: { result: BaselineResult; counts: SimCounts; bound: TimeBound; evaluatedTotal: number; boundTotal: TimeBound; lowerBound: number };
  chat?: ChatResult;
  simPeakRssMb: number;
}

let profileDir: string | undefined;

async function withChild<T>(name: string, fn: (c: Child) => Promise<T>): Promise<T> {
  const child = startChild(name, profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`] : []);
  try {
    return await fn(child);
  } finally {
    await child.stop();
  }
}

async function runBaseline(sim: Child, info: SimInfo, o: Options, log: (s: string) => void): Promise<NonNullable<SizeResult['baseline']>> {
  await sim.peer.call('begin');
  const bres = await withChild('baseline', (c) =>
  c.peer.call<BaselineResult>('run', { info, concurrency: o.baselineConcurrency, budgetMs: o.baselineBudgetMs } satisfies BaselineRequest),
  );
  const bcounts = await sim.peer.call<SimCounts>('end');
  // The bound of the whole baseline run: the sample's mix scaled to every user.
  const scale = bres.extrapolated && bres.sampledUsers ? bres.users / bres.sampledUsers : 1;
  const perUser = bcounts.evaluated - bres.listRequests;
  const evaluatedTotal = bres.extrapolated ? bres.listRequests + Math.round(perUser * scale) : bcounts.evaluated;
  const scaled: SimCounts = {
    ...bcounts,
    evaluated: evaluatedTotal,
    resourceUnits: bres.extrapolated ? Math.round(bcounts.resourceUnits * scale) : bcounts.resourceUnits,
    byFamily: Object.fromEntries(Object.entries(bcounts.byFamily).map(([k, v]) => [k, Math.round(v * scale)])) as SimCounts['byFamily'],
    throttledByFamily: Object.fromEntries(Object.entries(bcounts.throttledByFamily).map(([k, v]) => [k, Math.round(v * scale)])) as SimCounts['throttledByFamily'],
  };
  // The fewest requests for the baseline's answer (who lacks MFA, every mailbox's rules): the user
  // list, the registration report filtered to those without MFA, one rules read per mailbox.
  const t = info.truth;
  const lowerBound = Math.ceil(t.users / 999) + Math.max(1, Math.ceil(t.lackingMfa / 999)) + t.mailboxes;
  const baseline = { result: bres, counts: bcounts, bound: throttleBound(bcounts, info.truth, o.rttMs), evaluatedTotal, boundTotal: throttleBound(scaled, info.truth, o.rttMs), lowerBound };
  log(
    `   baseline: ${int(bres.totalRequests)} requests, ${secs(bres.wallMs)}${bres.extrapolated ? ` (extrapolated from ${int(bres.sampledUsers)} users in ${secs(bres.sampleMs)})` : ''}, ${bcounts.throttled} × 429 in the measured part`,
  );
  return baseline;
}

interface SimHandle {
  n: number;
  sim: Child;
  info: SimInfo;
}

async function startSim(n: number, o: Options, log: (s: string) => void): Promise<SimHandle> {
  const sim = startChild('sim');
  const info = await sim.peer.call<SimInfo>('start', { users: n, rttMs: o.rttMs });
  log(
    `- ${int(n)} users: simulator up in ${secs(info.startMs)} (${int(info.truth.enabledMembersLackingMfa)} enabled members without MFA, ${int(info.truth.usersWithRules)} mailboxes with rules, ${int(info.truth.signIns)} sign-ins)`,
  );
  return { n, sim, info };
}

async function stopSim(h: SimHandle): Promise<number> {
  const rss = await h.sim.peer.call<number>('rss').catch(() => 0);
  await h.sim.peer.call('close').catch(() => undefined);
  await h.sim.stop();
  return rss / (1024 * 1024);
}

async function measureScan(h: SimHandle, mode: ScanRequest['mode'], o: Options, log: (s: string) => void, only?: string[]): Promise<ScanRun> {
  await h.sim.peer.call('begin');
  const result = await withChild('scan', (c) => c.peer.call<ScanResult>('scan', { info: h.info, mode, only } satisfies ScanRequest));
  const counts = await h.sim.peer.call<SimCounts>('end');
  const bound = throttleBound(counts, h.info.truth, o.rttMs);
  log(
    `- ${int(h.n)} users: Vigil ${only ? only.join('+') : 'full scan'} (${mode}, ${result.checks.length} checks): ${secs(result.wallMs)} (bound ${secs(bound.ms)}), ${int(counts.http)} HTTP / ${int(counts.evaluated)} evaluated, ${counts.throttled} × 429, peak RSS ${mb(result.peakRssMb)}`,
  );
  return { result, counts, bound, only };
}

async function measureChat(h: SimHandle, o: Options, log: (s: string) => void): Promise<ChatResult> {
  const chat = await withChild('chat', (c) => {
    c.peer.handle('sim', (arg) => h.sim.peer.call((arg as { cmd: string }).cmd));
    return c.peer.call<ChatResult>('run', {
      info: h.info,
      question: 'who lacks MFA?',
      cold: o.cold,
      warm: o.warm,
      throughputSeconds: o.throughputSeconds,
      concurrency: o.concurrency,
      databaseUrl: o.databaseUrl,
      profileDir: o.profileDir,
      rate: o.chatRate,
      processes: o.chatProcesses,
    } satisfies ChatRequest);
  });
  log(
    `- ${int(h.n)} users: "who lacks MFA?" cold p50 ${msf(chat.cold.p50)} p95 ${msf(chat.cold.p95)}; warm p50 ${msf(chat.warm.p50)} p95 ${msf(chat.warm.p95)}; ${chat.throughput.perSecond.toFixed(0)} activities/s ${chatLoad(chat)} (p99 ${msf(chat.throughput.latency.p99)}, ${chat.throughput.cpuMsPerActivity.toFixed(2)} ms CPU per answer)`,
  );
  return chat;
}

/**
 * Activities per second the bot kept up with: closed loop, what it did; open loop, the rate
 * offered if every activity was answered (the window's last replies come in after it ends).
 */
function sustainedPerSecond(c: ChatResult): number {
  const t = c.throughput;
  return t.offeredPerSecond && t.errors === 0 && t.activities >= Math.floor(t.offeredPerSecond * c.throughput.seconds * 0.99) ? t.offeredPerSecond : t.perSecond;
}

/** How the chat throughput was loaded: "at 32 senders" or "offered 300/s", and over how many Vigil processes. */
function chatLoad(c: ChatResult): string {
  const t = c.throughput;
  return `${t.offeredPerSecond ? `offered ${t.offeredPerSecond}/s` : `at ${t.concurrency} senders`}${t.processes > 1 ? ` over ${t.processes} Vigil processes` : ''}`;
}

/**
 * The schedule. Chat is measured first and alone (latency and CPU sensitive). Scans are bound by
 * Graph's budgets, not by CPU, so the largest tenant's scan — minutes long: the reports budget
 * alone gives 5 requests per 10 s — runs in the background while the smaller sizes are measured.
 * Each size has its own simulator (and so its own tenant and budgets).
 */
async function runAll(o: Options, log: (s: string) => void): Promise<SizeResult[]> {
  const results = new Map<number, SizeResult>();
  const result = (h: SimHandle): SizeResult => {
    let r = results.get(h.n);
    if (!r) {
      const { clientSecret: _s, caCertPem: _c, ...info } = h.info;
      r = { users: h.n, info, scans: [], simPeakRssMb: 0 };
      results.set(h.n, r);
    }
    return r;
  };
  const sims = new Map<number, SimHandle>();
  const sim = async (n: number) => {
    let h = sims.get(n);
    if (!h) {
      h = await startSim(n, o, log);
      sims.set(n, h);
    }
    return h;
  };
  const done = async (n: number) => {
    const h = sims.get(n);
    if (!h) return;
    sims.delete(n);
    const r = result(h);
    r.simPeakRssMb = Math.max(r.simPeakRssMb, await stopSim(h));
  };
  const only = (n: number) => (o.questionOnly.includes(n) ? ['mfa.registration'] : undefined);
  const sizes = [...o.sizes].sort((a, b) => a - b);
  // The longest scan (the largest full one) runs in the background on its own simulator.
  const background = sizes.length > 1 && o.parts.has('scan') ? sizes.filter((n) => !only(n)).at(-1) : undefined;
  let long: Promise<void> = Promise.resolve();
  const startBackground = async () => {
    if (background === undefined) return;
    // Its own simulator: the baseline of that size runs on a second one meanwhile (separate
    // tenant budgets, so neither slows the other down; only the CPU is shared).
    const h = await startSim(background, o, log);
    const r = result(h);
    long = (async () => {
      try {
        for (const mode of o.scanModes) r.scans.push(await measureScan(h, mode, o, log));
      } finally {
        r.simPeakRssMb = Math.max(r.simPeakRssMb, await stopSim(h));
      }
    })();
    long.catch(() => undefined);
  };
  try {
    // Quick mode overlaps everything to fit in a minute; the full run measures chat alone first.
    if (o.quick) await startBackground();
    if (o.parts.has('chat')) {
      log(o.quick ? '\n### Chat (overlapping the scans: indicative only)' : '\n### Chat (alone on the machine)');
      for (const n of sizes.filter((x) => o.chatSizes.includes(x))) result(await sim(n)).chat = await measureChat(await sim(n), o, log);
    }
    log('\n### Scans and baselines');
    if (!o.quick) await startBackground();
    for (const n of sizes) {
      const h = await sim(n);
      const r = result(h);
      if (n !== background && o.parts.has('scan')) for (const mode of o.scanModes) r.scans.push(await measureScan(h, mode, o, log, only(n)));
      if (o.parts.has('baseline')) r.baseline = await runBaseline(h.sim, h.info, o, log);
      await done(n);
    }
    await long;
  } finally {
    for (const n of [...sims.keys()]) await done(n).catch(() => undefined);
  }
  return o.sizes.map((n) => results.get(n)!).filter(Boolean);
}

/**
 * Which check holds how much: every check alone, in a process of its own (so its peak RSS is its
 * own on top of the idle process), against the largest tenant. Three simulators side by side
 * (each with its own tenant budgets) keep the report-bound checks from queueing on each other.
 */
async function memoryByCheck(o: Options, log: (s: string) => void): Promise<string> {
  const n = Math.max(...o.sizes);
  const ids = ['(none)', ...CHECKS.map((c) => c.id)];
  const rows: string[][] = [];
  let next = 0;
  const worker = async () => {
    const h = await startSim(n, o, log);
    try {
      while (next < ids.length) {
        const id = ids[next++];
        const run = await measureScan(h, 'sequential', o, log, [id]);
        const c = run.result.checks[0];
        rows.push([id, mb(run.result.rssBeforeMb), mb(run.result.peakRssMb), `+${mb(run.result.peakRssMb - run.result.rssBeforeMb)}`, mb(run.result.peakHeapMb), secs(run.result.wallMs), c ? `${int(c.http)} / ${int(c.evaluated)}` : '–', c?.status ?? '–']);
      }
    } finally {
      await stopSim(h);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  rows.sort((a, b) => ids.indexOf(a[0]) - ids.indexOf(b[0]));
  return table(['Check (alone)', 'RSS before', 'Peak RSS', 'Added', 'Peak heap', 'Wall time', 'HTTP / evaluated', 'Status'], rows);
}

// --- MSP mode (500 tenants × 200 users) -----------------------------------------------------------
/*
 * `--parts=msp`: one simulator serving every tenant (bench/sim.ts `startMany`, limits on: the
 * reports budget of 122 / 10 s is per app, so all tenants share it) and Vigil in MSP mode
 * (bench/msp.ts: every tenant registered, scheduled scans by the watchman, SCAN_CONCURRENCY tenants at once). Measured: wall
 * time until every tenant's scan is complete vs the app-wide bound (Σ report requests − 122) /
 * 12.2 per s + RTT, 429s, fairness (slowest tenant's completion ÷ the median's), Vigil's peak RSS,
 * HTTP requests. Not in the default run: the bound alone is ≈ 11 min at 500 × 200.
 */

const REPORTS_APP = { capacity: 122, perSecond: 12.2 };
const REPORTS_TENANT = { capacity: 5, perSecond: 0.5 };

interface MspRun {
  tenants: number;
  users: number;
  workers: number;
  processes: number;
  store: string;
  simStartMs: number;
  vigilStartMs: number;
  wallMs: number;
  /** (Σ report requests − 122) / 12.2 per s (or the per-tenant term, if larger) + RTT. */
  bound: { ms: number; binding: string; reportRequests: number; reportsPerTenant: number };
  scanned: number;
  failed: number;
  incompleteChecks: number;
  /** Each tenant's completion, from the start of the round (s). */
  completion: { min: number; median: number; p90: number; max: number };
  /** Slowest tenant's completion ÷ the median's. */
  fairness: number;
  /** Each tenant's scan, from its claim to its commit (s), and slowest ÷ median. */
  scanSeconds: { min: number; median: number; max: number; ratio: number };
  counts: Pick<SimCounts, 'http' | 'evaluated' | 'batches' | 'throttled' | 'byFamily' | 'throttledByFamily' | 'resourceUnits' | 'simCpuMs'>;
  /** Per Vigil process. */
  peakRssMb: number[];
  peakHeapMb: number[];
  pacerWaitedMs: Record<string, number>;
  sharedAmong: number[];
  simPeakRssMb: number;
  /** Report sends of every process replayed through Graph's buckets (see MspResult). */
  pacerOverdraft: { app: number; tenant: number };
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] : NaN;
};

/** The app-wide bound of scanning every tenant: the shared reports budget (or one tenant's own, if that is longer). */
function mspBound(reportRequests: number, tenants: number, rttMs: number): MspRun['bound'] {
  const app = (Math.max(0, reportRequests - REPORTS_APP.capacity) / REPORTS_APP.perSecond) * 1000;
  const perTenant = reportRequests / Math.max(1, tenants);
  const tenant = (Math.max(0, perTenant - REPORTS_TENANT.capacity) / REPORTS_TENANT.perSecond) * 1000;
  return app >= tenant
    ? { ms: app + rttMs, binding: 'reports per app (122/10 s)', reportRequests, reportsPerTenant: perTenant }
    : { ms: tenant + rttMs, binding: 'reports per tenant (5/10 s)', reportRequests, reportsPerTenant: perTenant };
}

async function runMsp(o: Options, log: (s: string) => void): Promise<MspRun> {
  const { tenants, users: perTenantUsers, workers, processes } = o.msp;
  if (processes > 1 && !o.databaseUrl) throw new Error('--msp-processes > 1 needs --database-url (processes share PostgreSQL)');
  log(`\n### MSP: ${int(tenants)} tenants × ${int(perTenantUsers)} users, ${workers} tenants at once (SCAN_CONCURRENCY) in ${processes} Vigil process(es), ${o.databaseUrl ? 'PostgreSQL' : 'PGlite'}`);
  const sim = startChild('sim');
  const children: Child[] = [];
  let schema: string | undefined;
  let databaseUrl: string | undefined;
  try {
    const info = await sim.peer.call<SimInfo>('startMany', { tenants, users: perTenantUsers, rttMs: o.rttMs } satisfies SimStartMany);
    log(`- simulator up in ${secs(info.startMs)} with ${int(info.tenants?.length ?? 1)} tenants`);
    if (o.databaseUrl) {
      // A schema of its own: the round starts with no scan history, and the shared buckets are fresh.
      const { Client } = await import('pg');
      schema = `vigil_msp_bench_${Date.now().toString(36)}`;
      const admin = new Client({ connectionString: o.databaseUrl });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      await admin.end();
      const u = new URL(o.databaseUrl);
      u.searchParams.set('options', `-c search_path=${schema}`);
      databaseUrl = u.toString();
    }
    const t0 = Date.now();
    for (let p = 0; p < processes; p++) {
      const child = startChild('msp');
      children.push(child);
      const share = Math.floor(workers / processes) + (p < workers % processes ? 1 : 0);
      await child.peer.call('prepare', { info, workers: Math.max(1, share), databaseUrl } satisfies MspPrepare);
    }
    const vigilStartMs = Date.now() - t0;
    log(`- Vigil up in ${secs(vigilStartMs)}; scanning every tenant…`);
    await sim.peer.call('begin');
    const start = Date.now();
    const progress = setInterval(() => log(`  … ${secs(Date.now() - start)}`), 60_000);
    let results: MspResult[];
    try {
      results = await Promise.all(children.map((c) => c.peer.call<MspResult>('scan')));
    } finally {
      clearInterval(progress);
    }
    const wallMs = Date.now() - start;
    const counts = await sim.peer.call<SimCounts>('end');
    const runs = results.flatMap((r) => r.runs);
    const done = runs.filter((r) => r.status === 'done');
    const completion = done.map((r) => (r.finishedAt - start) / 1000);
    const durations = done.map((r) => (r.finishedAt - r.startedAt) / 1000);
    const reportRequests = counts.byFamily.reports - counts.throttledByFamily.reports;
    const waited: Record<string, number> = {};
    for (const r of results) for (const [k, v] of Object.entries(r.pacer.waitedMs)) waited[k] = (waited[k] ?? 0) + v;
    const simRss = (await sim.peer.call<number>('rss').catch(() => 0)) / (1024 * 1024);
    const run: MspRun = {
      tenants,
      users: perTenantUsers,
      workers,
      processes,
      store: o.databaseUrl ? 'PostgreSQL' : 'PGlite (embedded)',
      simStartMs: info.startMs,
      vigilStartMs,
      wallMs,
      bound: mspBound(reportRequests, tenants, o.rttMs),
      scanned: new Set(done.map((r) => r.tenantId)).size,
      failed: runs.length - done.length,
      incompleteChecks: done.reduce((n, r) => n + r.incompleteChecks, 0),
      completion: { min: quantile(completion, 0), median: quantile(completion, 0.5), p90: quantile(completion, 0.9), max: quantile(completion, 1) },
      fairness: quantile(completion, 1) / quantile(completion, 0.5),
      scanSeconds: { min: quantile(durations, 0), median: quantile(durations, 0.5), max: quantile(durations, 1), ratio: quantile(durations, 1) / quantile(durations, 0.5) },
      counts: {
        http: counts.http,
        evaluated: counts.evaluated,
        batches: counts.batches,
        throttled: counts.throttled,
        byFamily: counts.byFamily,
        throttledByFamily: counts.throttledByFamily,
        resourceUnits: counts.resourceUnits,
        simCpuMs: counts.simCpuMs,
      },
      peakRssMb: results.map((r) => r.peakRssMb),
      peakHeapMb: results.map((r) => r.peakHeapMb),
      pacerWaitedMs: waited,
      sharedAmong: results.map((r) => r.sharedAmong),
      simPeakRssMb: simRss,
      pacerOverdraft: { app: Math.max(...results.map((r) => r.pacerOverdraft.app)), tenant: Math.max(...results.map((r) => r.pacerOverdraft.tenant)) },
    };
    log(
      `- every tenant scanned (${run.scanned} of ${tenants}, ${run.failed} failed) in ${secs(wallMs)} vs bound ${secs(run.bound.ms)} (${run.bound.binding}; ${int(reportRequests)} report requests, ${run.bound.reportsPerTenant.toFixed(1)} per tenant); ${counts.throttled} × 429; fairness ${run.fairness.toFixed(2)}; peak RSS ${run.peakRssMb.map(mb).join(' + ')}`,
    );
    return run;
  } finally {
    for (const c of children) {
      await c.peer.call('close').catch(() => undefined);
      await c.stop();
    }
    await sim.peer.call('close').catch(() => undefined);
    await sim.stop();
    if (schema && o.databaseUrl) {
      const { Client } = await import('pg');
      const admin = new Client({ connectionString: o.databaseUrl });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await admin.end();
    }
  }
}

function mspTable(m: MspRun): string {
  const rows: string[][] = [
    ['Tenants × users', `${int(m.tenants)} × ${int(m.users)} (${m.workers} tenants at once, ${m.processes} Vigil process${m.processes > 1 ? 'es' : ''}, ${m.store})`],
    ['Wall time until every tenant\'s scan is complete', `${secs(m.wallMs)} (${m.scanned} of ${m.tenants} scanned${m.failed ? `, ${m.failed} failed` : ''})`],
    ['App-wide bound (Σ report requests − 122) / 12.2 per s + RTT', `${secs(m.bound.ms)} (${int(m.bound.reportRequests)} report requests, ${m.bound.reportsPerTenant.toFixed(1)} per tenant; binding: ${m.bound.binding})`],
    ['Wall time ÷ bound', `${(m.wallMs / m.bound.ms).toFixed(2)}×`],
    ['429s', `${m.counts.throttled} (${Object.entries(m.counts.throttledByFamily).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'})`],
    ['Fairness: slowest tenant completion ÷ median', `${m.fairness.toFixed(2)} (${secs(m.completion.max * 1000)} ÷ ${secs(m.completion.median * 1000)}; first ${secs(m.completion.min * 1000)}, p90 ${secs(m.completion.p90 * 1000)})`],
    ['One tenant\'s scan, claim to commit: median / slowest', `${secs(m.scanSeconds.median * 1000)} / ${secs(m.scanSeconds.max * 1000)} (${m.scanSeconds.ratio.toFixed(2)}×)`],
    ['Peak RSS of Vigil', m.peakRssMb.map(mb).join(' + ')],
    ['HTTP requests (evaluated)', `${int(m.counts.http)} (${int(m.counts.evaluated)}; reports ${int(m.counts.byFamily.reports)}, identity ${int(m.counts.byFamily.identity)}, CA/protection ${int(m.counts.byFamily.identityProtection)}, Outlook ${int(m.counts.byFamily.outlook)}, other ${int(m.counts.byFamily.other)})`],
    ['Incomplete checks (could not read)', String(m.incompleteChecks)],
    ['Pacer\'s own report sends replayed through Graph\'s buckets: overdraft app / worst tenant', `${m.pacerOverdraft.app.toFixed(2)} / ${m.pacerOverdraft.tenant.toFixed(2)} token(s)${m.processes > 1 ? ' (largest of one process)' : ''}`],
  ];
  return table(['MSP measurement', 'Value'], rows);
}

/** The default run does not measure MSP (≈ 11 min): it prints the bound computed from the smallest scan, and the command. */
function mspBoundOnly(results: SizeResult[], o: Options): string {
  const small = results.find((r) => r.users <= 1000) ?? results[0];
  const scan = small?.scans[0];
  if (!scan) return '';
  const reportsPerTenant = scan.counts.byFamily.reports - scan.counts.throttledByFamily.reports;
  const { tenants, users: each } = o.msp;
  const b = mspBound(tenants * reportsPerTenant, tenants, o.rttMs);
  return `MSP (${int(tenants)} tenants × ${int(each)} users): not measured in this run. Computed app-wide reports bound at ${reportsPerTenant} report request(s) per tenant scan (of ${users(small.users)} users): ${secs(b.ms)}. Measure it with \`npm run bench -- --parts=msp --msp=${tenants}x${each}\`.`;
}

// --- output -------------------------------------------------------------------------------------

/** The checks that answer what the baseline script answers: who lacks MFA, which mailboxes forward. */
const BASELINE_QUESTIONS = ['mfa.registration', 'mail.forwarding'];

function scanTable(results: SizeResult[], o: Options): string {
  const rows: string[][] = [];
  for (const r of results) {
    for (const s of r.scans) {
      rows.push([
        users(r.users),
        s.only ? `Vigil, "who lacks MFA?" reads only (${s.only.join(', ')})` : `Vigil full scan, ${s.result.mode} (${s.result.checks.length} checks)`,
        `${int(s.counts.http)} / ${int(s.counts.evaluated)}`,
        int(s.counts.lowerBound),
        secs(s.result.wallMs),
        `${secs(s.bound.ms)} (${s.bound.binding})`,
        String(s.counts.throttled),
        mb(s.result.peakRssMb),
      ]);
    }
    const b = r.baseline;
    if (!b) continue;
    rows.push([
      users(r.users),
      `Baseline per-user script (${o.baselineConcurrency} parallel)`,
      `${int(b.result.totalRequests)} / ${int(b.evaluatedTotal)}`,
      int(b.lowerBound),
      `${secs(b.result.wallMs)}${b.result.extrapolated ? '*' : ''}`,
      `${secs(b.boundTotal.ms)} (${b.boundTotal.binding})`,
      `${b.counts.throttled}${b.result.extrapolated ? '*' : ''}`,
      mb(b.result.peakRssMb),
    ]);
    const v = r.scans[0];
    const same = v?.result.checks.filter((c) => BASELINE_QUESTIONS.includes(c.id));
    if (v && !v.only && same?.length) {
      rows.push([
        users(r.users),
        `… of which the baseline's questions (${same.map((c) => c.id).join(' + ')})`,
        `${int(same.reduce((n, c) => n + c.http, 0))} / ${int(same.reduce((n, c) => n + c.evaluated, 0))}`,
        '',
        `${secs(Math.max(...same.map((c) => c.ms)))} (within the scan)`,
        '',
        '',
        '',
      ]);
    }
    if (v) {
      rows.push([
        users(r.users),
        v.only ? 'ratio baseline / Vigil' : 'ratio baseline / Vigil (full scan; baseline\'s questions)',
        v.only
          ? `${ratio(b.result.totalRequests, v.counts.http)} / ${ratio(b.evaluatedTotal, v.counts.evaluated)}`
          : `${ratio(b.result.totalRequests, v.counts.http)} / ${ratio(b.evaluatedTotal, v.counts.evaluated)}; ${ratio(b.result.totalRequests, sum(same, 'http'))} / ${ratio(b.evaluatedTotal, sum(same, 'evaluated'))}`,
        '',
        `${(b.result.wallMs / Math.max(1, v.result.wallMs)).toFixed(1)}×`,
        '',
        '',
        '',
      ]);
    }
  }
  return table(['Users', 'Run', 'Graph requests (HTTP / evaluated)', 'Lower bound (evaluated)', 'Wall time', 'Throttle-bound wall time (binding limit)', '429s', 'Peak RSS'], rows);
}

function chatTable(results: SizeResult[]): string {
  const rows = results
    .filter((r) => r.chat)
    .map((r) => {
      const c = r.chat!;
      return [
        users(r.users),
        `${msf(c.cold.p50)} / ${msf(c.cold.p95)} (n=${c.cold.n})`,
        `${msf(c.warm.p50)} / ${msf(c.warm.p95)} (n=${c.warm.n})`,
        `${c.coldRequests.http} HTTP / ${c.coldRequests.evaluated} evaluated (simulator CPU ${msf(c.coldRequests.simCpuMs)})`,
        `${c.throughput.perSecond.toFixed(0)}/s ${chatLoad(c)} (p50 ${msf(c.throughput.latency.p50)}, p99 ${msf(c.throughput.latency.p99)}, ${c.throughput.cpuMsPerActivity.toFixed(2)} ms CPU per answer${c.throughput.errors ? `, ${c.throughput.errors} errors` : ''}${c.throughput.replies !== c.throughput.activities ? `, only ${c.throughput.replies} replies` : ''})`,
        msf(c.firstMs),
      ];
    });
  return table(['Users', '"who lacks MFA?" cold p50 / p95', 'warm p50 / p95', 'Graph requests per cold answer', 'Throughput on cached data', 'First answer after start'], rows);
}

interface Verdict {
  target: string;
  measured: string;
  met: boolean | null;
}

function verdicts(results: SizeResult[]): Verdict[] {
  const out: Verdict[] = [];
  const at = (n: number) => results.find((r) => r.users === n);
  for (const r of results.filter((x) => x.chat)) {
    const c = r.chat!;
    const report = c.coldRequests.groups.find((g) => /userRegistrationDetails/.test(g.key));
    const pages = report?.requests ?? 0;
    const minPages = Math.max(1, Math.ceil(r.info.truth.lackingMfa / 999));
    out.push({
      target: `${users(r.users)}: "who lacks MFA?" = one request + paging over only the users lacking MFA`,
      measured: `${pages} report page(s) for ${int(r.info.truth.lackingMfa)} rows (minimum ${minPages}); ${c.coldRequests.http} HTTP requests in all`,
      met: pages === minPages && (report?.items ?? 0) <= r.info.truth.lackingMfa,
    });
    out.push({ target: `${users(r.users)}: cold p95 ≤ 1.5 s at 100 ms RTT`, measured: msf(c.cold.p95), met: c.cold.p95 <= 1500 });
    out.push({ target: `${users(r.users)}: warm p95 ≤ 100 ms`, measured: msf(c.warm.p95), met: c.warm.p95 <= 100 });
    out.push({
      target: `${users(r.users)}: ≥ 300 activities/s, p99 < 100 ms (2 cores)`,
      measured: `${c.throughput.perSecond.toFixed(0)}/s ${chatLoad(c)}, p99 ${msf(c.throughput.latency.p99)}`,
      met: sustainedPerSecond(c) >= 300 && c.throughput.latency.p99 < 100 && c.throughput.replies === c.throughput.activities,
    });
  }
  const ten = at(10_000);
  const full = (r: SizeResult | undefined) => (r?.scans ?? []).filter((s) => !s.only);
  if (ten && full(ten).length) {
    for (const s of full(ten)) {
      out.push({ target: `10k full scan (${s.result.mode}) ≤ 1.2× throttle-bound wall time`, measured: `${secs(s.result.wallMs)} vs ${secs(s.bound.ms)} = ${(s.result.wallMs / s.bound.ms).toFixed(3)}×`, met: s.result.wallMs <= 1.2 * s.bound.ms });
    }
    const s = full(ten)[0];
    if (s) {
      out.push({ target: '10k full scan provokes 0 × 429', measured: String(s.counts.throttled), met: s.counts.throttled === 0 });
      const b = ten.baseline;
      const same = s.result.checks.filter((c) => BASELINE_QUESTIONS.includes(c.id));
      if (b) out.push({
        target: '10k full scan: ≥ 100× fewer requests than the baseline',
        measured: `full scan ${ratio(b.result.totalRequests, s.counts.http)} fewer HTTP, ${ratio(b.evaluatedTotal, s.counts.evaluated)} fewer evaluated; the baseline's questions ${ratio(b.result.totalRequests, sum(same, 'http'))} / ${ratio(b.evaluatedTotal, sum(same, 'evaluated'))}`,
        met: b.result.totalRequests / Math.max(1, s.counts.http) >= 100,
      });
    }
  }
  const big = at(100_000);
  if (big && full(big).length) {
    const peak = Math.max(...full(big).map((s) => s.result.peakRssMb));
    out.push({ target: '100k users: peak RSS < 256 MB', measured: mb(peak), met: peak < 256 });
  }
  return out;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  profileDir = o.profileDir;
  if (profileDir) fs.mkdirSync(profileDir, { recursive: true });
  const t0 = Date.now();
  const log = (s: string) => process.stdout.write(`${s}\n`);
  log(`# Vigil benchmark — ${o.quick ? 'quick' : 'full'} run, RTT ${o.rttMs} ms, ${os.cpus().length} CPUs, Node ${process.version}`);
  if (o.memoryByCheck) {
    const t = await memoryByCheck(o, log);
    log(`\n## Peak RSS by check at ${int(Math.max(...o.sizes))} users (RTT ${o.rttMs} ms)\n\n${t}\n\nTotal ${secs(Date.now() - t0)}.`);
    return;
  }
  const onlyMsp = [...o.parts].every((p) => p === 'msp');
  const results = onlyMsp ? [] : await runAll(o, log);
  const msp = o.parts.has('msp') ? await runMsp(o, log) : undefined;

  const v = verdicts(results);
  const mspOut = msp
    ? ['', `## MSP: ${int(msp.tenants)} tenants × ${int(msp.users)} users against the shared reports budget (RTT ${o.rttMs} ms, documented limits enforced)`, '', mspTable(msp)]
    : ['', mspBoundOnly(results, o)];
  const out = onlyMsp ? [...mspOut, '', `Total bench time ${secs(Date.now() - t0)}.`].join('\n') : [
    '',
    `## Full scan vs baseline (RTT ${o.rttMs} ms, documented limits enforced)`,
    '',
    scanTable(results, o),
    '',
    results.some((r) => r.baseline?.result.extrapolated)
      ? `\\* baseline per-user phase measured for ${o.baselineBudgetMs / 1000} s and extrapolated linearly to every user; request counts are exact.`
      : '',
    '',
    '## Chat (through POST /api/messages)',
    '',
    chatTable(results),
    '',
    '## Targets',
    '',
    table(['Target', 'Measured', 'Met'], v.map((x) => [x.target, x.measured, x.met === null ? '–' : x.met ? 'yes' : '**no**'])),
    '',
    ...mspOut,
    '',
    `Total bench time ${secs(Date.now() - t0)}.`,
  ].join('\n');
  log(out);
  const json = {
    at: new Date().toISOString(),
    options: o,
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadAverageAtEnd: os.loadavg() },
    results,
    targets: v,
    msp: msp ? { measured: true, ...msp } : { measured: false, note: mspBoundOnly(results, o) },
    totalMs: Date.now() - t0,
  };
  if (onlyMsp && fs.existsSync(o.out)) {
    // `--parts=msp` alone adds its measurement to the last full run's results instead of replacing them.
    const previous = JSON.parse(fs.readFileSync(o.out, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(o.out, `${JSON.stringify({ ...previous, msp: { ...json.msp, at: json.at, options: o, machine: json.machine, totalMs: json.totalMs } }, null, 2)}\n`);
  } else fs.writeFileSync(o.out, `${JSON.stringify(json, null, 2)}\n`);
  log(`Results written to ${path.relative(process.cwd(), o.out) || o.out}.`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
