/** The append-only audit trail: who did what, when, in which tenant, with what result. */
import type { Queryable } from './db';

export interface AuditEntry {
  tenantId: string;
  requestId?: string;
  actorId?: string;
  actorName?: string;
  event: string;
  detail?: Record<string, unknown>;
}

export interface AuditRow extends AuditEntry {
  id: number;
  at: Date;
}

export class AuditLog {
  constructor(private readonly db: Queryable) {}

  async append(entry: AuditEntry, at: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO audit_log (at, tenant_id, request_id, actor_id, actor_name, event, detail) VALUES ($1,$2,$3,$4,$5,$6,$7::jsonb)`,
      [at, entry.tenantId, entry.requestId ?? null, entry.actorId ?? null, entry.actorName ?? null, entry.event, JSON.stringify(entry.detail ?? {})],
    );
  }

  async forRequest(requestId: string): Promise<AuditRow[]> {
    return (await this.db.query(`SELECT * FROM audit_log WHERE request_id = $1 ORDER BY id`, [requestId])).map(toRow);
  }

  async recent(tenantId: string, limit: number): Promise<AuditRow[]> {
    return (await this.db.query(`SELECT * FROM audit_log WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2`, [tenantId, limit])).map(toRow);
  }
}

function toRow(r: Record<string, unknown>): AuditRow {
  return {
    id: Number(r.id),
    at: r.at instanceof Date ? r.at : new Date(String(r.at)),
    tenantId: String(r.tenant_id),
    requestId: (r.request_id as string) ?? undefined,
    actorId: (r.actor_id as string) ?? undefined,
    actorName: (r.actor_name as string) ?? undefined,
    event: String(r.event),
    detail: (r.detail ?? {}) as Record<string, unknown>,
  };
}
