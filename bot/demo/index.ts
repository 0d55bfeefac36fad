/**
 * Vigil's demo tenant: an in-process HTTPS server that speaks enough Microsoft Graph
 * (and the Microsoft identity platform's client-credentials flow) for Vigil to run
 * end to end with the real Graph SDK and @azure/identity, without any credentials.
 *
 *   const demo = await startDemoTenant();
 *   // GRAPH_BASE_URL = AZURE_AUTHORITY_HOST = demo.baseUrl; trust demo.caCertPem for these clients only.
 */
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { generate } from 'selfsigned';
import { TokenIssuer } from './auth';
import { defaultKnobs, type DemoKnobs } from './knobs';
import { defaultSeed } from './seed';
import { DemoServer, type RecordedRequest } from './server';
import { DemoTenantState, type DemoTenantSeed } from './state';

export type { DemoFault, DemoKnobs } from './knobs';
export type { RecordedRequest } from './server';
export type { DemoTenantSeed, DemoUserRecord, DemoAuthMethod, DemoGroup, DemoRoleAssignment, DemoRoleEligibility, DemoLicences, PerUserMfaState } from './state';
export { DemoTenantState } from './state';
export {
  DEMO_TENANT_ID,
  DEMO_DOMAIN,
  DEMO_INITIAL_DOMAIN,
  DEMO_APPROVER_GROUP_ID,
  DEMO_PRACTICE_MANAGEMENT_GROUP_ID,
  DEMO_ALL_STAFF_GROUP_ID,
  DEMO_USERS,
  ROLE_TEMPLATE_IDS,
  SKU_BUSINESS_PREMIUM,
  SECURE_SCORE_MAX,
  SECURE_SCORE_TODAY,
  defaultSeed,
} from './seed';
export { generateSeed, type GenerateSeedOptions } from './generate';
export * as demoChanges from './changes';
export { ALL_PERMISSIONS } from './routes';
export { MAILBOX_CONCURRENCY_LIMIT } from './server';

export interface DemoTenantOptions {
  /** 0 / undefined = a random free port. Always bound to 127.0.0.1. */
  port?: number;
  /** Clock; the default seed is built relative to it. */
  now?: () => Date;
  /** Default: [defaultSeed(now())]. More tenants for MSP mode. */
  tenants?: DemoTenantSeed[];
}

export interface DemoTenant {
  /** "https://127.0.0.1:<port>" — GRAPH_BASE_URL and AZURE_AUTHORITY_HOST. */
  baseUrl: string;
  /** Id of the first (default) tenant. */
  tenantId: string;
  /** The app registration the token endpoint accepts. */
  clientId: string;
  clientSecret: string;
  /** Self-signed certificate of this server (generated at start); trust it only in your own clients. */
  caCertPem: string;
  /** Mutable at run time. */
  knobs: DemoKnobs;
  /** Every Graph request received, in arrival order (inner $batch requests flagged inBatch). */
  requests: RecordedRequest[];
  tenant(id?: string): DemoTenantState;
  /** Ids of every tenant served, the default (first) one first. */
  tenantIds(): string[];
  addTenant(seed: DemoTenantSeed): DemoTenantState;
  /** Back to the seed(s); knobs to defaults; log cleared. */
  reset(): void;
  close(): Promise<void>;
}

interface TenantSlot {
  /** Rebuilds the seed: the default tenant is regenerated against the clock on reset. */
  seed: () => DemoTenantSeed;
  state: DemoTenantState;
}

export const DEMO_CLIENT_ID = 'b5a6c1d2-3e4f-4a5b-8c6d-7e8f9a0b1c2d';

export async function startDemoTenant(options: DemoTenantOptions = {}): Promise<DemoTenant> {
  const now = options.now ?? (() => new Date());
  const seeds: (() => DemoTenantSeed)[] = options.tenants?.length
    ? options.tenants.map((s) => () => s)
    : [() => defaultSeed(now())];
  const slots = new Map<string, TenantSlot>();
  const order: string[] = [];
  const addSlot = (seed: () => DemoTenantSeed): DemoTenantState => {
    const state = new DemoTenantState(seed());
    const key = state.id.toLowerCase();
    if (!slots.has(key)) order.push(key);
    slots.set(key, { seed, state });
    return state;
  };
  for (const s of seeds) addSlot(s);

  const knobs = defaultKnobs();
  const requests: RecordedRequest[] = [];
  const app = { clientId: DEMO_CLIENT_ID, clientSecret: `demo~${randomBytes(18).toString('base64url')}` };
  let baseUrl = '';

  const reset = (): void => {
    for (const [key, slot] of slots) slots.set(key, { seed: slot.seed, state: new DemoTenantState(slot.seed()) });
    Object.assign(knobs, defaultKnobs());
    requests.length = 0; // keep the array identity: callers hold a reference
  };

  const pems = await generate([{ name: 'commonName', value: 'Vigil demo tenant (127.0.0.1)' }], {
    keySize: 2048,
    notAfterDate: new Date(Date.now() + 30 * 86_400_000),
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
    ],
  });

  const server = new DemoServer(
    {
      knobs,
      requests,
      app,
      issuer: new TokenIssuer(),
      now,
      baseUrl: () => baseUrl,
      tenantById: (id) => slots.get(id.toLowerCase())?.state,
      resolveTenant: (idOrDomain) => {
        const key = idOrDomain.toLowerCase();
        if (slots.has(key)) return slots.get(key)!.state.id;
        for (const { state } of slots.values()) if (state.domains.some((d) => d.id.toLowerCase() === key)) return state.id;
        return undefined;
      },
      reset,
    },
    { key: pems.private, cert: pems.cert },
  );

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  baseUrl = `https://127.0.0.1:${(server.server.address() as AddressInfo).port}`;

  return {
    baseUrl,
    tenantId: slots.get(order[0])!.state.id,
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    caCertPem: pems.cert,
    knobs,
    requests,
    tenantIds: () => order.map((key) => slots.get(key)!.state.id),
    tenant: (id?: string) => {
      const slot = slots.get((id ?? order[0]).toLowerCase());
      if (!slot) throw new Error(`demo tenant ${id} not found`);
      return slot.state;
    },
    addTenant: (seed: DemoTenantSeed) => addSlot(() => seed),
    reset,
    close: () =>
      new Promise<void>((resolve) => {
        server.server.closeAllConnections();
        server.server.close(() => resolve());
      }),
  };
}
