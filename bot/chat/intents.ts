/**
 * From what a person typed to what they want. Plain patterns, tried in order: the phrases in
 * the issues are an interface, and variants people naturally type must land the same way.
 */
import { CHECKS } from '../checks';
import { WATCH_COMMANDS, type WatchCommand } from './watchCommands';

export type Intent =
  | { kind: 'check'; checkId: string }
  | { kind: 'set-channel'; purpose: 'approvals' | 'alerts' }
  | { kind: 'help' }
  | { kind: 'posture' }
  | { kind: 'recent-approvals' }
  | { kind: 'audit-log' }
  | { kind: 'audit-export' }
  | { kind: 'report'; tenant?: string }
  | { kind: 'export'; what: string }
  | { kind: 'doctor' }
  | { kind: 'watch'; command: WatchCommand }
  | { kind: 'unknown' };

/** "how are we doing?", "posture", "security overview", "how secure are we?": every check at once. */
const POSTURE =
  /^(?:so |ok |and |well )?how(?:'s| is| are)? (?:we|things|it|security|our (?:security|tenant|posture|microsoft 365|m365|office 365)|the (?:tenant|business|practice|company)) (?:doing|looking|going)\b|^(?:show (?:me )?)?(?:our |the )?(?:security )?(?:posture|overview|scorecard|dashboard|health ?check)(?: (?:summary|overview))?$|^(?:security )?summary$|\bhow secure (?:are we|is (?:our|the) \w+)\b|\boverall (?:security|posture)\b/;

/** Conversation commands; checks bring their own phrases (see bot/checks). */
const COMMANDS: Array<{ pattern: RegExp; intent: Intent }> = [
  { pattern: /\buse this channel for (?:approvals?|fixes)\b/, intent: { kind: 'set-channel', purpose: 'approvals' } },
  { pattern: /\buse this channel for alerts?\b/, intent: { kind: 'set-channel', purpose: 'alerts' } },
  { pattern: /^(?:help|\?|what can you do|commands|menu|hi|hello|hey|start)\b/, intent: { kind: 'help' } },
  { pattern: POSTURE, intent: { kind: 'posture' } },
  { pattern: /\b(?:export|download)\b.*\baudit (?:log|trail)\b|^(?:the )?audit (?:log|trail) (?:as )?(?:csv|export)$/, intent: { kind: 'audit-export' } },
  { pattern: /^(?:show (?:me )?)?(?:the )?(?:recent|last|latest) (?:approvals?|approval requests?|fix requests?|fixes)$|^approval (?:history|log)$/, intent: { kind: 'recent-approvals' } },
  { pattern: /^(?:show (?:me )?)?(?:the )?(?:vigil )?audit (?:log|trail)$/, intent: { kind: 'audit-log' } },
  { pattern: /^(?:run )?(?:the )?(?:vigil )?doctor$|^check (?:your|vigil's|the app's) permissions$|^(?:what )?permissions (?:are )?missing$/, intent: { kind: 'doctor' } },
];

/** "report", "security report", "send me the report for Contoso" (not "mfa report": that is a check). */
const REPORT =
  /^(?:please )?(?:(?:send|give|get|make|create|generate|produce|prepare|download|email) (?:me |us )?)?(?:(?:a|an|the|our|my) )?(?:(?:full|security|pdf|posture|tenant|board|boss|management|executive|monthly) )*report(?: (?:for|on|about|of) (.+?))?(?: (?:as )?(?:a )?pdf)?(?: please)?$/;
/** "export forwarding rules as CSV", "download admins without MFA to Excel", "csv of risky users". */
const EXPORT =
  /^(?:please )?(?:export|download|send me|give me|get me|get) (.+?) (?:as|to|in|into) (?:an? )?(?:csv|excel|spreadsheet)(?: file)?(?: please)?$|^(?:a )?csv (?:of|for) (.+)$/;

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
  for (const rule of WATCH_COMMANDS) if (rule.pattern.test(t)) return { kind: 'watch', command: rule.command };
  const report = REPORT.exec(t);
  if (report) return report[1] ? { kind: 'report', tenant: report[1] } : { kind: 'report' };
  const exported = EXPORT.exec(t);
  if (exported) return { kind: 'export', what: exported[1] ?? exported[2] };
  for (const check of CHECKS) if (check.questions.some((q) => q.test(t))) return { kind: 'check', checkId: check.id };
  return { kind: 'unknown' };
}

/** Intents about one tenant's data: in MSP mode, which tenant must be settled first. */
export function isTenantSpecific(intent: Intent): boolean {
  if (intent.kind === 'watch') return !['tenant-add', 'tenant-list', 'tenant-remove', 'attention'].includes(intent.command);
  return !['help', 'unknown'].includes(intent.kind);
}
