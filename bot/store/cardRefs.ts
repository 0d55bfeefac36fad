/**
 * Card references. A button in a card carries only a random id; what the button means (which
 * fix, for whom, which list page) lives here, bound to the tenant it was shown in. So nothing a
 * client sends back in a card action is trusted beyond the id.
 */
import { randomBytes } from 'node:crypto';
import type { Queryable } from './db';

export class CardRefStore {
  constructor(private readonly db: Queryable) {}

  async put<T>(ref: { tenantId: string; userId?: string; kind: string; payload: T; ttlMs: number }, now: Date): Promise<string> {
    const id = randomBytes(16).toString('base64url');
    await this.db.query(
      `INSERT INTO card_refs (id, tenant_id, user_id, kind, payload, created_at, expires_at) VALUES ($1,$2,$3,$4,$5::jsonb,$6,$7)`,
      [id, ref.tenantId, ref.userId ?? null, ref.kind, JSON.stringify(ref.payload), now, new Date(now.getTime() + ref.ttlMs)],
    );
    return id;
  }

  /** The payload, only if the id exists, belongs to this tenant and kind, and has not expired. */
  async get<T>(id: unknown, tenantId: string, kind: string, now: Date): Promise<T | undefined> {
    if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{16,64}$/.test(id)) return undefined;
    const rows = await this.db.query<{ payload: T }>(
      `SELECT payload FROM card_refs WHERE id = $1 AND tenant_id = $2 AND kind = $3 AND expires_at > $4`,
      [id, tenantId, kind, now],
    );
    return rows[0]?.payload;
  }

  /**
   * The payload and the tenant it was shown for, whatever tenant asks: in MSP mode a technician in
   * the provider's tenant clicks buttons about a customer tenant. The caller must check that the
   * person may see that tenant.
   */
  async find<T>(id: unknown, kind: string, now: Date): Promise<{ tenantId: string; payload: T } | undefined> {
    if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{16,64}$/.test(id)) return undefined;
    const rows = await this.db.query<{ tenant_id: string; payload: T }>(
      `SELECT tenant_id, payload FROM card_refs WHERE id = $1 AND kind = $2 AND expires_at > $3`,
      [id, kind, now],
    );
    return rows[0] ? { tenantId: rows[0].tenant_id, payload: rows[0].payload } : undefined;
  }

  async purgeExpired(now: Date): Promise<void> {
    await this.db.query(`DELETE FROM card_refs WHERE expires_at <= $1`, [now]);
  }
}
