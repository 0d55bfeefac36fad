import template from './help.json';
import { render, type Card } from './render';

export interface HelpContent {
  intro?: string;
  questions: Array<{ say: string; does: string }>;
  approverCommands: Array<{ say: string; does: string }>;
  /** The fixes Vigil can make: title → the Graph permission each needs (and its risk, approvers). */
  fixes?: Array<{ say: string; does: string }>;
  fixesIntro?: string;
}

export function helpCard(content: HelpContent): Card {
  return render(template, {
    title: 'Vigil keeps watch over your Microsoft 365 security',
    intro: content.intro ?? '',
    questions: content.questions,
    approverCommands: content.approverCommands,
    fixes: content.fixes ?? [],
    fixesIntro: content.fixesIntro ?? '',
    footer: 'Every fix I offer goes to your security approvers first; nothing changes until one of them approves.',
  });
}
