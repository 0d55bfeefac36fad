/**
 * From what a person typed to what they want. Plain patterns, tried in order: the phrases in
 * the issues are an interface, and variants people naturally type must land the same way.
 */
export type Intent =
  | { kind: 'check'; checkId: string }
  | { kind: 'set-channel'; purpose: 'approvals' | 'alerts' }
  | { kind: 'help' }
  | { kind: 'unknown' };

const MFA = String.raw`(?:mfa|multi[\s-]?factor(?:\s+auth(?:entication)?)?|2fa|two[\s-]?factor|two[\s-]?step)`;

const RULES: Array<{ pattern: RegExp; intent: Intent }> = [
  { pattern: /\buse this channel for (?:approvals?|fixes)\b/, intent: { kind: 'set-channel', purpose: 'approvals' } },
  { pattern: /\buse this channel for alerts?\b/, intent: { kind: 'set-channel', purpose: 'alerts' } },
  { pattern: /^(?:help|\?|what can you do|commands|menu|hi|hello|hey|start)\b/, intent: { kind: 'help' } },
  {
    // who lacks MFA / which users don't have MFA / users without multi-factor / missing MFA
    pattern: new RegExp(
      String.raw`\b(?:lacks?|lacking|without|missing|no|(?:do|does|did)\s*n[o']?t\s+(?:have|use)|not\s+(?:have|using|registered|enrolled|set\s*up))\b.*\b${MFA}\b`,
    ),
    intent: { kind: 'check', checkId: 'mfa.registration' },
  },
  {
    // mfa status / mfa report / mfa registration / mfa gaps / check mfa
    pattern: new RegExp(String.raw`(?:\b${MFA}\b.*\b(?:status|report|registration|registered|gaps?|coverage|audit|list)\b|^(?:check|show|audit)\s+${MFA}\b|^${MFA}\??$)`),
    intent: { kind: 'check', checkId: 'mfa.registration' },
  },
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
  for (const rule of RULES) if (rule.pattern.test(t)) return rule.intent;
  return { kind: 'unknown' };
}
