/**
 * `vigil audit`: the same checks the bot runs, from a terminal or a pipeline, without Teams.
 * Same configuration (environment and .env), same Graph client (bot/graph/connect.ts), same check
 * settings; output as a table, the versioned JSON contract, CSV or the PDF report; the exit code
 * follows --fail-on so the command can gate a pipeline.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CHECKS, CheckRunner, checkSettingsFor } from '../checks';
import type { Check } from '../checks/types';
import { ConfigError, loadConfig, type VigilConfig } from '../config';
import type { DemoTenant } from '../demo';
import { DEMO_EXCLUDED_ACCOUNTS } from '../demo/seed';
import { connectGraph, type GraphConnection } from '../graph/connect';
import type { GraphApi } from '../graph/api';
import { readTenantInfo, runAudit, selectChecks, tenantMatches, UnknownCheckError } from '../report/audit';
import { toAuditReport } from '../report/contract';
import { findingsCsv } from '../report/csv';
import { renderPdf } from '../report/pdf';
import { auditTable } from '../report/table';
import type { Audit, Rating, TenantInfo } from '../report/types';
import { environmentWithDotEnv } from './env';
import { ProgressBar, progressWanted, type ProgressStream } from './progress';

export interface OutStream extends ProgressStream {
  write(chunk: string | Uint8Array, cb?: (err?: Error | null) => void): boolean;
}

export interface CliIO {
  /** Arguments after the command name. */
  argv: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout: OutStream;
  stderr: OutStream;
  /** Test seams: another check registry, a shared demo tenant, a clock. */
  registry?: Check[];
  demoTenant?: DemoTenant;
  now?: () => Date;
}

export const EXIT = { ok: 0, failOn: 1, usage: 2, graph: 3 } as const;

const FORMATS = ['table', 'json', 'csv', 'pdf'] as const;
type Format = (typeof FORMATS)[number];
const FAIL_ON: Record<string, Rating[]> = { red: ['red'], amber: ['red', 'amber'] };

export function auditUsage(registry: Check[] = CHECKS): string {
  return `Usage: vigil audit [options]

Runs Vigil's security checks against a Microsoft 365 tenant, with the same configuration as the
bot (environment variables, or a .env file in this directory), and prints what it found.

Options:
  --tenant <id|name>     Tenant to audit: its id, a verified domain, or its name
                         (default: AZURE_TENANT_ID; the demo tenant with --demo)
  --format <format>      table (default), json, csv or pdf
  --out <file>           Write to this file instead of standard output
  --checks <a,b,...>     Only these checks (default: all)
  --fail-on <red|amber>  Exit with 1 when a check is red (or red or amber): gates a pipeline
  --demo                 Use the built-in demo tenant (needs no configuration)
  --quiet                No progress bar and no summary line on stderr
  -h, --help             Show this help

Checks: ${registry.map((c) => c.id).join(', ')}

Exit codes: 0 done (nothing at or above --fail-on), 1 --fail-on reached,
            2 usage or configuration error, 3 Microsoft Graph could not be reached.
`;
}

class UsageError extends Error {}

export async function auditCommand(io: CliIO): Promise<number> {
  const registry = io.registry ?? CHECKS;
  const now = io.now ?? (() => new Date());
  let opts;
  try {
    opts = parseOptions(io.argv, registry);
  } catch (err) {
    if (!(err instanceof UsageError || err instanceof UnknownCheckError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) throw err;
    io.stderr.write(`vigil audit: ${(err as Error).message}\nRun "vigil audit --help" for the options.\n`);
    return EXIT.usage;
  }
  if (opts.help) {
    await write(io.stdout, auditUsage(registry));
    return EXIT.ok;
  }
  if (opts.format === 'pdf' && !opts.out && io.stdout.isTTY) {
    io.stderr.write('vigil audit: a PDF is binary; give --out report.pdf (or redirect standard output).\n');
    return EXIT.usage;
  }

  const env = environmentWithDotEnv(io.cwd, io.env);
  let config: VigilConfig;
  try {
    // --demo: the built-in demo tenant whatever Graph credentials the environment holds.
    config = loadConfig(opts.demo ? { ...env, AZURE_CLIENT_ID: '', AZURE_MANAGED_IDENTITY: '', EXCHANGE_READER: '' } : env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr.write(`vigil audit: ${err.message}\n`);
    return EXIT.usage;
  }
  if (config.demo && !opts.demo) {
    io.stderr.write(
      'vigil audit: no tenant is configured. Set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET\n' +
        '(or AZURE_CLIENT_CERTIFICATE_PATH), see .env.example, or add --demo to audit the built-in demo tenant.\n',
    );
    return EXIT.usage;
  }

  const progress = new ProgressBar(io.stderr, progressWanted(io.stderr, env, opts.quiet));
  const total = opts.checks.length;
  progress.update(0, total, 'connecting');
  const started = Date.now();
  let connection: GraphConnection | undefined;
  try {
    connection = await connectGraph(config, { demoTenant: io.demoTenant, now });
    const target = await resolveTenant(connection, opts.tenant);
    const connectMs = Date.now() - started;
    // The same check settings as the bot (EXCLUDED_ACCOUNTS, ALLOWED_COUNTRIES, …; the demo's break-glass account).
    const runner = new CheckRunner(() => target.graph, now, undefined, checkSettingsFor(config, config.demo ? DEMO_EXCLUDED_ACCOUNTS : []));
    const audit = await runAudit(runner, target.info, {
      checkIds: opts.checks.map((c) => c.id),
      registry,
      now: now(),
      onProgress: (done, all, id) => progress.update(done, all, id),
    });
    progress.clear();
    const auditMs = Date.now() - started - connectMs;
    const renderStarted = Date.now();
    const output = await render(audit, opts.format, io, Boolean(opts.out));
    const renderMs = Date.now() - renderStarted;
    if (opts.out) {
      const file = path.resolve(io.cwd, opts.out);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, output.bytes);
      if (!opts.quiet) io.stderr.write(`${summaryLine(opts.out, opts.format, output, audit, { connectMs, auditMs, renderMs })}\n`);
    } else {
      await write(io.stdout, output.bytes);
    }
    return reached(audit, opts.failOn) ? EXIT.failOn : EXIT.ok;
  } catch (err) {
    progress.clear();
    if (err instanceof UsageError) {
      io.stderr.write(`vigil audit: ${err.message}\n`);
      return EXIT.usage;
    }
    io.stderr.write(`vigil audit: could not reach Microsoft Graph: ${(err as Error).message}\n`);
    return EXIT.graph;
  } finally {
    await connection?.close();
  }
}

interface AuditCliOptions {
  help: boolean;
  tenant?: string;
  format: Format;
  out?: string;
  checks: Check[];
  failOn?: Rating[];
  demo: boolean;
  quiet: boolean;
}

function parseOptions(argv: string[], registry: Check[]): AuditCliOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      tenant: { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
      checks: { type: 'string' },
      'fail-on': { type: 'string' },
      demo: { type: 'boolean' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const format = (values.format ?? 'table').toLowerCase();
  if (!FORMATS.includes(format as Format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')} (got "${values.format}")`);
  const failOn = values['fail-on']?.toLowerCase();
  if (failOn !== undefined && !FAIL_ON[failOn]) throw new UsageError(`--fail-on must be red or amber (got "${values['fail-on']}")`);
  if (values.checks !== undefined && !values.checks.split(',').some((c) => c.trim())) throw new UsageError('--checks needs at least one check id');
  if (values.tenant !== undefined && !values.tenant.trim()) throw new UsageError('--tenant needs a tenant id, domain or name');
  if (values.out !== undefined && !values.out.trim()) throw new UsageError('--out needs a file name');
  return {
    help: Boolean(values.help),
    tenant: values.tenant?.trim(),
    format: format as Format,
    out: values.out,
    checks: selectChecks(values.checks?.split(','), registry),
    failOn: failOn ? FAIL_ON[failOn] : undefined,
    demo: Boolean(values.demo),
    quiet: Boolean(values.quiet),
  };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * --tenant: an id or a verified domain is used as it is (the multi-tenant app must be consented
 * there); a name must be the configured tenant's (or, on the demo, one of the demo tenants').
 * Reading the home tenant first doubles as the connectivity check.
 */
async function resolveTenant(conn: GraphConnection, spec: string | undefined): Promise<{ graph: GraphApi; info: TenantInfo }> {
  const home = await readTenantInfo(conn.graph);
  if (!spec || tenantMatches(home, spec)) return { graph: conn.graph, info: home };
  if (GUID.test(spec) || /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(spec)) {
    const graph = conn.connectTenant(spec);
    return { graph, info: await readTenantInfo(graph, spec) };
  }
  const demo = conn.demo;
  for (const id of demo?.tenantIds?.() ?? []) {
    const org = demo!.tenant(id).organization;
    const info: TenantInfo = { tenantId: id, name: org.displayName ?? id, domains: (org.verifiedDomains ?? []).map((d) => d.name ?? '').filter(Boolean) };
    if (tenantMatches(info, spec)) {
      const graph = conn.connectTenant(id);
      return { graph, info: await readTenantInfo(graph, id) };
    }
  }
  throw new UsageError(`no tenant called "${spec}": give its tenant id (a GUID) or a verified domain such as contoso.onmicrosoft.com`);
}

async function render(audit: Audit, format: Format, io: CliIO, toFile: boolean): Promise<{ bytes: Buffer; pages?: number }> {
  switch (format) {
    case 'json':
      return { bytes: Buffer.from(`${JSON.stringify(toAuditReport(audit), null, 2)}\n`, 'utf8') };
    case 'csv':
      return { bytes: Buffer.from(findingsCsv(audit.checks), 'utf8') };
    case 'pdf': {
      const pdf = await renderPdf(audit);
      return { bytes: pdf.bytes, pages: pdf.pages };
    }
    default: {
      const color = !toFile && Boolean(io.stdout.isTTY) && io.env.NO_COLOR === undefined;
      return { bytes: Buffer.from(auditTable(audit, { color, width: io.stdout.isTTY ? io.stdout.columns : 120 }), 'utf8') };
    }
  }
}

function reached(audit: Audit, failOn: Rating[] | undefined): boolean {
  return Boolean(failOn) && audit.checks.some((c) => failOn!.includes(c.rating));
}

function summaryLine(out: string, format: Format, output: { bytes: Buffer; pages?: number }, audit: Audit, ms: { connectMs: number; auditMs: number; renderMs: number }): string {
  const s = (n: number) => `${(n / 1000).toFixed(2)} s`;
  const size = output.bytes.length < 10_240 ? `${output.bytes.length} bytes` : `${Math.round(output.bytes.length / 1024)} KB`;
  const pages = output.pages ? `${output.pages} page${output.pages === 1 ? '' : 's'}, ` : '';
  const what = format === 'pdf' ? `, PDF in ${s(ms.renderMs)}` : '';
  return (
    `Wrote ${out} (${pages}${size}) for ${audit.tenant.name}: ${audit.checks.length} check${audit.checks.length === 1 ? '' : 's'} in ` +
    `${s(ms.auditMs)} (after connecting in ${s(ms.connectMs)})${what}. Grade ${audit.grade.letter ?? '-'}: ${audit.grade.summary}`
  );
}

function write(stream: OutStream, data: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(data, (err) => (err ? reject(err) : resolve()));
  });
}
