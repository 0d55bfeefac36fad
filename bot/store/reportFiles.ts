/**
 * Report files (PDF reports, CSV exports) kept in the database until their link or offer expires,
 * so that with several Vigil processes behind one bot registration any of them can serve a link
 * or a file consent that another made. Also the key that signs report links when
 * REPORT_LINK_SECRET is not set: made once, shared by every process on the database.
 */
import { randomBytes } from 'node:crypto';
import type { Queryable } from './db';

export interface ReportFile {
  id: string;
  tenantId: string;
  /** Who may fetch it through chat (the file consent flow); links are bearer links. */
  ownerId?: string;
  name: string;
  contentType: string;
  bytes: Buffer;
  createdAt: Date;
  expiresAt: Date;
}

interface Row {
  id: string;
  tenant_id: string;
  owner_id: string | null;
  name: string;
  content_type: string;
  bytes: Uint8Array;
  created_at: Date;
  expires_at: Date;
}

export class ReportFileStore {
  constructor(
    private readonly db: Queryable,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async put(file: Omit<ReportFile, 'id' | 'createdAt' | 'expiresAt'>, ttlMs: number): Promise<ReportFile> {
    const createdAt = this.now();
    const stored: ReportFile = { ...file, id: randomBytes(16).toString('base64url'), createdAt, expiresAt: new Date(createdAt.getTime() + ttlMs) };
    // Expired files go as new ones come: nothing else needs to sweep this table.
    await this.db.query('DELETE FROM report_files WHERE expires_at <= $1', [createdAt]);
    await this.db.query(
      'INSERT INTO report_files (id, tenant_id, owner_id, name, content_type, bytes, created_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)',
      [stored.id, stored.tenantId, stored.ownerId ?? null, stored.name, stored.contentType, stored.bytes, stored.createdAt, stored.expiresAt],
    );
    return stored;
  }

  /** The file, if it exists and has not expired. */
  async get(id: string): Promise<ReportFile | undefined> {
    if (!/^[A-Za-z0-9_-]{16,64}$/.test(id)) return undefined;
    const rows = await this.db.query<Row>('SELECT * FROM report_files WHERE id = $1 AND expires_at > $2', [id, this.now()]);
    const r = rows[0];
    if (!r) return undefined;
    return {
      id: r.id,
      tenantId: r.tenant_id,
      ownerId: r.owner_id ?? undefined,
      name: r.name,
      contentType: r.content_type,
      bytes: Buffer.from(r.bytes),
      createdAt: new Date(r.created_at),
      expiresAt: new Date(r.expires_at),
    };
  }

  async delete(id: string): Promise<void> {
    await this.db.query('DELETE FROM report_files WHERE id = $1', [id]);
  }

  /** A random key by this name, made by whichever process asks first and the same for all after. */
  async sharedKey(name: string): Promise<string> {
    await this.db.query('INSERT INTO app_keys (name, key, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [
      name,
      randomBytes(32).toString('base64url'),
      this.now(),
    ]);
    const rows = await this.db.query<{ key: string }>('SELECT key FROM app_keys WHERE name = $1', [name]);
    return rows[0].key;
  }
}
