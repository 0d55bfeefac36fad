/**
 * The report desk: what the chat asks for ("report", "export forwarding rules as CSV") made into
 * files, kept on the shelf, and handed out either to one person (the chat's file offer) or by a
 * signed link that expires. No Teams here: the Teams room decides how a file reaches people.
 */
import { CHECKS } from '../checks';
import type { CheckRunner } from '../checks/runner';
import type { Check } from '../checks/types';
import type { GraphApi } from '../graph/api';
import { readTenantInfo, runAudit } from './audit';
import { findingsCsv } from './csv';
import { LinkSigner, FileShelf, type Shelf, type StoredFile } from './links';
import { renderPdf, reportFileName } from './pdf';
import type { Audit, TenantInfo } from './types';

export type Delivery = 'offer' | 'link';

export interface ReportDeskOptions {
  runner: CheckRunner;
  graphFor(tenantId: string): GraphApi;
  signer: LinkSigner;
  shelf: Shelf;
  /** Public base URL of Vigil for links (asked when a link is made: the port is known only once listening). */
  baseUrl: () => string;
  registry?: () => Check[];
  now?: () => Date;
  /** How long a file offered in chat can still be accepted (default 60 minutes). */
  offerMinutes?: number;
}

export type ServeResult =
  | { status: 200; file: StoredFile }
  | { status: 401 | 403 | 404 | 410; error: string };

export interface MadeFile {
  audit: Audit;
  file: StoredFile;
  /** PDF only. */
  pages?: number;
}

export class ReportDesk {
  private readonly now: () => Date;

  constructor(private readonly opts: ReportDeskOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  get linkMinutes(): number {
    return this.opts.signer.ttlMinutes;
  }

  tenantInfo(tenantId: string): Promise<TenantInfo> {
    return readTenantInfo(this.opts.graphFor(tenantId), tenantId);
  }

  async audit(tenantId: string, checkIds?: string[]): Promise<Audit> {
    const tenant = await this.tenantInfo(tenantId);
    return runAudit(this.opts.runner, tenant, { checkIds, registry: this.opts.registry?.() ?? CHECKS, now: this.now() });
  }

  /** The PDF report of every check, put on the shelf for one person (offer) or for a link. */
  async pdfReport(tenantId: string, delivery: Delivery, ownerId?: string): Promise<MadeFile> {
    const audit = await this.audit(tenantId);
    const pdf = await renderPdf(audit);
    const file = await this.shelve({ tenantId, ownerId, name: pdf.fileName, contentType: 'application/pdf', bytes: pdf.bytes }, delivery);
    return { audit, file, pages: pdf.pages };
  }

  /** One check's findings as CSV (with a byte-order mark, for Excel). */
  async csvExport(tenantId: string, checkId: string, delivery: Delivery, ownerId?: string): Promise<MadeFile> {
    const audit = await this.audit(tenantId, [checkId]);
    const csv = findingsCsv(audit.checks, { bom: true });
    const name = reportFileName(audit, 'csv', checkId.replace(/[^a-z0-9]+/gi, '-'));
    const file = await this.shelve({ tenantId, ownerId, name, contentType: 'text/csv; charset=utf-8', bytes: Buffer.from(csv, 'utf8') }, delivery);
    return { audit, file };
  }

  /** A signed link to a shelved file, valid for REPORT_LINK_MINUTES. */
  link(file: StoredFile): { url: string; expiresAt: Date } {
    const { token, expiresAt } = this.opts.signer.sign(file.id);
    return { url: `${this.opts.baseUrl().replace(/\/+$/, '')}/reports/${encodeURIComponent(file.id)}?token=${encodeURIComponent(token)}`, expiresAt };
  }

  /** Put any file behind a signed link (the audit trail's CSV export uses this too). */
  async publish(file: Omit<StoredFile, 'id' | 'createdAt' | 'expiresAt'>): Promise<{ url: string; expiresAt: Date }> {
    return this.link(await this.shelve(file, 'link'));
  }

  /** GET /reports/{id}?token=…: the token is checked before the shelf is even looked at. */
  async serve(id: string, token: string | undefined): Promise<ServeResult> {
    const check = this.opts.signer.verify(id, token);
    if (check === 'missing') return { status: 401, error: 'This link needs its token.' };
    if (check === 'invalid') return { status: 403, error: 'This link is not valid.' };
    if (check === 'expired') return { status: 410, error: 'This link has expired. Ask Vigil for a new report.' };
    const file = await this.opts.shelf.get(id);
    return file ? { status: 200, file } : { status: 404, error: 'This report is no longer available. Ask Vigil for a new one.' };
  }

  /** A file offered in chat, only to the person (and tenant) it was made for. */
  async offered(id: unknown, tenantId: string, userId: string): Promise<StoredFile | undefined> {
    if (typeof id !== 'string') return undefined;
    const file = await this.opts.shelf.get(id);
    if (!file || file.tenantId.toLowerCase() !== tenantId.toLowerCase() || !file.ownerId || file.ownerId !== userId) return undefined;
    return file;
  }

  withdraw(id: string): Promise<void> {
    return this.opts.shelf.delete(id);
  }

  private shelve(file: Omit<StoredFile, 'id' | 'createdAt' | 'expiresAt'>, delivery: Delivery): Promise<StoredFile> {
    const minutes = delivery === 'link' ? this.opts.signer.ttlMinutes : (this.opts.offerMinutes ?? 60);
    return this.opts.shelf.put(file, minutes * 60_000);
  }
}

export { LinkSigner, FileShelf };
