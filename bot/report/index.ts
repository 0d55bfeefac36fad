/**
 * Reports: the audit engine over the check registry, and what it is turned into (PDF, CSV,
 * terminal table, the versioned JSON contract), plus signed expiring links. Knows nothing of Teams.
 */
export { readTenantInfo, runAudit, selectChecks, tenantMatches, UnknownCheckError, type AuditOptions } from './audit';
export { AUDIT_REPORT_SCHEMA, SCHEMA_VERSION, toAuditReport, type AuditReportV1 } from './contract';
export { csvCell, findingsCsv, type CsvOptions } from './csv';
export { ReportDesk, type Delivery, type MadeFile, type ReportDeskOptions, type ServeResult } from './desk';
export { FileShelf, LinkSigner, type LinkCheck, type Shelf, type StoredFile } from './links';
export { renderPdf, reportFileName, type PdfOptions, type RenderedPdf } from './pdf';
export { RATING_LABEL, byRating, countRatings, gapsOf, gradeOf, rate, secureScoreFromData, secureScoreOf, topFindings } from './rating';
export { auditTable, type TableOptions } from './table';
export type * from './types';
