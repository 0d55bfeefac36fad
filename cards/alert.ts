/** The proactive alert: one digest card per scan with everything new, each with its fix, Acknowledge and Snooze. */
import template from './alert.json';
import { literal, render, type Card } from './render';

export interface AlertItemView {
  checkTitle: string;
  severity: string;
  subject: string;
  detail: string;
  why: string;
  fixRef: string;
  fixTitle: string;
  ackRef: string;
  snoozeRef: string;
  /** Replaces the buttons once acted on ("Acknowledged by Megan", "Snoozed until …"). */
  status: string;
}

export interface AlertCardView {
  tenantName: string;
  scannedAt: Date;
  items: AlertItemView[];
  /** Findings beyond what one card holds. */
  more: number;
  banner?: string;
}

const COLOR: Record<string, string> = { high: 'Attention', medium: 'Warning', low: 'Default', info: 'Default' };

export function alertCard(v: AlertCardView): Card {
  const n = v.items.length + v.more;
  return render(template, {
    heading: `${n} new security finding${n === 1 ? '' : 's'} at ${literal(v.tenantName)}`,
    subheading: `Found by the scheduled scan at ${v.scannedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC. Fixes go to your approvers first.`,
    banner: v.banner ?? '',
    items: v.items.map((i) => ({
      title: `${i.severity.toUpperCase()} · ${literal(i.checkTitle)}: ${literal(i.subject)}`,
      color: COLOR[i.severity] ?? 'Default',
      detail: literal(i.detail),
      why: literal(i.why),
      status: i.status,
      hasActions: Boolean(i.fixRef || i.ackRef || i.snoozeRef),
      fixRef: i.fixRef,
      fixTitle: i.fixTitle,
      ackRef: i.ackRef,
      snoozeRef: i.snoozeRef,
    })),
    more: v.more ? `…and ${v.more} more. Ask me "how are we doing?" for the full picture.` : '',
  });
}
