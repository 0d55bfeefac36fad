/**
 * Child process: one Vigil full scan — every check registered in CHECKS, read fresh through
 * Vigil's own Graph client (Graph SDK + @azure/identity, pacing on for the simulator's host,
 * exactly as production paces graph.microsoft.com) — in a process of its own, so its peak RSS
 * is Vigil's. Requests are attributed to checks through the pacer's observer.
 *
 * A check that hits endpoints the generator does not populate (or the simulator does not
 * serve) is not a benchmark failure: CheckRunner turns it into an "unknown" result, which is
 * reported as such.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
// The whole bot's modules are loaded (not started), so the RSS is that of a Vigil process.
import '../bot/index';
import { CHECKS, CheckRunner } from '../bot/checks';
import { GraphApi } from '../bot/graph/api';
import { withSharedReads } from '../bot/graph/sharedReads';
import { createCredential, createGraphClient, graphScope } from '../bot/graph/client';
import { paceHost, sharedPacer, type ApiFamily } from '../bot/graph/pacing';
import { parentPeer } from './ipc';
import type { SimInfo } from './sim';

export interface ScanRequest {
  info: SimInfo;
  /**
   * As CheckRunner.runAll does for a scan (identical reads shared across checks): 'concurrent' =
   * every check at once (the pacer spreads them); 'sequential' = one after another, as
   * bot/watch/scanner.ts asks for today (concurrency 1).
   */
  mode: 'concurrent' | 'sequential';
  /** Only these check ids (default: all of CHECKS). */
  only?: string[];
}

export interface CheckStat {
  id: string;
  status: string;
  findings: number;
  gaps: string[];
  ms: number;
  http: number;
  evaluated: number;
  byFamily: Partial<Record<ApiFamily, number>>;
  waitedMs: number;
}

export interface ScanResult {
  mode: ScanRequest['mode'];
  checks: CheckStat[];
  wallMs: number;
  /** Client side: requests the pacer let through, time it held them back, 429s seen. */
  pacer: ReturnType<ReturnType<typeof sharedPacer>['stats']>;
  rssBeforeMb: number;
  peakRssMb: number;
  peakHeapMb: number;
}

const MB = 1024 * 1024;

async function scan(req: ScanRequest): Promise<ScanResult> {
  const { info } = req;
  paceHost(new URL(info.baseUrl).hostname);
  const credential = createCredential({ tenantId: info.tenantId, clientId: info.clientId, clientSecret: info.clientSecret, authorityHost: info.baseUrl }, info.caCertPem);
  const client = createGraphClient({ baseUrl: info.baseUrl, credential, trustedCaPem: info.caCertPem });
  const graph = new GraphApi(client, info.tenantId);
  const runner = new CheckRunner(() => graph);
  const checks = CHECKS.filter((c) => !req.only || req.only.includes(c.id));
  // What runAll(…, { fresh: true }) gives every check of one scan: one view sharing identical reads.
  // (The checks are run here one by one so that each one's requests can be attributed to it.)
  const scanGraph = withSharedReads(graph);

  // The token is not part of the scan (Vigil holds one for an hour).
  await credential.getToken(graphScope(info.baseUrl));
  const pacer = sharedPacer();
  pacer.reset();

  const als = new AsyncLocalStorage<CheckStat>();
  const stats = new Map<string, CheckStat>();
  const stop = pacer.observe((e) => {
    const s = als.getStore();
    if (!s || e.type !== 'send') return;
    s.http++;
    s.evaluated += e.requests.length;
    s.waitedMs += e.waitedMs ?? 0;
    for (const r of e.requests) s.byFamily[r.family] = (s.byFamily[r.family] ?? 0) + 1;
  });

  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  let peakHeap = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 25);

  const runOne = async (check: (typeof checks)[number]): Promise<void> => {
    const s: CheckStat = { id: check.id, status: 'running', findings: 0, gaps: [], ms: 0, http: 0, evaluated: 0, byFamily: {}, waitedMs: 0 };
    stats.set(check.id, s);
    const t0 = Date.now();
    const result = await als.run(s, () => runner.run(check, info.tenantId, { fresh: true, graph: scanGraph }));
    s.ms = Date.now() - t0;
    s.status = result.status;
    s.findings = result.findings.length;
    s.gaps = result.gaps.map((g) => `${g.what}: ${g.reason}`);
  };

  const t0 = Date.now();
  if (req.mode === 'concurrent') await Promise.all(checks.map(runOne));
  else for (const c of checks) await runOne(c);
  const wallMs = Date.now() - t0;
  clearInterval(sampler);
  stop();
  const m = process.memoryUsage();
  return {
    mode: req.mode,
    checks: [...stats.values()],
    wallMs,
    pacer: pacer.stats(),
    rssBeforeMb: rssBefore / MB,
    peakRssMb: Math.max(peakRss, m.rss, process.resourceUsage().maxRSS * 1024) / MB,
    peakHeapMb: Math.max(peakHeap, m.heapUsed) / MB,
  };
}

const parent = parentPeer();
parent.handle('scan', (arg) => scan(arg as ScanRequest));
