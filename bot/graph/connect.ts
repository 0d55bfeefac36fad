/**
 * One way to reach Microsoft Graph from configuration, shared by the bot (`bot/index.ts`) and the
 * command line (`vigil audit`), so both honour GRAPH_BASE_URL, AZURE_AUTHORITY_HOST and the
 * credential variables identically. In demo mode the built-in demo tenant is started (or the one
 * given is used) and its throwaway certificate is trusted by these clients only.
 */
import type { GraphCredentialConfig, VigilConfig } from '../config';
import { defaultSeed, generateSeed, startDemoTenant, type DemoTenant, type DemoTenantSeed } from '../demo';
import { GraphApi } from './api';
import { createCredential, createGraphClient } from './client';

export interface ConnectOptions {
  /** Use this demo tenant instead of starting one (tests share one across cases). */
  demoTenant?: DemoTenant;
  now?: () => Date;
  /** Graph retry wait when Graph sends no Retry-After (seconds). */
  retryDelaySeconds?: number;
}

export interface GraphConnection {
  /** The configured (home) tenant. */
  graph: GraphApi;
  /** The demo tenant in use, when in demo mode. */
  demo?: DemoTenant;
  /** Graph for the configured tenant only; any other tenant id throws. */
  graphFor(tenantId: string): GraphApi;
  /**
   * Graph for another tenant (a GUID or a verified domain) that consented to the same multi-tenant
   * app: a credential and client of its own, built from the same configuration.
   */
  connectTenant(tenant: string): GraphApi;
  /** Stops the demo tenant if this connection started it. */
  close(): Promise<void>;
}

interface GraphSetup {
  baseUrl: string;
  credential: GraphCredentialConfig;
  trustedCaPem?: string;
}

export async function connectGraph(config: VigilConfig, opts: ConnectOptions = {}): Promise<GraphConnection> {
  const ownDemo = config.demo && !opts.demoTenant ? await startDemoTenant({ now: opts.now, tenants: demoSeeds(config.demoTenants, opts.now) }) : undefined;
  const demo = config.demo ? (opts.demoTenant ?? ownDemo) : undefined;
  const setup: GraphSetup = demo
    ? {
        baseUrl: demo.baseUrl,
        credential: { tenantId: demo.tenantId, clientId: demo.clientId, clientSecret: demo.clientSecret, authorityHost: demo.baseUrl },
        trustedCaPem: demo.caCertPem,
      }
    : { baseUrl: config.graph.baseUrl, credential: config.graph.credential! };

  const build = (credential: GraphCredentialConfig): GraphApi => {
    const tokenCredential = createCredential(credential, setup.trustedCaPem);
    const client = createGraphClient({ baseUrl: setup.baseUrl, credential: tokenCredential, trustedCaPem: setup.trustedCaPem, retryDelaySeconds: opts.retryDelaySeconds });
    return new GraphApi(client, credential.tenantId);
  };

  const graph = build(setup.credential);
  // One client per tenant, kept: each holds its own token cache.
  const tenants = new Map<string, GraphApi>([[graph.tenantId.toLowerCase(), graph]]);
  return {
    graph,
    demo,
    graphFor(tenantId: string): GraphApi {
      if (tenantId.toLowerCase() !== graph.tenantId.toLowerCase()) throw new Error(`Vigil is not connected to tenant ${tenantId}`);
      return graph;
    },
    connectTenant(tenant: string): GraphApi {
      const key = tenant.toLowerCase();
      let api = tenants.get(key);
      if (!api) tenants.set(key, (api = build({ ...setup.credential, tenantId: key })));
      return api;
    },
    async close() {
      if (ownDemo) await ownDemo.close();
    },
  };
}

/** Names of the extra demo customer tenants (MSP mode in the demo: DEMO_TENANTS > 1). */
export const DEMO_CUSTOMER_NAMES = ['Contoso', 'Fabrikam', 'Adatum', 'Litware', 'Tailspin', 'Wingtip', 'Woodgrove', 'Proseware', 'Relecloud', 'Trey Research', 'Alpine Ski House', 'Coho Winery'];

/** The demo's tenants: Northwind Dental Care (the home tenant) and, for MSP mode, small generated customers. */
export function demoSeeds(count: number, now: () => Date = () => new Date()): DemoTenantSeed[] {
  const seeds = [defaultSeed(now())];
  for (let i = 1; i < count; i++) {
    const name = DEMO_CUSTOMER_NAMES[(i - 1) % DEMO_CUSTOMER_NAMES.length] + (i > DEMO_CUSTOMER_NAMES.length ? ` ${i}` : '');
    const seed = generateSeed({ users: 40, seed: 100 + i, now: now(), name: name.replace(/\s+/g, ''), signInsPerUser: 1 });
    seed.organization.displayName = name;
    seeds.push(seed);
  }
  return seeds;
}
