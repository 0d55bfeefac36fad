import template from './message.json';
import { render, type Card } from './render';

export type MessageTone = 'default' | 'good' | 'warning' | 'attention';

const COLORS: Record<MessageTone, string> = { default: 'Default', good: 'Good', warning: 'Warning', attention: 'Attention' };

/** A short card: a title, a sentence, optional facts. Text is inserted as given (callers escape people-supplied parts). */
export function messageCard(title: string, text = '', tone: MessageTone = 'default', facts: Array<{ title: string; value: string }> = []): Card {
  return render(template, { title, text, color: COLORS[tone], facts });
}
