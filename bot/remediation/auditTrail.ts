/**
 * The audit trail for people: a CSV export of every row of a tenant (oldest first), made into a
 * download link. Teams opens an Action.OpenUrl link in the browser, which saves the file; the
 * link is the report desk's signed, expiring link (see bot/report/links.ts), so it works for
 * whoever holds it until it expires, and for nobody after.
 */
import { csvCell } from '../report/csv';
import type { AuditLog, AuditRow } from '../store';

export const CSV_COLUMNS = ['id', 'at', 'tenant_id', 'request_id', 'actor_id', 'actor_name', 'event', 'action', 'detail'] as const;
/** The export's upper bound (a small tenant writes a few rows a day). */
const MAX_ROWS = 100_000;

/** One CSV (RFC 4180, CRLF; UTF-8 with a byte-order mark so spreadsheets read names right; formulas neutralised). */
export function auditCsv(rows: AuditRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) {
    const { action, ...rest } = (r.detail ?? {}) as Record<string, unknown>;
    const cells = [r.id, r.at.toISOString(), r.tenantId, r.requestId ?? '', r.actorId ?? '', r.actorName ?? '', r.event, typeof action === 'string' ? action : '', JSON.stringify(rest)];
    lines.push(cells.map((v) => csvCell(String(v))).join(','));
  }
  return `\ufeff${lines.join('\r\n')}\r\n`;
}

export interface DownloadableFile {
  tenantId: string;
  ownerId?: string;
  name: string;
  contentType: string;
  bytes: Buffer;
}

export interface ShelvedFile extends DownloadableFile {
  id: string;
  createdAt: Date;
  expiresAt: Date;
}

/**
 * Where files for people go (the report desk's shelf): offered in personal chat to their owner
 * (Teams' file consent card saves it to their OneDrive), or behind a signed link that expires.
 */
export interface FilePublisher {
  shelve(file: DownloadableFile, delivery: 'offer' | 'link'): Promise<ShelvedFile>;
  link(file: ShelvedFile): { url: string; expiresAt: Date };
}

export class AuditExports {
  constructor(
    private readonly audit: AuditLog,
    private readonly publisher: FilePublisher,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The whole trail of a tenant as it is now, as a file for one person. */
  async file(tenantId: string, userId: string, delivery: 'offer' | 'link'): Promise<ShelvedFile> {
    const rows = (await this.audit.recent(tenantId, MAX_ROWS)).reverse();
    return this.publisher.shelve(
      {
        tenantId,
        ownerId: userId,
        name: `vigil-audit-trail-${this.now().toISOString().slice(0, 10)}.csv`,
        contentType: 'text/csv; charset=utf-8',
        bytes: Buffer.from(auditCsv(rows), 'utf8'),
      },
      delivery,
    );
  }

  /** The trail behind a fresh signed link. */
  async link(tenantId: string, userId: string): Promise<{ url: string; expiresAt: Date }> {
    return this.publisher.link(await this.file(tenantId, userId, 'link'));
  }
}
