/**
 * Reports in the conversation: "report" (optionally "report for Contoso") and "export <check> as
 * CSV". The files come from the report desk; how they reach people depends on where they asked:
 * in a personal chat the file is offered for the person's OneDrive (the Teams room turns `file`
 * into a file consent card), in a channel or group chat the card carries a signed link that expires.
 */
import { literal, messageCard, type Card } from '../../cards';
import { CHECKS } from '../checks';
import type { Check } from '../checks/types';
import { RATING_LABEL, countRatings, secureScoreOf } from '../report/rating';
import type { ReportDesk } from '../report/desk';
import type { StoredFile } from '../report/links';
import { tenantMatches } from '../report/audit';
import type { TenantInfo } from '../report/types';
import type { ChatContext, ChatReply } from './messenger';
import { normalise } from './intents';

/** Which tenant a "report for <name>" means, or why not. */
export type TenantChoice = { tenantId: string } | { refusal: string };

export interface ReportChatDeps {
  desk: ReportDesk;
  registry?: () => Check[];
  /**
   * Resolve a tenant named in chat for this person. Default: only the tenant the message came
   * from, recognised by its name, a verified domain or its id (MSP mode can plug its directory in).
   */
  resolveTenant?: (ctx: ChatContext, name: string) => Promise<TenantChoice>;
}

export class ReportChat {
  constructor(private readonly deps: ReportChatDeps) {}

  async report(ctx: ChatContext, tenantName?: string): Promise<ChatReply> {
    const choice = tenantName ? await (this.deps.resolveTenant ?? ((c, n) => this.ownTenantOnly(c, n)))(ctx, tenantName) : { tenantId: ctx.tenantId };
    if ('refusal' in choice) return { card: messageCard('I cannot make that report', choice.refusal, 'warning') };
    const delivery = ctx.conversation.kind === 'personal' ? 'offer' : 'link';
    let made;
    try {
      made = await this.deps.desk.pdfReport(choice.tenantId, delivery, ctx.user.id);
    } catch (err) {
      return { card: messageCard('I could not make the report', `Microsoft Graph could not be reached (${literal((err as Error).message).slice(0, 200)}). Try again in a few minutes.`, 'attention') };
    }
    const { audit, file } = made;
    const n = countRatings(audit.checks);
    const score = secureScoreOf(audit.checks);
    const facts = [
      { title: 'Grade', value: `${audit.grade.letter ?? '–'}: ${audit.grade.summary}` },
      ...(['red', 'amber', 'green', 'info', 'unknown'] as const).filter((r) => n[r]).map((r) => ({ title: RATING_LABEL[r], value: String(n[r]) })),
      { title: 'Secure Score', value: score ? `${score.current}${score.max ? ` of ${score.max}` : ''}` : 'unavailable' },
    ];
    const title = `Security report for ${literal(audit.tenant.name)}`;
    if (delivery === 'offer') {
      return {
        card: messageCard(title, `The ${made.pages === 1 ? 'one-page' : `${made.pages}-page`} PDF is ready: accept it below to save it to your OneDrive. The offer lasts an hour.`, 'default', facts),
        file: { ref: file.id, name: file.name, sizeInBytes: file.bytes.length, description: `Vigil security report for ${audit.tenant.name}` },
      };
    }
    return { card: this.withLink(messageCard(title, this.linkText('PDF report'), 'default', facts), 'Open the PDF report', file) };
  }

  async exportCsv(ctx: ChatContext, what: string): Promise<ChatReply> {
    const check = matchCheck(what, this.registry());
    if (!check) {
      const list = this.registry()
        .map((c) => `“export ${c.title.toLowerCase()} as CSV”`)
        .slice(0, 13)
        .join(', ');
      return { card: messageCard('Which findings?', `I do not know a check called “${literal(what.slice(0, 100))}”. Try one of: ${list}.`, 'warning') };
    }
    const delivery = ctx.conversation.kind === 'personal' ? 'offer' : 'link';
    let made;
    try {
      made = await this.deps.desk.csvExport(ctx.tenantId, check.id, delivery, ctx.user.id);
    } catch (err) {
      return { card: messageCard('I could not make the export', `Microsoft Graph could not be reached (${literal((err as Error).message).slice(0, 200)}).`, 'attention') };
    }
    const { audit, file } = made;
    const findings = audit.checks[0]?.result.findings.length ?? 0;
    const title = `${literal(check.title)}: ${findings} finding${findings === 1 ? '' : 's'} as CSV`;
    if (delivery === 'offer') {
      return {
        card: messageCard(title, 'Accept the file below to save it to your OneDrive; it opens in Excel. The offer lasts an hour.'),
        file: { ref: file.id, name: file.name, sizeInBytes: file.bytes.length, description: `${check.title}: findings for ${audit.tenant.name}` },
      };
    }
    return { card: this.withLink(messageCard(title, this.linkText('CSV file')), 'Download the CSV', file) };
  }

  /** The file behind an accepted offer, only for the person and tenant it was made for. */
  offeredFile(ctx: ChatContext, ref: unknown): Promise<StoredFile | undefined> {
    return this.deps.desk.offered(ref, ctx.tenantId, ctx.user.id);
  }

  /** The person declined: forget the file. */
  async decline(ctx: ChatContext, ref: unknown): Promise<void> {
    const file = await this.offeredFile(ctx, ref);
    if (file) await this.deps.desk.withdraw(file.id);
  }

  private registry(): Check[] {
    return this.deps.registry?.() ?? CHECKS;
  }

  private linkText(what: string): string {
    const minutes = this.deps.desk.linkMinutes;
    return `The link to the ${what} works for ${minutes} minute${minutes === 1 ? '' : 's'}, for anyone who has it. After that, ask me again for a fresh one.`;
  }

  private withLink(card: Card, title: string, file: StoredFile): Card {
    const { url } = this.deps.desk.link(file);
    return { ...card, actions: [{ type: 'Action.OpenUrl', title, url }] };
  }

  private async ownTenantOnly(ctx: ChatContext, name: string): Promise<TenantChoice> {
    let info: TenantInfo;
    try {
      info = await this.deps.desk.tenantInfo(ctx.tenantId);
    } catch {
      return { refusal: 'I could not reach Microsoft Graph to check the tenant name. Try again in a few minutes.' };
    }
    if (tenantMatches(info, name)) return { tenantId: ctx.tenantId };
    return { refusal: `From here I can only report on ${literal(info.name)}. Say just “report” for that.` };
  }
}

/** Which check "export <what> as CSV" means: its id, its title, or one of its chat questions. */
export function matchCheck(what: string, registry: Check[] = CHECKS): Check | undefined {
  const w = normalise(what)
    .replace(/^(?:the|all|our|my)\s+/, '')
    .replace(/\s+(?:findings?|results?|list)$/, '')
    .trim();
  if (!w) return undefined;
  const title = (c: Check) => normalise(c.title);
  return (
    registry.find((c) => c.id === w || c.id === w.replace(/\s+/g, '.')) ??
    registry.find((c) => title(c) === w) ??
    registry.find((c) => title(c).includes(w) || w.includes(title(c))) ??
    registry.find((c) => c.questions.some((q) => q.test(w)))
  );
}
