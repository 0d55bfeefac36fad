/** Cards listing tenants: the registry, the "which tenants need attention?" ranking, and "which tenant?" choices. */
import template from './tenants.json';
import { literal, render, type Card } from './render';

export interface TenantRowView {
  name: string;
  detail: string;
  tone?: 'good' | 'warning' | 'attention' | 'default';
  /** Card-ref id of a button on the row (e.g. "Ask about this tenant"); empty for none. */
  pickRef?: string;
  pickTitle?: string;
}

const COLOR = { good: 'Good', warning: 'Warning', attention: 'Attention', default: 'Default' } as const;

export function tenantsCard(title: string, intro: string, rows: TenantRowView[]): Card {
  return render(template, {
    title,
    intro,
    rows: rows.map((r) => ({
      name: literal(r.name),
      detail: r.detail,
      color: COLOR[r.tone ?? 'default'],
      pickRef: r.pickRef ?? '',
      pickTitle: r.pickTitle ?? '',
    })),
  });
}
