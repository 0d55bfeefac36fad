/**
 * Card references. A button in a card carries only a random id; what the button means (which
 * fix, for whom, which list page) lives here, bound to the tenant it was shown in. So nothing a
 * client sends back in a card action is trusted beyond the id.
 */
import { randomFillSync } from 'node:crypto';
import type { Queryable } from './db';

/** What a new card reference means: the tenant it is shown in, for whom, which kind, its payload. */
export interface NewCardRef<T = unknown> {
  tenantId: string;
  userId?: string;
  kind: string;
  payload: T;
  ttlMs: number;
}

/**
 * A fresh unguessable reference id (128 random bits from the CSPRNG, base64url). The bits are
 * drawn 256 ids at a time, as Node's own randomUUID does, and every byte is used once: a
 * randomBytes call per id cost ~2% of a busy bot's CPU (a card mints a dozen).
 */
export function newCardRefId(): string {
  if (randomOffset + ID_BYTES > randomPool.length) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  const id = randomPool.toString('base64url', randomOffset, randomOffset + ID_BYTES);
  randomOffset += ID_BYTES;
  return id;
}

const ID_BYTES = 16;
const randomPool = Buffer.alloc(ID_BYTES * 256);
let randomOffset = randomPool.length;

/** One row of card_refs, as the INSERT reads it from JSON. */
interface CardRefRow {
  id: string;
  tenant_id: string;
  user_id: string | null;
  kind: string;
  payload: unknown;
  created_at: string;
  expires_at: string;
}

/** At most this many rows in one statement (a card has about a dozen; a statement then stays small). */
const MAX_ROWS_PER_INSERT = 500;

export class CardRefStore {
  /** Cards waiting for the next INSERT, and whether a writer is running. */
  private waiting: Array<{ rows: CardRefRow[]; resolve: () => void; reject: (err: unknown) => void }> = [];
  private writing = false;

  constructor(private readonly db: Queryable) {}

  /** One reference on its own (most answers mint a card's references together with `batch`). */
  async put<T>(ref: NewCardRef<T>, now: Date): Promise<string> {
    const refs = this.batch(now);
    const id = refs.add(ref);
    await refs.save();
    return id;
  }

  /**
   * Mint references now (ids right away, so a card can be built with them) and write them all
   * with `save()`, which must complete before the card is sent: a button whose reference was
   * never saved only ever answers "out of date".
   */
  batch(now: Date): CardRefBatch {
    return new CardRefBatch((refs) => this.write(toRows(refs, now)));
  }

  /**
   * Group commit. An INSERT costs about the same for one row as for dozens (the commit is the
   * cost: ~0.75 ms of CPU on PGlite), so the cards of every answer that is ready to be written by
   * the time the writer runs — the current turn of the event loop, and whatever arrives while an
   * INSERT is running — go out in one statement. Each caller resolves once the statement holding
   * its rows has committed. If a combined INSERT fails, each card is written again on its own, so
   * one card's bad row (say, text the database refuses) fails only that card's answer.
   */
  private write(rows: CardRefRow[]): Promise<void> {
    if (!rows.length) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ rows, resolve, reject });
      if (this.writing) return;
      this.writing = true;
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting.length) {
        const group = this.takeGroup();
        try {
          await this.insert(group.flatMap((g) => g.rows));
          for (const g of group) g.resolve();
        } catch (err) {
          if (group.length === 1) group[0].reject(err);
          else for (const g of group) await this.insert(g.rows).then(g.resolve, g.reject);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private takeGroup(): typeof this.waiting {
    let rows = 0;
    let n = 0;
    while (n < this.waiting.length && (n === 0 || rows + this.waiting[n].rows.length <= MAX_ROWS_PER_INSERT)) rows += this.waiting[n++].rows.length;
    return this.waiting.splice(0, n);
  }

  /** One statement whatever the number of rows, with a single jsonb parameter: the SQL text never changes. */
  private async insert(rows: CardRefRow[]): Promise<void> {
    await this.db.query(
      `INSERT INTO card_refs (id, tenant_id, user_id, kind, payload, created_at, expires_at)
       SELECT id, tenant_id, user_id, kind, payload, created_at, expires_at
       FROM jsonb_to_recordset($1::jsonb) AS r(id text, tenant_id text, user_id text, kind text, payload jsonb, created_at timestamptz, expires_at timestamptz)`,
      [JSON.stringify(rows)],
    );
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

/** Rows as the INSERT reads them: one creation time for the card, expiries by lifetime. */
function toRows(refs: Array<NewCardRef & { id: string }>, now: Date): CardRefRow[] {
  const createdAt = now.toISOString();
  const expiry = new Map<number, string>();
  const expiresAt = (ttlMs: number) => expiry.get(ttlMs) ?? expiry.set(ttlMs, new Date(now.getTime() + ttlMs).toISOString()).get(ttlMs)!;
  return refs.map((r) => ({
    id: r.id,
    tenant_id: r.tenantId,
    user_id: r.userId ?? null,
    kind: r.kind,
    payload: r.payload,
    created_at: createdAt,
    expires_at: expiresAt(r.ttlMs),
  }));
}

/** The references of one card, minted as it is built and written together (see CardRefStore.batch). */
export class CardRefBatch {
  private pending: Array<NewCardRef & { id: string }> = [];

  constructor(private readonly write: (rows: Array<NewCardRef & { id: string }>) => Promise<void>) {}

  /** A new reference's id; it is valid once `save()` has completed. */
  add<T>(ref: NewCardRef<T>): string {
    const id = newCardRefId();
    this.pending.push({ id, ...ref });
    return id;
  }

  get size(): number {
    return this.pending.length;
  }

  /** Write every reference added since the last save (one INSERT, shared with other cards ready then). */
  async save(): Promise<void> {
    const rows = this.pending;
    this.pending = [];
    await this.write(rows);
  }
}
