import template from './auditLog.json';
import { render, type Card } from './render';

export interface AuditLogRowView {
  /** What happened, already escaped for display. */
  what: string;
  when: string;
  outcome: string;
  tone: 'default' | 'good' | 'warning' | 'attention';
}

export interface AuditLogView {
  title: string;
  subtitle: string;
  rows: AuditLogRowView[];
  /** Download link of the CSV export; empty = no button. */
  exportUrl: string;
}

const COLOR = { default: 'Default', good: 'Good', warning: 'Warning', attention: 'Attention' } as const;

/** "Show recent approvals" and "audit log": the last entries, newest first, and the CSV download. */
export function auditLogCard(v: AuditLogView): Card {
  return render(template, {
    title: v.title,
    subtitle: v.subtitle,
    empty: 'Nothing yet.',
    rows: v.rows.map((r) => ({ what: r.what, when: r.when, outcome: r.outcome, color: COLOR[r.tone] })),
    exportUrl: v.exportUrl,
    footer: v.exportUrl ? 'The download opens in your browser; the link expires after a while, ask again for a fresh one.' : '',
  });
}
