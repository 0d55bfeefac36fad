/** The tenant registry (MSP mode): which customer tenants Vigil watches, and their settings. */
import type { Queryable } from './db';

export interface TenantSettings {
  /** Entra object ids (in that tenant) of its security approvers. */
  approverIds?: string[];
  /** A group in that tenant whose transitive members are approvers. */
  approverGroupId?: string;
  /** Break-glass / excluded accounts (UPNs or object ids): never findings. */
  excludedAccounts?: string[];
  /** Minutes between scheduled scans (default: SCAN_INTERVAL). */
  scanIntervalMinutes?: number;
}

export interface TenantRecord {
  tenantId: string;
  displayName: string;
  settings: TenantSettings;
  alertsPaused: boolean;
  addedBy: string | null;
  addedAt: Date;
}

export class TenantStore {
  constructor(private readonly db: Queryable) {}

  /** Add or update a tenant; returns false when another tenant already has that name. */
  async upsert(t: Omit<TenantRecord, 'alertsPaused'> & { alertsPaused?: boolean }): Promise<boolean> {
    const clash = await this.db.query<{ tenant_id: string }>(
      `SELECT tenant_id FROM tenants WHERE lower(display_name) = lower($1) AND tenant_id <> $2`,
      [t.displayName, t.tenantId],
    );
    if (clash.length) return false;
    await this.db.query(
      `INSERT INTO tenants (tenant_id, display_name, settings, alerts_paused, added_by, added_at) VALUES ($1,$2,$3::jsonb,$4,$5,$6)
       ON CONFLICT (tenant_id) DO UPDATE SET display_name = EXCLUDED.display_name, settings = EXCLUDED.settings`,
      [t.tenantId.toLowerCase(), t.displayName, JSON.stringify(t.settings ?? {}), t.alertsPaused ?? false, t.addedBy, t.addedAt],
    );
    return true;
  }

  async remove(tenantId: string): Promise<boolean> {
    const rows = await this.db.query(`DELETE FROM tenants WHERE tenant_id = $1 RETURNING tenant_id`, [tenantId.toLowerCase()]);
    await this.db.query(`DELETE FROM scan_jobs WHERE tenant_id = $1`, [tenantId.toLowerCase()]);
    return rows.length > 0;
  }

  async get(tenantId: string): Promise<TenantRecord | undefined> {
    const rows = await this.db.query(`SELECT * FROM tenants WHERE tenant_id = $1`, [tenantId.toLowerCase()]);
    return rows[0] ? toTenant(rows[0]) : undefined;
  }

  async list(): Promise<TenantRecord[]> {
    return (await this.db.query(`SELECT * FROM tenants ORDER BY lower(display_name)`)).map(toTenant);
  }

  async setAlertsPaused(tenantId: string, paused: boolean): Promise<void> {
    await this.db.query(`UPDATE tenants SET alerts_paused = $2 WHERE tenant_id = $1`, [tenantId.toLowerCase(), paused]);
  }
}

function toTenant(r: Record<string, unknown>): TenantRecord {
  return {
    tenantId: String(r.tenant_id),
    displayName: String(r.display_name),
    settings: (r.settings ?? {}) as TenantSettings,
    alertsPaused: Boolean(r.alerts_paused),
    addedBy: (r.added_by as string) ?? null,
    addedAt: r.added_at instanceof Date ? r.added_at : new Date(String(r.added_at)),
  };
}
