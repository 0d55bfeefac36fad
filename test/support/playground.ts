/**
 * Helpers for driving the Microsoft 365 Agents Playground (a Teams-like web client that runs
 * offline) from a test: start an instance as a child process in its own process group, wait
 * until its UI answers, stop it (the whole group) afterwards; find the Chromium that Playwright
 * drives; record the activities the Playground exchanged with the bot, as its own log panel
 * shows them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { Page } from 'playwright-core';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Flags for Debian's chromium in a container (no sandbox, no GPU, no calls home). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Where findChromium looks: $CHROMIUM_PATH alone when it is set, else Debian's paths. */
export function chromiumCandidates(): string[] {
  return process.env.CHROMIUM_PATH ? [process.env.CHROMIUM_PATH] : ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
}

/** The Chromium executable to drive, or undefined if there is none. */
export function findChromium(): string | undefined {
  const candidates = chromiumCandidates();
  for (const candidate of candidates) {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/** A TCP port that was free a moment ago (the Playground reports the port it really took). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface PlaygroundOptions {
  /** Absolute path of the .m365agentsplayground*.yml to load. */
  configPath: string;
  /** The bot's messaging endpoint, e.g. http://127.0.0.1:3978/api/messages. */
  botEndpoint: string;
  /** UI port to ask for (-p). */
  port: number;
  /** Where the Playground writes its log (M365_AGENTS_PLAYGROUND_LOGFILE); it deletes and recreates it on start. */
  logFile: string;
  /** Working directory for the child (a temp dir keeps the repo clean). */
  cwd: string;
  /** How long to wait for the UI to answer. */
  readyTimeoutMs?: number;
}

export interface Playground {
  /** Base URL of the UI, e.g. http://localhost:56150. */
  url: string;
  port: number;
  /** The serviceUrl the Playground puts on activities: the bot answers through it. */
  serviceUrl: string;
  configPath: string;
  logFile: string;
  child: ChildProcess;
  /** stdout and stderr of the child so far. */
  output(): string;
  /** The last lines of the Playground's own log file, minus websocket "debug" noise. */
  logTail(lines?: number): string;
  /** Kills the whole process group (SIGTERM, then SIGKILL after a grace period). Idempotent. */
  stop(): Promise<void>;
}

const PLAYGROUND_CLI = (): string => path.join(path.dirname(require.resolve('@microsoft/m365agentsplayground/package.json', { paths: [REPO_ROOT] })), 'cli.js');

/** Playground process groups still alive: killed synchronously if the test process exits first. */
const live = new Set<number>();
let exitHookInstalled = false;
function killGroupNow(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of live) killGroupNow(pid, 'SIGKILL');
  });
}

/**
 * Starts one Playground instance and resolves once its UI serves the app page. Rejects (after
 * killing the child) if it exits early or does not answer in time, with its output and log.
 */
export async function startPlayground(opts: PlaygroundOptions): Promise<Playground> {
  installExitHook();
  const readyTimeoutMs = opts.readyTimeoutMs ?? 20_000;
  const args = [PLAYGROUND_CLI(), '-p', String(opts.port), '-e', opts.botEndpoint, '-c', 'msteams', '--disable-telemetry'];
  const child = spawn(process.execPath, args, {
    cwd: opts.cwd,
    // Own process group, so stop() reaches everything it starts.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      TEAMSAPPTESTER_BROWSER: 'none',
      M365_AGENTS_PLAYGROUND_CONFIG_PATH: opts.configPath,
      M365_AGENTS_PLAYGROUND_LOGFILE: opts.logFile,
    },
  });
  const pid = child.pid!;
  live.add(pid);
  let output = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => (output += chunk));
  child.stderr!.on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => live.delete(pid));

  const logTail = (lines = 20): string => {
    try {
      return fs
        .readFileSync(opts.logFile, 'utf8')
        .split('\n')
        .filter((l) => l.trim() && !l.startsWith('debug '))
        .slice(-lines)
        .join('\n');
    } catch {
      return '(no log file)';
    }
  };

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return exited;
    stopped = true;
    if (child.exitCode !== null || child.signalCode !== null) {
      killGroupNow(pid, 'SIGKILL'); // grandchildren, if any survived the leader
      return;
    }
    killGroupNow(pid, 'SIGTERM');
    const grace = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 3_000).unref());
    if ((await Promise.race([exited.then(() => 'exited' as const), grace])) === 'timeout') killGroupNow(pid, 'SIGKILL');
    await exited;
    killGroupNow(pid, 'SIGKILL');
  };

  const describeFailure = (why: string): Error =>
    new Error(`Agents Playground (${path.basename(opts.configPath)}, port ${opts.port}) ${why}.\nOutput:\n${output.trim() || '(none)'}\nLog ${opts.logFile}:\n${logTail()}`);

  try {
    const deadline = Date.now() + readyTimeoutMs;
    // It falls back to a random port when the requested one is busy: believe what it says.
    let port: number | undefined;
    while (port === undefined) {
      const m = /Listening on (\d+)/.exec(output);
      if (m) port = Number(m[1]);
      else if (child.exitCode !== null || child.signalCode !== null) throw describeFailure(`exited (${child.exitCode ?? child.signalCode}) before listening`);
      else if (Date.now() > deadline) throw describeFailure(`did not say "Listening on <port>" within ${readyTimeoutMs} ms`);
      else await delay(50);
    }
    const url = `http://localhost:${port}`;
    // "Listening" comes before it is ready (and before it reads the config): wait for the app page.
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw describeFailure(`exited (${child.exitCode ?? child.signalCode}) while starting`);
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        const html = await res.text();
        if (res.ok && html.includes('Microsoft 365 Agents Playground')) break;
      } catch {
        // not yet
      }
      if (Date.now() > deadline) throw describeFailure(`did not serve its UI at ${url} within ${readyTimeoutMs} ms`);
      await delay(100);
    }
    return { url, port, serviceUrl: `${url}/_connector`, configPath: opts.configPath, logFile: opts.logFile, child, output: () => output, logTail, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** One line of the Playground's log panel that carries an activity (or an invoke) and the bot's answer. */
export interface RecordedActivity {
  at: string;
  from: string;
  to: string;
  activityName: string;
  conversationId?: string;
  request?: { body?: Record<string, any> };
  response?: { statusCode?: number; body?: unknown };
  displayText?: string;
}

/**
 * Records what the Playground's log panel receives over its websocket: every activity it sent
 * to the bot and every call the bot made to its connector, with bodies and status codes.
 */
export function recordActivities(page: Page): RecordedActivity[] {
  const recorded: RecordedActivity[] = [];
  page.on('websocket', (ws) => {
    ws.on('framereceived', (frame) => {
      let msg: any;
      try {
        msg = JSON.parse(String(frame.payload));
      } catch {
        return;
      }
      const log = msg?.logAction === 'appendLog' ? msg.log : undefined;
      if (!log || log.type !== 'bot') return;
      recorded.push({
        at: new Date(log.timestamp).toISOString(),
        from: log.from,
        to: log.to,
        activityName: log.activityName,
        conversationId: log.conversationId,
        request: log.request,
        response: log.response,
        displayText: log.displayText,
      });
    });
  });
  return recorded;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
