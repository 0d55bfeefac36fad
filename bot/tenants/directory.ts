/**
 * The tenants Vigil serves: its home tenant (where its app is registered) and, in MSP mode,
 * the customer tenants added to the registry. Names come from the registry, or from Graph's
 * /organization for the home tenant.
 */
import type { Organization } from '@microsoft/microsoft-graph-types';
import type { GraphApi } from '../graph/api';
import type { TenantRecord, TenantSettings, TenantStore } from '../store';

export interface ServedTenant {
  tenantId: string;
  displayName: string;
  isHome: boolean;
  settings: TenantSettings;
  alertsPaused: boolean;
}

export class TenantDirectory {
  private known = new Set<string>();
  private homeName?: string;

  constructor(
    private readonly store: TenantStore,
    readonly homeTenantId: string,
    private readonly graphFor: (tenantId: string) => GraphApi,
    private readonly homeSettings: TenantSettings = {},
  ) {
    this.known.add(homeTenantId.toLowerCase());
  }

  /** Reload the registry (other processes may have changed it). */
  async refresh(): Promise<ServedTenant[]> {
    const all = await this.list();
    this.known = new Set(all.map((t) => t.tenantId.toLowerCase()));
    return all;
  }

  isServed(tenantId: string): boolean {
    return this.known.has(tenantId.toLowerCase());
  }

  isHome(tenantId: string): boolean {
    return tenantId.toLowerCase() === this.homeTenantId.toLowerCase();
  }

  async list(): Promise<ServedTenant[]> {
    const registered = await this.store.list();
    const home = registered.find((t) => this.isHome(t.tenantId));
    const out: ServedTenant[] = [
      {
        tenantId: this.homeTenantId.toLowerCase(),
        displayName: home?.displayName ?? (await this.homeDisplayName()),
        isHome: true,
        settings: { ...this.homeSettings, ...home?.settings },
        alertsPaused: home?.alertsPaused ?? false,
      },
    ];
    for (const t of registered) if (!this.isHome(t.tenantId)) out.push(toServed(t));
    return out;
  }

  async get(tenantId: string): Promise<ServedTenant | undefined> {
    return (await this.list()).find((t) => t.tenantId === tenantId.toLowerCase());
  }

  async name(tenantId: string): Promise<string> {
    return (await this.get(tenantId))?.displayName ?? tenantId;
  }

  async add(t: { tenantId: string; displayName: string; settings?: TenantSettings; addedBy: string; now: Date }): Promise<'added' | 'name-taken'> {
    const ok = await this.store.upsert({ tenantId: t.tenantId, displayName: t.displayName, settings: t.settings ?? {}, addedBy: t.addedBy, addedAt: t.now });
    if (!ok) return 'name-taken';
    this.known.add(t.tenantId.toLowerCase());
    return 'added';
  }

  async remove(tenantId: string): Promise<boolean> {
    if (this.isHome(tenantId)) return false;
    const removed = await this.store.remove(tenantId);
    this.known.delete(tenantId.toLowerCase());
    return removed;
  }

  async setAlertsPaused(tenantId: string, paused: boolean, by: string, now: Date): Promise<void> {
    // The home tenant gets a registry row the first time its settings change.
    if (this.isHome(tenantId) && !(await this.store.get(tenantId))) {
      await this.store.upsert({ tenantId, displayName: await this.homeDisplayName(), settings: {}, addedBy: by, addedAt: now });
    }
    await this.store.setAlertsPaused(tenantId, paused);
  }

  private async homeDisplayName(): Promise<string> {
    if (this.homeName) return this.homeName;
    try {
      const org = await this.graphFor(this.homeTenantId).get<{ value: Organization[] }>('/organization', { query: { $select: 'displayName' } });
      this.homeName = org.value?.[0]?.displayName ?? 'your tenant';
    } catch {
      return 'your tenant'; // not cached: try again next time
    }
    return this.homeName;
  }
}

function toServed(t: TenantRecord): ServedTenant {
  return { tenantId: t.tenantId, displayName: t.displayName, isHome: false, settings: t.settings, alertsPaused: t.alertsPaused };
}
