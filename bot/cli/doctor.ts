/**
 * `vigil doctor`: is this install able to do its job? Reads the configuration the bot reads,
 * gets the app-only token the Graph client would get (same credential selection), decodes its
 * `roles` claim and compares it with the permissions table (bot/permissions.ts) for the install's
 * profile: everything (fixes on) or read-only (REMEDIATION=off, or --profile read-only). Prints
 * what is missing and which features that breaks. Also answered in chat ("doctor", approvers only).
 * The token is never printed.
 */
import { parseArgs } from 'node:util';
import { messageCard, type Card } from '../../cards';
import { ConfigError, loadConfig, type VigilConfig } from '../config';
import type { DemoTenant } from '../demo';
import { connectGraph } from '../graph/connect';
import { diagnose, graphTokenSource, tokenFacts, type Diagnosis, type PermissionRow, type Profile } from '../permissions';
import type { CliIO, OutStream } from './audit';
import { environmentWithDotEnv } from './env';

export const DOCTOR_EXIT = { ok: 0, missing: 1, usage: 2, token: 3 } as const;

export function doctorUsage(): string {
  return `Usage: vigil doctor [options]

Checks that Vigil's Graph app has the application permissions it needs: gets the app-only token
(same configuration and credential as the bot), reads the permissions granted to it (the token's
"roles"), and lists what is missing and which checks or fixes that affects.

Options:
  --profile <full|read-only>  What to expect (default: full, or read-only with REMEDIATION=off)
  --tenant <id>               Another tenant that consented to the app (MSP mode)
  --json                      Machine-readable output
  --demo                      Use the built-in demo tenant (needs no configuration)
  -h, --help                  Show this help

Exit codes: 0 every needed permission granted, 1 permissions missing,
            2 usage or configuration error, 3 no token could be obtained.
`;
}

export interface DoctorReport {
  ok: boolean;
  tenantId: string;
  credential: string;
  graphBaseUrl: string;
  token?: { appId?: string; tenantId?: string; audience?: string; roles: number };
  /** Why no token could be obtained (one line, no secrets). */
  tokenError?: string;
  diagnosis?: Diagnosis;
  /** Exchange Online reader (EXCHANGE_READER=on): whether its token carries Exchange.ManageAsApp. */
  exchange?: { checked: boolean; granted?: boolean; error?: string };
}

const CREDENTIAL_NAMES: Record<string, string> = {
  demo: 'demo tenant app (client secret)',
  secret: 'client secret (AZURE_CLIENT_SECRET)',
  certificate: 'client certificate (AZURE_CLIENT_CERTIFICATE_PATH)',
  'workload-identity': 'workload identity federation (AZURE_FEDERATED_TOKEN_FILE)',
  'managed-identity-system': 'managed identity, system-assigned',
  'managed-identity-user': 'managed identity, user-assigned (AZURE_CLIENT_ID)',
};

export function defaultProfile(config: VigilConfig): Profile {
  return config.remediation.enabled ? 'full' : 'read-only';
}

/** Diagnose one tenant's token. Never throws for token problems: they are in the report. */
export async function runDoctor(config: VigilConfig, opts: { demo?: DemoTenant; tenantId?: string; profile?: Profile } = {}): Promise<DoctorReport> {
  const profile = opts.profile ?? defaultProfile(config);
  const source = graphTokenSource(config, opts.demo, opts.tenantId);
  const report: DoctorReport = {
    ok: false,
    tenantId: source.tenantId,
    credential: CREDENTIAL_NAMES[source.kind] ?? source.kind,
    graphBaseUrl: opts.demo?.baseUrl ?? config.graph.baseUrl,
  };
  try {
    const facts = await tokenFacts(source.credential, source.scope, source.tenantId);
    report.token = { appId: facts.appId, tenantId: facts.tenantId, audience: facts.audience, roles: facts.roles.length };
    report.diagnosis = diagnose(facts.roles, profile);
  } catch (err) {
    report.tokenError = oneLine(err);
    return report;
  }
  if (config.checks.exchange.enabled && !config.demo) {
    try {
      const exchange = await tokenFacts(source.credential, `${new URL(config.checks.exchange.baseUrl).origin}/.default`, source.tenantId);
      report.exchange = { checked: true, granted: exchange.roles.includes('Exchange.ManageAsApp') };
    } catch (err) {
      report.exchange = { checked: true, error: oneLine(err) };
    }
  }
  report.ok = report.diagnosis.missing.length === 0 && (!report.exchange || report.exchange.granted === true);
  return report;
}

function oneLine(err: unknown): string {
  // @azure/identity messages can be long and multi-line; the first line says what failed.
  return String((err as Error)?.message ?? err).split('\n')[0].slice(0, 300);
}

function usesText(row: PermissionRow): string {
  return row.uses.map((u) => `${u.kind === 'platform' ? '' : `${u.kind} `}${u.id} (${u.title})`).join('; ');
}

export function formatDoctor(report: DoctorReport): string {
  const out: string[] = ['Vigil doctor', ''];
  out.push(`  Tenant       ${report.tenantId}`);
  out.push(`  Graph        ${report.graphBaseUrl}`);
  out.push(`  Credential   ${report.credential}`);
  if (report.tokenError || !report.diagnosis) {
    out.push(`  Token        FAILED: ${report.tokenError}`, '', 'No token: check the credential variables (see .env.example) and that the app exists in this tenant.');
    return `${out.join('\n')}\n`;
  }
  const t = report.token!;
  out.push(`  Token        app ${t.appId ?? '?'} in tenant ${t.tenantId ?? '?'}, audience ${t.audience ?? '?'}, ${t.roles} application permission${t.roles === 1 ? '' : 's'}`);
  const d = report.diagnosis;
  const needed = d.present.length + d.missing.length;
  out.push(`  Profile      ${d.profile === 'full' ? 'full (checks and fixes)' : 'read-only install (checks only, no fixes)'}`);
  out.push(`  Permissions  ${d.present.length} of ${needed} granted`);
  if (d.missing.length) {
    out.push('', 'Missing (grant them in Entra admin center > App registrations > API permissions > Microsoft Graph >', 'Application permissions, then "Grant admin consent"):');
    for (const row of d.missing) out.push(`  - ${row.permission} (${row.access}): ${usesText(row)}`);
  }
  const via = d.present.filter((p) => p.via !== p.permission);
  if (via.length) out.push('', 'Granted through a broader permission:', ...via.map((p) => `  - ${p.permission} via ${p.via}`));
  if (d.excessWrites.length) out.push('', 'Write permissions granted although this is a read-only install (remove them):', ...d.excessWrites.map((p) => `  - ${p}`));
  if (report.exchange) {
    out.push('', `Exchange Online reader: ${report.exchange.error ? `no token (${report.exchange.error})` : report.exchange.granted ? 'Exchange.ManageAsApp granted' : 'Exchange.ManageAsApp MISSING (Office 365 Exchange Online > Application permissions)'}`);
  }
  out.push('', report.ok ? 'OK: every permission this install needs is granted.' : `NOT OK: ${d.missing.length} permission${d.missing.length === 1 ? '' : 's'} missing${report.exchange && !report.exchange.granted ? ' (and the Exchange reader)' : ''}.`);
  return `${out.join('\n')}\n`;
}

/** The answer to "doctor" in chat (approvers only; see bot/chat/assistant.ts). */
export function doctorCard(report: DoctorReport): Card {
  const facts = [
    { title: 'Tenant', value: report.tenantId },
    { title: 'Credential', value: report.credential },
  ];
  if (report.tokenError || !report.diagnosis) {
    return messageCard('Vigil doctor: no Graph token', `Vigil could not get a token for Microsoft Graph: ${report.tokenError ?? 'unknown error'}`, 'attention', facts);
  }
  const d = report.diagnosis;
  facts.push({ title: 'Profile', value: d.profile === 'full' ? 'checks and fixes' : 'read-only install' });
  facts.push({ title: 'Granted', value: `${d.present.length} of ${d.present.length + d.missing.length} needed permissions` });
  for (const row of d.missing) facts.push({ title: `Missing ${row.permission}`, value: `${row.access}: ${usesText(row)}` });
  for (const p of d.excessWrites) facts.push({ title: `Not needed ${p}`, value: 'write permission on a read-only install' });
  if (report.exchange) facts.push({ title: 'Exchange reader', value: report.exchange.error ? `no token: ${report.exchange.error}` : report.exchange.granted ? 'Exchange.ManageAsApp granted' : 'Exchange.ManageAsApp missing' });
  return report.ok
    ? messageCard('Vigil doctor: all good', 'Every application permission this install needs is granted.', 'good', facts)
    : messageCard('Vigil doctor: permissions missing', 'Grant these in Entra admin center (App registrations > API permissions > Application permissions), then Grant admin consent. `npx vigil doctor` prints the same.', 'warning', facts);
}

export async function doctorCommand(io: CliIO): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: io.argv,
      options: {
        profile: { type: 'string' },
        tenant: { type: 'string' },
        json: { type: 'boolean', default: false },
        demo: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    io.stderr.write(`vigil doctor: ${(err as Error).message}\nRun "vigil doctor --help" for the options.\n`);
    return DOCTOR_EXIT.usage;
  }
  if (values.help) {
    await write(io.stdout, doctorUsage());
    return DOCTOR_EXIT.ok;
  }
  if (values.profile !== undefined && values.profile !== 'full' && values.profile !== 'read-only') {
    io.stderr.write('vigil doctor: --profile must be full or read-only\n');
    return DOCTOR_EXIT.usage;
  }
  const env = environmentWithDotEnv(io.cwd, io.env);
  let config: VigilConfig;
  try {
    config = loadConfig(values.demo ? { ...env, AZURE_CLIENT_ID: '', AZURE_MANAGED_IDENTITY: '', EXCHANGE_READER: '' } : env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr.write(`vigil doctor: ${err.message}\n`);
    return DOCTOR_EXIT.usage;
  }
  if (config.demo && !values.demo) {
    io.stderr.write('vigil doctor: no Graph app is configured (AZURE_CLIENT_ID or AZURE_MANAGED_IDENTITY; see .env.example). Add --demo to check the built-in demo tenant.\n');
    return DOCTOR_EXIT.usage;
  }
  const connection = config.demo ? await connectGraph(config, { demoTenant: io.demoTenant, now: io.now }) : undefined;
  try {
    const report = await runDoctor(config, { demo: connection?.demo, tenantId: values.tenant, profile: values.profile as Profile | undefined });
    await write(io.stdout, values.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report));
    if (!report.diagnosis) return DOCTOR_EXIT.token;
    return report.ok ? DOCTOR_EXIT.ok : DOCTOR_EXIT.missing;
  } finally {
    await connection?.close();
  }
}

function write(stream: OutStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(text, (err) => (err ? reject(err) : resolve())));
}
