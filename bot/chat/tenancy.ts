/**
 * Which tenant a question is about, and who may see which tenant.
 *
 * - A person in a customer tenant's Teams sees only that tenant.
 * - A person in the home (MSP) tenant sees the home tenant; if they are an approver there
 *   (an MSP technician) they see every registered tenant too.
 * A question may name a tenant ("who lacks MFA at Contoso?"); a name the person is not
 * entitled to is answered exactly like a name that does not exist.
 */
import type { ServedTenant, TenantDirectory } from '../tenants/directory';
import { ConcurrentReads } from './concurrentReads';

export interface Viewer {
  /** The tenant of the Teams activity (never from card data). */
  tenantId: string;
  userId: string;
}

export type Resolution =
  | { kind: 'tenant'; tenant: ServedTenant; text: string }
  | { kind: 'choose'; tenants: ServedTenant[]; text: string }
  | { kind: 'none'; text: string };

const REGISTRY_KEEP_MS = 1_000;

export class Tenancy {
  /**
   * Every message reads the registry; answers share one read for up to REGISTRY_KEEP_MS. Changes
   * made in this process (add, remove, pause) call `forget()`; other processes see them within that
   * time (their TenantDirectory's served-tenant gate is only refreshed by the scan poll anyway).
   */
  private readonly reads = new ConcurrentReads();

  constructor(
    private readonly directory: TenantDirectory,
    /** Is this user an approver in the home tenant (an MSP technician)? */
    private readonly isHomeApprover: (userId: string) => Promise<boolean>,
  ) {}

  async entitled(viewer: Viewer): Promise<ServedTenant[]> {
    const all = await this.reads.share('tenants', () => this.directory.list(), REGISTRY_KEEP_MS);
    const own = all.filter((t) => t.tenantId === viewer.tenantId.toLowerCase());
    if (!this.directory.isHome(viewer.tenantId)) return own;
    // A copy: the registry read is shared with other messages.
    if (all.length > 1 && (await this.isHomeApprover(viewer.userId))) return [...all];
    return own;
  }

  /** The registry changed here: the next question reads it afresh. */
  forget(): void {
    this.reads.forget('tenants');
  }

  async canSee(viewer: Viewer, tenantId: string): Promise<boolean> {
    if (viewer.tenantId.toLowerCase() === tenantId.toLowerCase()) return this.directory.isServed(tenantId);
    return (await this.entitled(viewer)).some((t) => t.tenantId === tenantId.toLowerCase());
  }

  /**
   * Strip a trailing "at/for/in <tenant name>" that names a tenant the viewer may see. With no
   * name: their only tenant, or (several) ask them to choose. `entitled`: what `entitled(viewer)`
   * gave for this same message, if the caller already has it.
   */
  async resolve(viewer: Viewer, text: string, entitled?: ServedTenant[]): Promise<Resolution> {
    const tenants = entitled ?? (await this.entitled(viewer));
    const trimmed = text.trim();
    // Any "at/for/in/of" may start the tenant's name ("… for Contoso", "… at Bank of Ireland").
    for (const m of trimmed.matchAll(/\s+(?:at|for|in|of)\s+/gi)) {
      // Tenant names are at most 80 characters: only the end of the text can name one (keeps this linear).
      if (trimmed.length - (m.index! + m[0].length) > 100) continue;
      const wanted = normaliseName(trimmed.slice(m.index! + m[0].length).replace(/[\s?!.]+$/, ''));
      const match = tenants.find((t) => normaliseName(t.displayName) === wanted || t.tenantId === wanted);
      if (match) return { kind: 'tenant', tenant: match, text: trimmed.slice(0, m.index) };
    }
    if (tenants.length === 1) return { kind: 'tenant', tenant: tenants[0], text };
    if (tenants.length === 0) return { kind: 'none', text };
    return { kind: 'choose', tenants, text };
  }
}

function normaliseName(s: string): string {
  return s.toLowerCase().replace(/<[^>]+>/g, '').replace(/[^\p{L}\p{N}-]+/gu, ' ').trim();
}
