/**
 * The suite's log sink, and the secrets check run after the whole suite (a mocha root hook:
 * .mocharc.json requires this file).
 *
 * Every pino logger any test creates in this process — Vigil's own (`createLogger`), whatever level
 * the test asked for, `silent` included — also writes every line at debug level and above to one
 * file. After the last test, every line of it is searched for the client secrets and bot
 * passwords the suite used (registered with `registerSecret`, plus any demo tenant's secret and
 * the environment's) and for anything that looks like a bearer token or a JWT — as it is written, so
 * nothing another process does to the file matters: zero hits, or the run fails.
 *
 * How: pino is swapped in the module cache for a wrapper before any test file loads, so nothing
 * in `bot/` changes for this. (Bots started as child processes write to their own stdout, which
 * those tests read; they are not in the sink.)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** One file per test process (runs started side by side must not share one); removed when clean. */
export const LOG_SINK = path.resolve(__dirname, `../../test-artifacts/logs/suite-${process.pid}.jsonl`);

type PinoModule = ((...args: unknown[]) => unknown) & Record<string, unknown>;

const secrets = new Set<string>();

/** A secret the suite uses: it must never appear in any log line. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 6) secrets.add(value);
}

/** What a secret looks like even when nobody registered it. */
export const SECRET_PATTERNS: Array<[string, RegExp]> = [
  ['bearer token', /\bBearer\s+[A-Za-z0-9\-._~+/]{16,}=*/i],
  ['JWT', /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/],
  ['demo tenant client secret', /\bdemo~[A-Za-z0-9_-]{20,}/],
  ['client_secret / client_assertion in a form', /\bclient_(?:secret|assertion)=[^&\s"]{6,}/i],
];

/** The lines that carry a secret, with what was found (the secret itself masked). */
export function findSecrets(lines: Iterable<string>, known: Iterable<string> = secrets): Array<{ line: number; what: string; excerpt: string }> {
  const hits: Array<{ line: number; what: string; excerpt: string }> = [];
  const values = [...known];
  let n = 0;
  for (const line of lines) {
    n++;
    for (const v of values) if (line.includes(v)) hits.push({ line: n, what: 'a registered secret', excerpt: mask(line, v) });
    for (const [what, re] of SECRET_PATTERNS) {
      const m = re.exec(line);
      if (m) hits.push({ line: n, what, excerpt: mask(line, m[0]) });
    }
  }
  return hits;
}

function mask(line: string, secret: string): string {
  const i = line.indexOf(secret);
  return `${line.slice(Math.max(0, i - 80), i)}‹${secret.length} characters›${line.slice(i + secret.length, i + secret.length + 40)}`;
}

let installed = false;
/** False when some module had taken pino before the sink was installed (then its loggers bypass the sink). */
let effective = false;
let written = 0;
const found: Array<{ line: number; what: string; excerpt: string }> = [];
const recent: string[] = [];

/** Does every Vigil logger of this process reach the sink? (Yes when loaded first, as .mocharc.json does.) */
export function sinkActive(): boolean {
  return installed && effective;
}

/** The last lines the sink received (newest last). */
export function recentSinkLines(): string[] {
  return [...recent];
}

/** Every line goes to the file (for a person to look at) and is searched as it is written. */
function receive(chunk: string, fd: number): void {
  fs.writeSync(fd, chunk);
  for (const line of chunk.split('\n')) {
    if (!line) continue;
    written++;
    recent.push(line);
    if (recent.length > 200) recent.shift();
    for (const hit of findSecrets([line])) if (found.length < 50) found.push({ ...hit, line: written });
  }
}

/** Tee every pino logger of this process into LOG_SINK (idempotent). */
export function installLogSink(): void {
  if (installed) return;
  installed = true;
  effective = !Object.keys(require.cache).some((file) => /[\\/]bot[\\/]log\.ts$/.test(file));
  fs.mkdirSync(path.dirname(LOG_SINK), { recursive: true });
  const fd = fs.openSync(LOG_SINK, 'w');
  const sink = { write: (chunk: string) => receive(chunk, fd) };
  const id = require.resolve('pino');
  const real = require(id) as PinoModule;
  const levels = (real.levels as { values: Record<string, number> }).values;
  const wrapped = function pino(options?: Record<string, unknown>, destination?: unknown) {
    const opts = { ...(options ?? {}) };
    const level = String(opts.level ?? 'info');
    const primary = destination ?? (real.destination as (fd: number) => unknown)(1);
    // The logger produces debug lines and up; each stream keeps what it wants.
    opts.level = levels[level] !== undefined && levels[level] < levels.debug ? level : 'debug';
    const streams: Array<{ level: string; stream: unknown }> = [{ level: 'debug', stream: sink }];
    if (level !== 'silent') streams.unshift({ level, stream: primary });
    return real(opts, (real.multistream as (s: unknown[]) => unknown)(streams));
  } as unknown as PinoModule;
  for (const key of Object.keys(real)) if (key !== 'default' && key !== 'pino') wrapped[key] = real[key];
  wrapped.default = wrapped;
  wrapped.pino = wrapped;
  require.cache[id]!.exports = wrapped;
}

installLogSink();
for (const name of ['AZURE_CLIENT_SECRET', 'BOT_PASSWORD', 'REPORT_LINK_SECRET']) registerSecret(process.env[name]);

export const mochaHooks = {
  afterAll() {
    console.log(`\n  secrets in logs: ${written} log lines written by the suite searched (${secrets.size} registered secrets, ${SECRET_PATTERNS.length} patterns): ${found.length} hits`);
    if (found.length) {
      throw new Error(`secrets found in log lines (${LOG_SINK}):\n${found.slice(0, 10).map((h) => `  line ${h.line}, ${h.what}: ${h.excerpt}`).join('\n')}`);
    }
    fs.rmSync(LOG_SINK, { force: true });
  },
};
