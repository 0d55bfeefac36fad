/**
 * Configuration: read once from the environment, validated with zod so that each bad
 * value produces one clear line, and nothing else in the code reads process.env.
 * The variable names are an interface (scripts and acceptance tests rely on them).
 */
import { z } from 'zod';

const guid = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

const csv = z
  .string()
  .optional()
  .transform((v) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean));

const guidList = csv.refine((ids) => ids.every((id) => guid.test(id)), {
  message: 'must be a comma-separated list of GUIDs',
});

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() !== '' ? v.trim() : undefined));

const optionalGuid = optionalString.refine((v) => v === undefined || guid.test(v), { message: 'must be a GUID' });

const httpsUrl = (fallback?: string) =>
  optionalString
    .transform((v) => v ?? fallback)
    .refine((v) => v === undefined || /^https:\/\/[^/]+/.test(v), { message: 'must be an https:// URL' })
    .transform((v) => (v ? v.replace(/\/+$/, '') : v));

const durationMinutes = (fallback: number) =>
  optionalString
    .transform((v) => (v === undefined ? fallback : Number(v)))
    .refine((n) => Number.isFinite(n) && n > 0, { message: 'must be a positive number of minutes' });

const EnvSchema = z.object({
  NODE_ENV: optionalString,
  PORT: optionalString
    .transform((v) => (v === undefined ? 3978 : Number(v)))
    .refine((n) => Number.isInteger(n) && n >= 0 && n < 65536, { message: 'must be a port number (0-65535)' }),
  BOT_ID: optionalGuid,
  BOT_PASSWORD: optionalString,
  BOT_TYPE: optionalString
    .transform((v) => v ?? 'MultiTenant')
    .refine((v) => ['MultiTenant', 'SingleTenant', 'UserAssignedMSI'].includes(v), {
      message: 'must be MultiTenant, SingleTenant or UserAssignedMSI',
    }),
  BOT_TENANT_ID: optionalGuid,
  AZURE_TENANT_ID: optionalGuid,
  AZURE_CLIENT_ID: optionalGuid,
  AZURE_CLIENT_SECRET: optionalString,
  AZURE_CLIENT_CERTIFICATE_PATH: optionalString,
  // Workload identity federation: the federated token file (Kubernetes projects it; AKS's webhook sets this variable).
  AZURE_FEDERATED_TOKEN_FILE: optionalString,
  // Managed identity for Graph: system (system-assigned) or user-assigned (AZURE_CLIENT_ID names it); off/empty = none.
  AZURE_MANAGED_IDENTITY: optionalString
    .transform((v) => (v === undefined || v.toLowerCase() === 'off' ? undefined : v.toLowerCase()))
    .refine((v) => v === undefined || v === 'system' || v === 'user-assigned', { message: 'must be system, user-assigned or off' }),
  // Application Insights: OpenTelemetry traces and metrics are exported there when set.
  APPLICATIONINSIGHTS_CONNECTION_STRING: optionalString.refine((v) => v === undefined || /(^|;)\s*InstrumentationKey=[^;]+/i.test(v), {
    message: 'must be an Application Insights connection string (InstrumentationKey=…;IngestionEndpoint=…)',
  }),
  AZURE_AUTHORITY_HOST: httpsUrl(),
  GRAPH_BASE_URL: httpsUrl('https://graph.microsoft.com'),
  ALLOWED_TENANT_IDS: guidList,
  // Service URLs Vigil replies to: host names (https) or origins (scheme://host:port). Empty = Teams' own hosts.
  ALLOWED_SERVICE_URLS: csv.refine((items) => items.every((v) => /^https?:\/\/[^/\s]+\/?$/i.test(v) || /^[a-z0-9.-]+$/i.test(v)), {
    message: 'must be a comma-separated list of host names (e.g. smba.trafficmanager.net) or origins (e.g. https://host:443)',
  }),
  RATE_LIMIT_USER_PER_MINUTE: optionalString
    .transform((v) => (v === undefined ? 30 : Number(v)))
    .refine((n) => Number.isInteger(n) && n >= 1, { message: 'must be a whole number of chat commands per minute (at least 1)' }),
  RATE_LIMIT_TENANT_PER_MINUTE: optionalString
    .transform((v) => (v === undefined ? 150 : Number(v)))
    .refine((n) => Number.isInteger(n) && n >= 1, { message: 'must be a whole number of chat commands per minute (at least 1)' }),
  APPROVER_IDS: guidList,
  APPROVER_GROUP_ID: optionalGuid,
  APPROVAL_TTL_MINUTES: durationMinutes(24 * 60),
  // --- Remediation ---
  REMEDIATION: optionalString
    .transform((v) => (v ?? 'on').toLowerCase())
    .refine((v) => ['on', 'off'].includes(v), { message: 'must be on or off' }),
  HIGH_RISK_APPROVALS: optionalString
    .transform((v) => (v === undefined ? 2 : Number(v)))
    .refine((n) => Number.isInteger(n) && n >= 1 && n <= 10, { message: 'must be a whole number of approvers from 1 to 10' }),
  PUBLIC_URL: optionalString
    .refine((v) => v === undefined || /^https?:\/\/[^/]+/.test(v), { message: 'must be an http:// or https:// URL' })
    .transform((v) => (v ? v.replace(/\/+$/, '') : v)),
  // --- Reports (signed download links) ---
  REPORT_LINK_SECRET: optionalString.refine((v) => v === undefined || v.length >= 32, {
    message: 'must be at least 32 characters (e.g. the output of: openssl rand -base64 48)',
  }),
  REPORT_LINK_MINUTES: optionalString
    .transform((v) => (v === undefined ? 15 : Number(v)))
    .refine((n) => Number.isFinite(n) && n > 0 && n <= 1440, { message: 'must be a number of minutes from 1 to 1440' }),
  DATABASE_URL: optionalString.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
    message: 'must be a postgres:// or postgresql:// URL',
  }),
  DATA_DIR: optionalString.transform((v) => v ?? './data'),
  // --- Keeping watch (scheduled scans, alerts) and MSP mode ---
  SCAN_INTERVAL: durationMinutes(60),
  SCAN_QUICK_INTERVAL: optionalString
    .transform((v) => (v === undefined ? 15 : Number(v)))
    .refine((n) => Number.isFinite(n) && n >= 0, { message: 'must be a number of minutes (0 turns quick scans off)' }),
  SCAN_CONCURRENCY: optionalString
    .transform((v) => (v === undefined ? 10 : Number(v)))
    .refine((n) => Number.isInteger(n) && n >= 1 && n <= 100, { message: 'must be a whole number of tenants from 1 to 100' }),
  SCAN_POLL_SECONDS: optionalString
    .transform((v) => (v === undefined ? 30 : Number(v)))
    .refine((n) => Number.isFinite(n) && n >= 0, { message: 'must be a number of seconds (0 turns scheduled scans off)' }),
  SCAN_LEASE_SECONDS: optionalString
    .transform((v) => (v === undefined ? 900 : Number(v)))
    .refine((n) => Number.isFinite(n) && n >= 5, { message: 'must be at least 5 seconds' }),
  TENANTS_FILE: optionalString,
  DEMO_TENANTS: optionalString
    .transform((v) => (v === undefined ? 1 : Number(v)))
    .refine((n) => Number.isInteger(n) && n >= 1 && n <= 500, { message: 'must be a whole number from 1 to 500' }),
  LOG_LEVEL: optionalString
    .transform((v) => v ?? 'info')
    .refine((v) => ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(v), {
      message: 'must be one of fatal, error, warn, info, debug, trace, silent',
    }),
  // --- Posture checks ---
  ALLOWED_COUNTRIES: csv
    .transform((codes) => codes.map((c) => c.toUpperCase()))
    .refine((codes) => codes.every((c) => /^[A-Z]{2}$/.test(c)), { message: 'must be a comma-separated list of two-letter country codes (ISO 3166-1), e.g. GB,IE' }),
  EXCLUDED_ACCOUNTS: csv.refine((items) => items.every((v) => guid.test(v) || /^[^@\s]+@[^@\s]+$/.test(v)), {
    message: 'must be a comma-separated list of user principal names or object ids',
  }),
  SIGNIN_LOOKBACK_DAYS: optionalString
    .transform((v) => (v === undefined ? 30 : Number(v)))
    .refine((n) => Number.isInteger(n) && n >= 1 && n <= 30, { message: 'must be a whole number of days from 1 to 30 (sign-in logs are kept 30 days)' }),
  EXCHANGE_READER: optionalString
    .transform((v) => (v ?? 'off').toLowerCase())
    .refine((v) => ['on', 'off'].includes(v), { message: 'must be on or off' }),
  EXCHANGE_ADMIN_URL: httpsUrl('https://outlook.office365.com'),
});

export type Env = z.infer<typeof EnvSchema>;

export interface GraphCredentialConfig {
  tenantId: string;
  clientId: string;
  clientSecret?: string;
  certificatePath?: string;
  authorityHost?: string;
  /** Workload identity federation: file holding the federated token (read again for every token). */
  federatedTokenFile?: string;
  /**
   * Managed identity (clientId = the user-assigned identity's client id; empty for system-assigned).
   * A managed identity has tokens for its own tenant only: `homeTenantId`.
   */
  managedIdentity?: { kind: 'system' | 'user-assigned'; homeTenantId: string };
}

export interface VigilConfig {
  production: boolean;
  port: number;
  /** Bind address: without a bot identity Vigil accepts unauthenticated traffic, so it listens on loopback only. */
  host: string;
  bot: {
    appId?: string;
    appPassword?: string;
    appType: string;
    tenantId?: string;
    /** ALLOWED_SERVICE_URLS (empty = Teams' own hosts; loopback too while BOT_ID is empty). */
    serviceUrls?: string[];
    /** Chat commands per minute: per person and per tenant. */
    rateLimits?: { userPerMinute: number; tenantPerMinute: number };
  };
  /** Demo mode: no Graph app credentials, so Vigil starts the built-in demo tenant. */
  demo: boolean;
  graph: { baseUrl: string; credential?: GraphCredentialConfig };
  allowedTenantIds: string[];
  approvers: { ids: string[]; groupId?: string };
  approvalTtlMinutes: number;
  /** Fixes: on/off (REMEDIATION), approvers a high-risk fix needs (HIGH_RISK_APPROVALS). */
  remediation: { enabled: boolean; highRiskApprovals: number };
  /** Where people's browsers reach Vigil (download links); undefined = the local server address. */
  publicUrl?: string;
  /** Report download links: HMAC key (undefined = a random key per process) and lifetime. */
  reports: { linkSecret?: string; linkMinutes: number };
  store: { databaseUrl?: string; dataDir: string };
  logLevel: string;
  /** OpenTelemetry export to Azure Monitor (APPLICATIONINSIGHTS_CONNECTION_STRING); undefined = not exported. */
  telemetry: { connectionString?: string };
  /** Scheduled scans: minutes between scans of a tenant; how often a process looks for due scans (0 = never). */
  watch: { intervalMinutes: number; quickIntervalMinutes: number; concurrency: number; pollSeconds: number; leaseSeconds: number; tenantsFile?: string };
  /** Demo mode: how many demo tenants (the first is the home tenant; more = MSP customers). */
  demoTenants: number;
  /** Posture checks: break-glass accounts, countries, sign-in window, the optional Exchange Online reader. */
  checks: {
    /** UPNs (lower-cased) or object ids shown as excluded, never as findings. */
    excludedAccounts: string[];
    /** ISO 3166-1 alpha-2 codes; empty = the tenant's own country from /organization. */
    allowedCountries: string[];
    signInLookbackDays: number;
    exchange: { enabled: boolean; baseUrl: string };
  };
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Parse and cross-check the environment. Throws ConfigError listing one line per bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): VigilConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const production = e.NODE_ENV === 'production';
  if (!e.BOT_ID && production) problems.push('BOT_ID: required when NODE_ENV=production (inbound authentication cannot be off)');
  if (e.BOT_ID && e.BOT_TYPE !== 'UserAssignedMSI' && !e.BOT_PASSWORD) problems.push('BOT_PASSWORD: required when BOT_ID is set');
  if (e.BOT_TYPE === 'SingleTenant' && e.BOT_ID && !e.BOT_TENANT_ID) problems.push('BOT_TENANT_ID: required when BOT_TYPE=SingleTenant');
  // Graph credential, as @azure/identity documents it: a managed identity, workload identity federation,
  // a certificate or a secret (exactly one kind; a certificate wins over a secret, as before).
  const managedIdentity = e.AZURE_MANAGED_IDENTITY as 'system' | 'user-assigned' | undefined;
  const demo = !e.AZURE_CLIENT_ID && !managedIdentity;
  if (!demo) {
    if (!e.AZURE_TENANT_ID) problems.push(`AZURE_TENANT_ID: required when ${e.AZURE_CLIENT_ID ? 'AZURE_CLIENT_ID' : 'AZURE_MANAGED_IDENTITY'} is set`);
    if (managedIdentity === 'user-assigned' && !e.AZURE_CLIENT_ID) problems.push("AZURE_CLIENT_ID: required when AZURE_MANAGED_IDENTITY=user-assigned (the identity's client id)");
    const kinds = [
      e.AZURE_CLIENT_SECRET || e.AZURE_CLIENT_CERTIFICATE_PATH ? 'AZURE_CLIENT_SECRET/AZURE_CLIENT_CERTIFICATE_PATH' : '',
      e.AZURE_FEDERATED_TOKEN_FILE ? 'AZURE_FEDERATED_TOKEN_FILE' : '',
      managedIdentity ? 'AZURE_MANAGED_IDENTITY' : '',
    ].filter(Boolean);
    if (!kinds.length) {
      problems.push('AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH: one is required when AZURE_CLIENT_ID is set (or AZURE_FEDERATED_TOKEN_FILE, or AZURE_MANAGED_IDENTITY)');
    } else if (kinds.length > 1) {
      problems.push(`AZURE_MANAGED_IDENTITY: set one kind of Graph credential only, not ${kinds.join(' and ')}`);
    }
  } else if (production) {
    problems.push('AZURE_CLIENT_ID: required when NODE_ENV=production (the demo tenant is for trying Vigil out)');
  }
  if (demo && e.EXCHANGE_READER === 'on') problems.push('EXCHANGE_READER: needs a real tenant (AZURE_CLIENT_ID); the demo tenant has no Exchange Online admin API');
  if (production && e.PUBLIC_URL && !e.PUBLIC_URL.startsWith('https://')) problems.push('PUBLIC_URL: must be an https:// URL when NODE_ENV=production');
  if (production && e.ALLOWED_SERVICE_URLS.some((v) => /^http:\/\//i.test(v))) problems.push('ALLOWED_SERVICE_URLS: only https service URLs when NODE_ENV=production (the bot sends its token there)');
  if (problems.length) throw new ConfigError(problems);

  const credential: GraphCredentialConfig | undefined = demo
    ? undefined
    : {
        tenantId: e.AZURE_TENANT_ID!,
        clientId: e.AZURE_CLIENT_ID ?? '',
        clientSecret: e.AZURE_CLIENT_SECRET,
        certificatePath: e.AZURE_CLIENT_CERTIFICATE_PATH,
        authorityHost: e.AZURE_AUTHORITY_HOST,
        federatedTokenFile: e.AZURE_FEDERATED_TOKEN_FILE,
        managedIdentity: managedIdentity ? { kind: managedIdentity, homeTenantId: e.AZURE_TENANT_ID! } : undefined,
      };
  return {
    production,
    port: e.PORT,
    host: e.BOT_ID ? '0.0.0.0' : '127.0.0.1',
    bot: {
      appId: e.BOT_ID,
      appPassword: e.BOT_PASSWORD,
      appType: e.BOT_TYPE,
      tenantId: e.BOT_TENANT_ID,
      serviceUrls: e.ALLOWED_SERVICE_URLS,
      rateLimits: { userPerMinute: e.RATE_LIMIT_USER_PER_MINUTE, tenantPerMinute: e.RATE_LIMIT_TENANT_PER_MINUTE },
    },
    demo,
    graph: { baseUrl: e.GRAPH_BASE_URL!, credential },
    // Default: serve only the tenant whose Graph we can read (never "everyone").
    // Empty = every tenant Vigil serves (its own plus registered customer tenants); never "everyone".
    allowedTenantIds: e.ALLOWED_TENANT_IDS,
    approvers: { ids: e.APPROVER_IDS, groupId: e.APPROVER_GROUP_ID },
    approvalTtlMinutes: e.APPROVAL_TTL_MINUTES,
    remediation: { enabled: e.REMEDIATION === 'on', highRiskApprovals: e.HIGH_RISK_APPROVALS },
    publicUrl: e.PUBLIC_URL,
    reports: { linkSecret: e.REPORT_LINK_SECRET, linkMinutes: e.REPORT_LINK_MINUTES },
    store: { databaseUrl: e.DATABASE_URL, dataDir: e.DATA_DIR },
    logLevel: e.LOG_LEVEL,
    telemetry: { connectionString: e.APPLICATIONINSIGHTS_CONNECTION_STRING },
    watch: { intervalMinutes: e.SCAN_INTERVAL, quickIntervalMinutes: e.SCAN_QUICK_INTERVAL, concurrency: e.SCAN_CONCURRENCY, pollSeconds: e.SCAN_POLL_SECONDS, leaseSeconds: e.SCAN_LEASE_SECONDS, tenantsFile: e.TENANTS_FILE },
    demoTenants: e.DEMO_TENANTS,
    checks: {
      excludedAccounts: e.EXCLUDED_ACCOUNTS.map((v) => v.toLowerCase()),
      allowedCountries: e.ALLOWED_COUNTRIES,
      signInLookbackDays: e.SIGNIN_LOOKBACK_DAYS,
      exchange: { enabled: e.EXCHANGE_READER === 'on', baseUrl: e.EXCHANGE_ADMIN_URL! },
    },
  };
}
