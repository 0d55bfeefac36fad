/**
 * The delta-synced snapshot of a tenant's users and where its change tracking stands
 * (bot/graph/usersDelta.ts keeps it; bot/graph/userSnapshot.ts serves scheduled scans from it).
 *
 * A full round writes every user it receives with a new generation and, once its deltaLink has
 * come, deletes in one transaction the rows it did not see — users deleted while no link was
 * valid. A round that fails half-way leaves rows that are each a user's real (newer) state and
 * the previous link still stored, so the next sync simply continues from that link (changes are
 * idempotent to apply again). Reads page through the snapshot by id (keyset), never all at once.
 */
import type { Queryable } from './db';

export interface DirectorySyncState {
  tenantId: string;
  deltaLink: string | null;
  /** The $select the link tracks. */
  selectFields: string;
  /** When the round that produced the link started. */
  obtainedAt: Date | null;
  syncedAt: Date | null;
  generation: number;
}

/** One change from Graph: a user's properties (all of them, or only the changed ones) or a removal. */
export type DirectoryChange = { id: string; removed: true } | { id: string; removed?: false; props: Record<string, unknown> };

/** The simple filters a snapshot read understands (what the checks' `$filter`s say). */
export interface SnapshotFilter {
  accountEnabled?: boolean;
  userType?: string;
}

type Db = Queryable & { transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> };

const date = (v: unknown): Date | null => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v)));

export class DirectoryUserStore {
  constructor(private readonly db: Db) {}

  async state(tenantId: string): Promise<DirectorySyncState | undefined> {
    const rows = await this.db.query<Record<string, unknown>>(
      'SELECT tenant_id, delta_link, select_fields, obtained_at, synced_at, generation FROM directory_sync WHERE tenant_id = $1',
      [tenantId.toLowerCase()],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      tenantId: String(r.tenant_id),
      deltaLink: (r.delta_link as string | null) ?? null,
      selectFields: String(r.select_fields),
      obtainedAt: date(r.obtained_at),
      syncedAt: date(r.synced_at),
      generation: Number(r.generation),
    };
  }

  /** Begin a full round: its generation number (every round begun gets a new one). */
  async beginFullRound(tenantId: string, selectFields: string): Promise<number> {
    const rows = await this.db.query<{ rounds: number }>(
      `INSERT INTO directory_sync (tenant_id, select_fields, rounds) VALUES ($1, $2, 1)
       ON CONFLICT (tenant_id) DO UPDATE SET rounds = directory_sync.rounds + 1
       RETURNING rounds`,
      [tenantId.toLowerCase(), selectFields],
    );
    return Number(rows[0].rounds);
  }

  /**
   * Apply one page of changes. `replace`: each user's properties replace what is kept (a full
   * round sends every tracked property that is set); otherwise they are merged into it (a user
   * that changed may come with only what changed). Removals delete the row.
   */
  async apply(tenantId: string, generation: number, changes: DirectoryChange[], opts: { replace: boolean }): Promise<void> {
    const tenant = tenantId.toLowerCase();
    // Graph may send one user several times, even within a page: fold them in order, so one
    // statement never touches a row twice. A removal followed by properties starts the user afresh.
    const folded = new Map<string, { reset: boolean; props?: Record<string, unknown> }>();
    for (const c of changes) {
      const prev = folded.get(c.id);
      if (c.removed) folded.set(c.id, { reset: true });
      else folded.set(c.id, { reset: prev?.reset ?? false, props: prev?.props ? { ...prev.props, ...c.props } : { ...c.props } });
    }
    const resets = [...folded].filter(([, f]) => f.reset).map(([id]) => id);
    const upserts = [...folded].filter(([, f]) => f.props).map(([id, f]) => ({ ...f.props, id }));
    const onConflict = opts.replace ? 'EXCLUDED.data' : 'directory_users.data || EXCLUDED.data';
    await this.db.transaction(async (tx) => {
      if (resets.length) await tx.query('DELETE FROM directory_users WHERE tenant_id = $1 AND id = ANY($2::text[])', [tenant, resets]);
      if (upserts.length) {
        await tx.query(
          `INSERT INTO directory_users (tenant_id, id, generation, data)
           SELECT $1, u->>'id', $2, u FROM jsonb_array_elements($3::jsonb) AS u
           ON CONFLICT (tenant_id, id) DO UPDATE SET data = ${onConflict}, generation = EXCLUDED.generation`,
          [tenant, generation, JSON.stringify(upserts)],
        );
      }
    });
  }

  /** A full round is complete: drop the users it did not see and keep its deltaLink. */
  async finishFullRound(tenantId: string, generation: number, deltaLink: string, selectFields: string, obtainedAt: Date, now: Date): Promise<void> {
    const tenant = tenantId.toLowerCase();
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM directory_users WHERE tenant_id = $1 AND generation <> $2', [tenant, generation]);
      await tx.query(
        `UPDATE directory_sync SET delta_link = $2, select_fields = $3, obtained_at = $4, synced_at = $5, generation = $6 WHERE tenant_id = $1`,
        [tenant, deltaLink, selectFields, obtainedAt, now, generation],
      );
    });
  }

  /** An incremental round is complete: its deltaLink continues from here. */
  async advance(tenantId: string, deltaLink: string, obtainedAt: Date, now: Date): Promise<void> {
    await this.db.query('UPDATE directory_sync SET delta_link = $2, obtained_at = $3, synced_at = $4 WHERE tenant_id = $1', [
      tenantId.toLowerCase(),
      deltaLink,
      obtainedAt,
      now,
    ]);
  }

  /** Forget the snapshots of every tenant but these (the others are no longer served). */
  async forgetExcept(tenantIds: string[]): Promise<void> {
    const keep = tenantIds.map((t) => t.toLowerCase());
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM directory_users WHERE NOT (tenant_id = ANY($1::text[]))', [keep]);
      await tx.query('DELETE FROM directory_sync WHERE NOT (tenant_id = ANY($1::text[]))', [keep]);
    });
  }

  /** The snapshot's users matching `filter`, `pageSize` at a time in id order (keyset paging). */
  async *pages(tenantId: string, filter: SnapshotFilter = {}, pageSize = 999): AsyncGenerator<Record<string, unknown>[]> {
    const tenant = tenantId.toLowerCase();
    const where: string[] = ['tenant_id = $1', 'id > $2'];
    const params: unknown[] = [tenant, ''];
    if (filter.accountEnabled !== undefined) {
      params.push(filter.accountEnabled);
      where.push(`(data->'accountEnabled') = to_jsonb($${params.length}::boolean)`);
    }
    if (filter.userType !== undefined) {
      // Graph compares directory strings without regard to case.
      params.push(filter.userType.toLowerCase());
      where.push(`lower(data->>'userType') = $${params.length}`);
    }
    params.push(pageSize);
    const sql = `SELECT id, data FROM directory_users WHERE ${where.join(' AND ')} ORDER BY id LIMIT $${params.length}`;
    for (;;) {
      const rows = await this.db.query<{ id: string; data: Record<string, unknown> | string }>(sql, params);
      if (rows.length) yield rows.map((r) => (typeof r.data === 'string' ? (JSON.parse(r.data) as Record<string, unknown>) : r.data));
      if (rows.length < pageSize) return;
      params[1] = rows[rows.length - 1].id;
    }
  }

  async count(tenantId: string): Promise<number> {
    const rows = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM directory_users WHERE tenant_id = $1', [tenantId.toLowerCase()]);
    return Number(rows[0]?.n ?? 0);
  }
}
