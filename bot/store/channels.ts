/** Where each tenant wants its approval requests (and later alerts) posted. */
import type { ConversationPointer } from './approvals';
import type { Queryable } from './db';

export type ChannelPurpose = 'approvals' | 'alerts';

export interface ChannelRecord {
  tenantId: string;
  purpose: ChannelPurpose;
  ref: ConversationPointer;
  name: string | null;
  setBy: string;
  setAt: Date;
  /** Set when Teams refused writes there (MessageWritesBlocked); cleared when the channel is set again. */
  unreachableSince?: Date | null;
}

export class ChannelStore {
  constructor(private readonly db: Queryable) {}

  async set(c: ChannelRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO channels (tenant_id, purpose, conversation_ref, name, set_by, set_at) VALUES ($1,$2,$3::jsonb,$4,$5,$6)
       ON CONFLICT (tenant_id, purpose) DO UPDATE SET conversation_ref = EXCLUDED.conversation_ref, name = EXCLUDED.name,
         set_by = EXCLUDED.set_by, set_at = EXCLUDED.set_at, unreachable_since = NULL`,
      [c.tenantId, c.purpose, JSON.stringify(c.ref), c.name, c.setBy, c.setAt],
    );
  }

  async get(tenantId: string, purpose: ChannelPurpose): Promise<ChannelRecord | undefined> {
    const rows = await this.db.query<Record<string, unknown>>(
      `SELECT * FROM channels WHERE tenant_id = $1 AND purpose = $2`,
      [tenantId, purpose],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      tenantId: String(r.tenant_id),
      purpose: r.purpose as ChannelPurpose,
      ref: r.conversation_ref as ConversationPointer,
      name: (r.name as string) ?? null,
      setBy: String(r.set_by),
      setAt: r.set_at instanceof Date ? r.set_at : new Date(String(r.set_at)),
      unreachableSince: r.unreachable_since ? new Date(String(r.unreachable_since instanceof Date ? r.unreachable_since.toISOString() : r.unreachable_since)) : null,
    };
  }
}
