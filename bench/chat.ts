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
 * - throughput: 32 concurrent senders for 10 s on cached data.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Session } from 'node:inspector/promises';
import { startVigil, type Vigil } from '../bot/index';
import type { DemoTenant } from '../bot/demo';
import { paceHost, sharedPacer } from '../bot/graph/pacing';
import { parentPeer } from './ipc';
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
  throughput: { seconds: number; concurrency: number; activities: number; perSecond: number; latency: Latencies; errors: number; /** Reply cards the connector received for them (must equal activities). */ replies: number };
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

/** startVigil takes a DemoTenant; the simulator lives in another process, so this is its address card. */
function remoteDemo(info: SimInfo): DemoTenant {
  const unavailable = (): never => {
    throw new Error('the benchmark simulator runs in another process');
  };
  const stub = {
    baseUrl: info.baseUrl,
    tenantId: info.tenantId,
    clientId: info.clientId,
    clientSecret: info.clientSecret,
    caCertPem: info.caCertPem,
    knobs: {},
    requests: [],
    tenantIds: () => [info.tenantId],
    tenant: unavailable,
    addTenant: unavailable,
    reset: unavailable,
    close: async () => undefined,
  };
  return stub as unknown as DemoTenant;
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
  const env: NodeJS.ProcessEnv = {
    PORT: '0',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    // No scheduled scans in the background of the measurements.
    SCAN_POLL_SECONDS: '0',
    // Vigil's own per-person (30/min) and per-tenant (150/min) chat limits would answer most of a
    // 300/s load with "slow down": lifted, so throughput is that of real answers.
    RATE_LIMIT_USER_PER_MINUTE: '1000000',
    RATE_LIMIT_TENANT_PER_MINUTE: '1000000',
    ...(req.databaseUrl ? { DATABASE_URL: req.databaseUrl } : {}),
  };
  let vigil: Vigil | undefined;
  try {
    vigil = await startVigil({ env, demoTenant: remoteDemo(info), now });
    const startMs = Date.now() - t0;
    const endpoint = `${vigil.url}/api/messages`;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const userId = (i: number) => `${info.tenantId.slice(0, 8)}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
    const ask = (i: number): Promise<{ ms: number; status: number }> => {
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
      const started = performance.now();
      return new Promise((resolve, reject) => {
        const r = http.request(endpoint, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
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

    // Throughput on cached data.
    const samples: number[] = [];
    let errors = 0;
    const deadline = performance.now() + req.throughputSeconds * 1000;
    let n = 0;
    const worker = async (): Promise<void> => {
      while (performance.now() < deadline) {
        try {
          const r = await ask(n++);
          if (r.status === 200) samples.push(r.ms);
          else errors++;
        } catch {
          errors++;
        }
      }
    };
    const session = req.profileDir ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    const replies0 = connector.replies;
    const tp0 = performance.now();
    await Promise.all(Array.from({ length: req.concurrency }, worker));
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
      throughput: { seconds, concurrency: req.concurrency, activities: samples.length, perSecond: samples.length / seconds, latency: latencies(samples), errors, replies: tpReplies },
      replies: connector.replies,
      lastCardBytes: connector.lastCardBytes,
      store: req.databaseUrl ? 'PostgreSQL' : 'PGlite (embedded)',
      startMs,
    };
  } finally {
    await vigil?.stop().catch(() => undefined);
    await connector.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const parent = parentPeer();
parent.handle('run', (arg) => run(arg as ChatRequest, parent));
