/**
 * From what a person typed to what they want. Plain patterns, tried in order: the phrases in
 * the issues are an interface, and variants people naturally type must land the same way.
 */
import { CHECKS } from '../checks';

export type Intent =
  | { kind: 'check'; checkId: string }
  | { kind: 'set-channel'; purpose: 'approvals' | 'alerts' }
  | { kind: 'help' }
  | { kind: 'unknown' };

/** Conversation commands; checks bring their own phrases (see bot/checks). */
const COMMANDS: Array<{ pattern: RegExp; intent: Intent }> = [
  { pattern: /\buse this channel for (?:approvals?|fixes)\b/, intent: { kind: 'set-channel', purpose: 'approvals' } },
  { pattern: /\buse this channel for alerts?\b/, intent: { kind: 'set-channel', purpose: 'alerts' } },
  { pattern: /^(?:help|\?|what can you do|commands|menu|hi|hello|hey|start)\b/, intent: { kind: 'help' } },
];

/** Strip the bot @mention, markup and punctuation noise; lower-case. */
export function normalise(text: string): string {
  return text
    .replace(/<at>[^<]*<\/at>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/[\u2018\u2019]/g, "'")
    .toLowerCase()
    .replace(/[!?.,;:]+(\s|$)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

export function parseIntent(text: string): Intent {
  const t = normalise(text ?? '');
  if (!t) return { kind: 'help' };
  for (const rule of COMMANDS) if (rule.pattern.test(t)) return rule.intent;
  for (const check of CHECKS) if (check.questions.some((q) => q.test(t))) return { kind: 'check', checkId: check.id };
  return { kind: 'unknown' };
}
