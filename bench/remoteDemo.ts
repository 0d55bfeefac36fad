/**
 * The benchmark's simulator runs in its own process; the Vigil children get its address card in
 * the shape startVigil takes a demo tenant (one tenant, or every tenant of an MSP simulator).
 */
import type { DemoTenant } from '../bot/demo';
import type { SimInfo } from './sim';

/** startVigil takes a DemoTenant; the simulator lives in another process, so this is its address card. */
export function remoteDemo(info: SimInfo): DemoTenant {
  const names = new Map((info.tenants ?? [{ tenantId: info.tenantId, displayName: 'home' }]).map((t) => [t.tenantId, t.displayName]));
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
    tenantIds: () => [...names.keys()],
    // startVigil registers every tenant but the first under its organisation's name.
    tenant: (id: string) => ({ organization: { displayName: names.get(id) ?? unavailable() } }),
    addTenant: unavailable,
    reset: unavailable,
    close: async () => undefined,
  };
  return stub as unknown as DemoTenant;
}
