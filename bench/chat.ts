/**
 * Child process: the whole bot (startVigil: restify + CloudAdapter + the assistant + the store)
 * against the simulator, driven over its real HTTP endpoint POST /api/messages by a fake Bot
 * Connector (the serviceUrl the bot replies to), as test/support/fakeTeams.ts does in the e2e
 * tests. The reply time of a message is the time until /api/messages answers: the CloudAdapter
 * answers after the bot has posted its reply card to the connector.
 *
 * - cold: Vigil's check cache has expired (its clock is moved past the 60-s TTL) and the Graph
 *   budgets are full (a person asking now and then, not a burst): one Graph read per question;
 * - warm: the answer is cached (asked again within the minute);
 * - throughput: 32 concurrent senders for 10 s on cached data (closed loop: each sender asks again
 *   as soon as it has its answer, so this finds the most the bot can do, and by Little's law its
 *   reply times are about senders ÷ rate); or, with `rate`, an open loop offering that many
 *   activities per second whatever the answers do (reply times at a given load, counted from when
 *   each activity was due, so a bot that falls behind is not flattered);
 * - with `processes` > 1 (PostgreSQL only), the throughput load goes to that many Vigil processes
 *   (bench/chatWorker.ts) on the same database, each taking the next activity when it has the
 *   fewest in flight, as a load balancer in front of several instances would; this process is then
 *   only Teams (the senders and the fake Bot Connector).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Session } from 'node:inspector/promises';
import { startVigil, type Vigil } from '../bot/index';
import { paceHost, sharedPacer } from '../bot/graph/pacing';
import { parentPeer, startChild, type Child } from './ipc';
import { remoteDemo, vigilEnv } from './chatVigil';
import type { ChatWorkerStart } from './chatWorker';
import type { SimCounts, SimInfo } from './sim';

export interface ChatRequest {
  info: SimInfo;
  question: string;
  cold: number;
  warm: number;
  throughputSeconds: number;
  concurrency: number;
  databaseUrl?: string;
  /** Write a CPU profile of the throughput phase here. */
  profileDir?: string;
  /** Open loop: offer this many activities per second in the throughput phase (else closed loop with `concurrency` senders). */
  rate?: number;
  /** Vigil processes taking the throughput load (> 1 needs `databaseUrl`). Default 1: the one in this process. */
  processes?: number;
}

export interface Latencies {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface ChatResult {
  firstMs: number;
  /** Graph requests of one cold "who lacks MFA?" (as the simulator counted them). */
  /** Graph requests per cold answer (averaged over the cold questions), and the simulator's own CPU per answer. */
  coldRequests: Pick<SimCounts, 'http' | 'evaluated' | 'batches' | 'throttled' | 'groups' | 'simCpuMs'>;
  /** Graph requests made while answering from cache (warm + throughput): should be none. */
  warmRequests: Pick<SimCounts, 'http' | 'evaluated' | 'groups'>;
  cold: Latencies;
  warm: Latencies;
  throughput: {
    seconds: number;
    concurrency: number;
    activities: number;
    perSecond: number;
    latency: Latencies;
    errors: number;
    /** Reply cards the connector received for them (must equal activities). */
    replies: number;
    /**
     * CPU time (user + system) of the Vigil process(es) during the window, per activity. With one
     * process the senders and the fake connector run in it too (an upper bound of the bot's own).
     */
    cpuMsPerActivity: number;
    /** With `processes` > 1: this process's CPU per activity (senders and fake connector: Teams' side). */
    loadCpuMsPerActivity?: number;
    /** PostgreSQL server CPU per activity (all its processes on this machine, whoever else uses them), when it runs here. */
    postgresCpuMsPerActivity?: number;
    /** Open loop: the rate offered; closed loop: absent. */
    offeredPerSecond?: number;
    /**
     * Open loop: how late the senders themselves put activities out (p99, ms) — time the machine
     * did not give this process, counted in the reply times but not spent by the bot.
     */
    senderLateP99Ms?: number;
    processes: number;
  };
  replies: number;
  lastCardBytes: number;
  store: string;
  startMs: number;
}

export function latencies(samples: number[]): Latencies {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] : 0);
  return { n: s.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s.at(-1) ?? 0 };
}

/** The Bot Connector the bot replies to: counts replies, keeps only the size of the last card. */
class FakeConnector {
  replies = 0;
  lastCardBytes = 0;
  lastCard = '';
  private server?: http.Server;
  url = '';

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.replies++;
        const body = Buffer.concat(chunks);
        this.lastCardBytes = body.length;
        this.lastCard = body.toString('utf8');
        res.statusCode = 200;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ id: `msg-${this.replies}` }));
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }
}

async function run(req: ChatRequest, parent: ReturnType<typeof parentPeer>): Promise<ChatResult> {
  const { info } = req;
  paceHost(new URL(info.baseUrl).hostname);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-'));
  let offsetMs = 0;
  const now = () => new Date(Date.now() + offsetMs);
  const connector = new FakeConnector();
  await connector.start();
  const t0 = Date.now();
  const env = vigilEnv(dataDir, req.databaseUrl);
  const processes = Math.max(1, req.processes ?? 1);
  if (processes > 1 && !req.databaseUrl) throw new Error('--chat-processes > 1 needs --database-url (the processes share PostgreSQL)');
  let vigil: Vigil | undefined;
  const workers: Child[] = [];
  try {
    vigil = await startVigil({ env, demoTenant: remoteDemo(info), now });
    const startMs = Date.now() - t0;
    const endpoint = `${vigil.url}/api/messages`;
    const agent = new http.Agent({ keepAlive: true, maxSockets: req.rate ? 1024 : 64 });
    const userId = (i: number) => `${info.tenantId.slice(0, 8)}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
    const ask = (i: number, to = endpoint, dueAt?: number): Promise<{ ms: number; status: number }> => {
      const aad = userId(i % 200);
      const activity = {
        type: 'message',
        channelId: 'msteams',
        serviceUrl: connector.url,
        id: randomUUID(),
        timestamp: new Date().toISOString(),
        from: { id: `29:${aad}`, name: `User ${i % 200}`, aadObjectId: aad },
        recipient: { id: '28:vigil', name: 'Vigil' },
        conversation: { id: `a:personal-${aad}`, conversationType: 'personal', tenantId: info.tenantId },
        channelData: { tenant: { id: info.tenantId } },
        text: req.question,
        entities: [],
      };
      const body = JSON.stringify(activity);
      const started = dueAt ?? performance.now();
      return new Promise((resolve, reject) => {
        const r = http.request(to, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ ms: performance.now() - started, status: res.statusCode ?? 0 }));
        });
        r.on('error', reject);
        r.end(body);
      });
    };
    const expectOk = (r: { status: number }) => {
      if (r.status !== 200) throw new Error(`/api/messages answered ${r.status}`);
    };

    // The very first question: token, TLS handshakes, empty caches.
    const first = await ask(0);
    expectOk(first);
    // It must be the real answer (not help, not "slow down"): "N of M enabled member accounts have no MFA…".
    if (!/enabled member accounts/.test(connector.lastCard)) throw new Error(`unexpected reply to "${req.question}": ${connector.lastCard.slice(0, 400)}`);

    // Cold: the cache expired, the budgets are full again.
    const cold: number[] = [];
    await parent.call('sim', { cmd: 'begin' });
    for (let i = 0; i < req.cold; i++) {
      offsetMs += 61_000;
      sharedPacer().reset();
      // On PostgreSQL the budgets are shared through the database: full again there too.
      if (vigil.store.db.kind === 'postgres') await vigil.store.db.query('DELETE FROM pacing_buckets');
      await parent.call('sim', { cmd: 'refill' });
      const r = await ask(i + 1);
      expectOk(r);
      cold.push(r.ms);
    }
    const c = await parent.call<SimCounts>('sim', { cmd: 'end' });
    const per = (n: number) => n / Math.max(1, req.cold);
    const coldRequests: ChatResult['coldRequests'] = {
      http: per(c.http),
      evaluated: per(c.evaluated),
      batches: per(c.batches),
      throttled: c.throttled,
      simCpuMs: per(c.simCpuMs),
      groups: c.groups.map((g) => ({ ...g, requests: per(g.requests), items: per(g.items), ids: per(g.ids) })),
    };

    // Warm: cached answers (the clock stands still from here on).
    await ask(0);
    await parent.call('sim', { cmd: 'begin' });
    const warm: number[] = [];
    for (let i = 0; i < req.warm; i++) {
      const r = await ask(i);
      expectOk(r);
      warm.push(r.ms);
    }

    // Throughput on cached data: here, or on `processes` other Vigil processes (each warmed up first).
    const endpoints = [endpoint];
    if (processes > 1) {
      endpoints.length = 0;
      for (let p = 0; p < processes; p++) {
        const w = startChild('chatWorker', req.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${req.profileDir}`, `--cpu-prof-name=chat-worker-${p}-${Date.now()}.cpuprofile`] : []);
        workers.push(w);
        const url = await w.peer.call<string>('start', { info, databaseUrl: req.databaseUrl! } satisfies ChatWorkerStart);
        endpoints.push(`${url}/api/messages`);
      }
      for (const to of endpoints) {
        expectOk(await ask(0, to));
        if (!/enabled member accounts/.test(connector.lastCard)) throw new Error(`unexpected reply from ${to}: ${connector.lastCard.slice(0, 400)}`);
        expectOk(await ask(1, to));
      }
    }
    // The endpoint with the fewest activities in flight takes the next (least connections).
    const inFlight = endpoints.map(() => 0);
    const send = async (i: number, dueAt?: number) => {
      let k = 0;
      for (let j = 1; j < endpoints.length; j++) if (inFlight[j] < inFlight[k]) k = j;
      inFlight[k]++;
      try {
        return await ask(i, endpoints[k], dueAt);
      } finally {
        inFlight[k]--;
      }
    };
    const samples: number[] = [];
    let errors = 0;
    const record = (r: { ms: number; status: number }) => {
      if (r.status === 200) samples.push(r.ms);
      else errors++;
    };
    let n = 0;
    const closedLoop = async (): Promise<void> => {
      const deadline = performance.now() + req.throughputSeconds * 1000;
      const worker = async (): Promise<void> => {
        while (performance.now() < deadline) await send(n++).then(record, () => errors++);
      };
      await Promise.all(Array.from({ length: req.concurrency }, worker));
    };
    const late: number[] = [];
    const openLoop = async (rate: number): Promise<void> => {
      const start = performance.now();
      const total = Math.round(rate * req.throughputSeconds);
      const sent: Array<Promise<void>> = [];
      while (n < total) {
        const dueAt = start + (n * 1000) / rate;
        const wait = dueAt - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        // Every activity due by now goes out now, timed from when it was due.
        for (let due = start + (n * 1000) / rate; n < total && due <= performance.now(); due = start + (n * 1000) / rate) {
          late.push(performance.now() - due);
          sent.push(send(n, due).then(record, () => void errors++));
          n++;
        }
      }
      await Promise.all(sent);
    };
    const session = req.profileDir ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    for (const w of workers) await w.peer.call('cpu');
    const pg0 = req.databaseUrl ? postgresCpuMs() : undefined;
    const replies0 = connector.replies;
    const tp0 = performance.now();
    const cpu0 = process.cpuUsage();
    await (req.rate ? openLoop(req.rate) : closedLoop());
    const cpu = process.cpuUsage(cpu0);
    const pg1 = req.databaseUrl ? postgresCpuMs() : undefined;
    let workerCpuMs = 0;
    for (const w of workers) workerCpuMs += await w.peer.call<number>('cpu');
    const tpReplies = connector.replies - replies0;
    if (session) {
      const { profile } = await session.post('Profiler.stop');
      fs.writeFileSync(path.join(req.profileDir!, `chat-throughput-${info.truth.users}.cpuprofile`), JSON.stringify(profile));
      session.disconnect();
    }
    const seconds = (performance.now() - tp0) / 1000;
    agent.destroy();
    const w = await parent.call<SimCounts>('sim', { cmd: 'end' });

    return {
      firstMs: first.ms,
      coldRequests,
      warmRequests: { http: w.http, evaluated: w.evaluated, groups: w.groups.slice(0, 10) },
      cold: latencies(cold),
      warm: latencies(warm),
      throughput: {
        seconds,
        concurrency: req.concurrency,
        activities: samples.length,
        perSecond: samples.length / seconds,
        latency: latencies(samples),
        errors,
        replies: tpReplies,
        cpuMsPerActivity: (workers.length ? workerCpuMs : (cpu.user + cpu.system) / 1000) / Math.max(1, samples.length),
        loadCpuMsPerActivity: workers.length ? (cpu.user + cpu.system) / 1000 / Math.max(1, samples.length) : undefined,
        postgresCpuMsPerActivity: pg0 !== undefined && pg1 !== undefined && pg1 > 0 ? (pg1 - pg0) / Math.max(1, samples.length) : undefined,
        offeredPerSecond: req.rate,
        senderLateP99Ms: req.rate ? latencies(late).p99 : undefined,
        processes,
      },
      replies: connector.replies,
      lastCardBytes: connector.lastCardBytes,
      store: req.databaseUrl ? 'PostgreSQL' : 'PGlite (embedded)',
      startMs,
    };
  } finally {
    for (const w of workers) await w.stop().catch(() => undefined);
    await vigil?.stop().catch(() => undefined);
    await connector.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const parent = parentPeer();
parent.handle('run', (arg) => run(arg as ChatRequest, parent));

/**
 * CPU time (ms) of the PostgreSQL server's processes on this machine, from /proc (Linux); 0 when
 * there is none to read (another OS, or the server runs elsewhere).
 */
function postgresCpuMs(): number {
  let ticks = 0;
  try {
    for (const pid of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        if (!/^\S+ \((postgres|postmaster)\)$/.test(stat.slice(0, close + 1))) continue;
        const fields = stat.slice(close + 2).split(' ');
        ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
      } catch {
        // the process ended meanwhile
      }
    }
  } catch {
    return 0;
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}
