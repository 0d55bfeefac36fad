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
  AZURE_AUTHORITY_HOST: httpsUrl(),
  GRAPH_BASE_URL: httpsUrl('https://graph.microsoft.com'),
  ALLOWED_TENANT_IDS: guidList,
  APPROVER_IDS: guidList,
  APPROVER_GROUP_ID: optionalGuid,
  APPROVAL_TTL_MINUTES: durationMinutes(24 * 60),
  DATABASE_URL: optionalString.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
    message: 'must be a postgres:// or postgresql:// URL',
  }),
  DATA_DIR: optionalString.transform((v) => v ?? './data'),
  LOG_LEVEL: optionalString
    .transform((v) => v ?? 'info')
    .refine((v) => ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(v), {
      message: 'must be one of fatal, error, warn, info, debug, trace, silent',
    }),
});

export type Env = z.infer<typeof EnvSchema>;

export interface GraphCredentialConfig {
  tenantId: string;
  clientId: string;
  clientSecret?: string;
  certificatePath?: string;
  authorityHost?: string;
}

export interface VigilConfig {
  production: boolean;
  port: number;
  /** Bind address: without a bot identity Vigil accepts unauthenticated traffic, so it listens on loopback only. */
  host: string;
  bot: { appId?: string; appPassword?: string; appType: string; tenantId?: string };
  /** Demo mode: no Graph app credentials, so Vigil starts the built-in demo tenant. */
  demo: boolean;
  graph: { baseUrl: string; credential?: GraphCredentialConfig };
  allowedTenantIds: string[];
  approvers: { ids: string[]; groupId?: string };
  approvalTtlMinutes: number;
  store: { databaseUrl?: string; dataDir: string };
  logLevel: string;
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
  const demo = !e.AZURE_CLIENT_ID;
  if (!demo) {
    if (!e.AZURE_TENANT_ID) problems.push('AZURE_TENANT_ID: required when AZURE_CLIENT_ID is set');
    if (!e.AZURE_CLIENT_SECRET && !e.AZURE_CLIENT_CERTIFICATE_PATH) {
      problems.push('AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH: one is required when AZURE_CLIENT_ID is set');
    }
  } else if (production) {
    problems.push('AZURE_CLIENT_ID: required when NODE_ENV=production (the demo tenant is for trying Vigil out)');
  }
  if (problems.length) throw new ConfigError(problems);

  const credential: GraphCredentialConfig | undefined = demo
    ? undefined
    : {
        tenantId: e.AZURE_TENANT_ID!,
        clientId: e.AZURE_CLIENT_ID!,
        clientSecret: e.AZURE_CLIENT_SECRET,
        certificatePath: e.AZURE_CLIENT_CERTIFICATE_PATH,
        authorityHost: e.AZURE_AUTHORITY_HOST,
      };
  return {
    production,
    port: e.PORT,
    host: e.BOT_ID ? '0.0.0.0' : '127.0.0.1',
    bot: { appId: e.BOT_ID, appPassword: e.BOT_PASSWORD, appType: e.BOT_TYPE, tenantId: e.BOT_TENANT_ID },
    demo,
    graph: { baseUrl: e.GRAPH_BASE_URL!, credential },
    // Default: serve only the tenant whose Graph we can read (never "everyone").
    allowedTenantIds: e.ALLOWED_TENANT_IDS.length ? e.ALLOWED_TENANT_IDS : credential ? [credential.tenantId] : [],
    approvers: { ids: e.APPROVER_IDS, groupId: e.APPROVER_GROUP_ID },
    approvalTtlMinutes: e.APPROVAL_TTL_MINUTES,
    store: { databaseUrl: e.DATABASE_URL, dataDir: e.DATA_DIR },
    logLevel: e.LOG_LEVEL,
  };
}
