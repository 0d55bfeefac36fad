/**
 * The Teams activity handler: turns activities into ChatContext + text / card actions for the
 * Assistant, and its answers into Teams replies. Tenant and channel checks run before any
 * handler; who the user is comes from the activity (aadObjectId), never from card data.
 */
import {
  ActivityTypes,
  CardFactory,
  MessageFactory,
  TeamsActivityHandler,
  TeamsInfo,
  TurnContext,
  type AdaptiveCardInvokeResponse,
  type AdaptiveCardInvokeValue,
  type ConversationReference,
  type FileConsentCardResponse,
} from 'botbuilder';
import type { Logger } from 'pino';
import type { Card } from '../../cards';
import type { Assistant } from '../chat/assistant';
import type { ActionReply, ChatContext } from '../chat/messenger';
import type { ConversationPointer } from '../store';
import { fileConsentAttachment, fileInfoAttachment, uploadToSession } from './files';
import { boundActivityText, CHAT_RATE_LIMIT, type ChatRateLimit } from './inbound';

export interface HandlerOptions {
  assistant: Assistant;
  /** Teams tenants served: a fixed list (ALLOWED_TENANT_IDS) or a predicate (the tenants Vigil serves). */
  allowedTenantIds: string[] | ((tenantId: string) => boolean);
  log: Logger;
  /** Files offered in personal chat (reports, CSV exports): looked up by the consent card's reference. */
  files?: {
    offeredFile(ctx: ChatContext, ref: unknown): Promise<{ name: string; bytes: Buffer } | undefined>;
    decline(ctx: ChatContext, ref: unknown): Promise<void>;
  };
}

const CARD = 'application/vnd.microsoft.card.adaptive';
const MESSAGE = 'application/vnd.microsoft.activity.message';
/** The invokes Vigil serves; any other is a client error (botbuilder would answer 501). */
const INVOKES = new Set(['adaptiveCard/action', 'fileConsent/invoke']);

export class VigilActivityHandler extends TeamsActivityHandler {
  private readonly isAllowed: (tenantId: string) => boolean;

  constructor(private readonly opts: HandlerOptions) {
    super();
    const list = opts.allowedTenantIds;
    if (typeof list === 'function') this.isAllowed = list;
    else {
      const allowed = new Set(list.map((t) => t.toLowerCase()));
      this.isAllowed = (t) => allowed.has(t.toLowerCase());
    }
    this.onMessage(async (context, next) => {
      await this.handleMessage(context);
      await next();
    });
  }

  /** Gate every activity: only Teams, only allowed tenants. Others get nothing. */
  override async run(context: TurnContext): Promise<void> {
    const a = context.activity;
    const tenantId = tenantOf(context);
    if (a.channelId !== 'msteams' || !tenantId || !this.isAllowed(tenantId)) {
      this.opts.log.warn({ channelId: a.channelId, tenantId, type: a.type }, 'activity refused: channel or tenant not allowed');
      if (a.type === ActivityTypes.Invoke) await context.sendActivity({ type: 'invokeResponse', value: { status: 403 } });
      return;
    }
    boundActivityText(a);
    if (a.type === ActivityTypes.Invoke && (!INVOKES.has(a.name ?? '') || !invokeValueUsable(a.name!, a.value))) {
      // Another invoke, or card data botbuilder would trip over (it reads value.action.type unchecked): a client error.
      this.opts.log.info({ name: String(a.name ?? '').slice(0, 80) }, 'invoke not served');
      await context.sendActivity({ type: 'invokeResponse', value: { status: 400 } });
      return;
    }
    // Chat commands: a fair share per person and per tenant; past it, one polite answer and no work.
    if (a.type === ActivityTypes.Message) {
      const limit = context.turnState.get(CHAT_RATE_LIMIT) as ChatRateLimit | undefined;
      const decision = limit?.(tenantId, a.from?.aadObjectId || a.from?.id || 'unknown');
      if (decision && !decision.ok) {
        this.opts.log.warn({ tenantId, scope: decision.scope, retryAfterSeconds: decision.retryAfterSeconds }, 'chat command refused: rate limit');
        if (decision.notify) {
          await context.sendActivity(
            decision.scope === 'user'
              ? `You're asking faster than I can usefully answer. Please wait ${seconds(decision.retryAfterSeconds)} and ask again.`
              : `Lots of people in your organisation are asking me things right now. Please wait ${seconds(decision.retryAfterSeconds)} and ask again.`,
          );
        }
        return;
      }
    }
    await super.run(context);
  }

  private async handleMessage(context: TurnContext): Promise<void> {
    const ctx = chatContext(context);
    const value = context.activity.value as Record<string, unknown> | undefined;
    // Action.Submit fallback (clients without Universal Actions): the card data comes as `value`.
    if (value && typeof value === 'object' && !context.activity.text) {
      const { verb, data } = verbAndData(value);
      const reply = await this.opts.assistant.onAction(ctx, verb, data);
      await context.sendActivity('card' in reply ? MessageFactory.attachment(CardFactory.adaptiveCard(reply.card)) : reply.message);
      return;
    }
    const text = withoutBotMention(context.activity);
    const reply = await this.opts.assistant.onMessage(ctx, text);
    await context.sendActivity(MessageFactory.attachment(CardFactory.adaptiveCard(reply.card)));
    // Files go to a person's OneDrive through the file consent card: personal chat only.
    if (reply.file && ctx.conversation.kind === 'personal') await context.sendActivity({ attachments: [fileConsentAttachment(reply.file)] });
  }

  /** The person allowed the file: upload it to the OneDrive session Teams gave, then show it in chat. */
  protected override async handleTeamsFileConsentAccept(context: TurnContext, response: FileConsentCardResponse): Promise<void> {
    const ctx = chatContext(context);
    const file = await this.opts.files?.offeredFile(ctx, (response.context as { ref?: unknown } | undefined)?.ref);
    if (!file) {
      await context.sendActivity('That file is no longer available. Ask me again for a fresh one.');
      return;
    }
    try {
      await uploadToSession(response.uploadInfo?.uploadUrl ?? '', file.bytes);
    } catch (err) {
      this.opts.log.warn({ err: { message: (err as Error).message } }, 'file upload to OneDrive failed');
      await context.sendActivity(`I could not save ${file.name} to your OneDrive. Ask me again in a moment.`);
      return;
    }
    await context.sendActivity({ attachments: [fileInfoAttachment({ ...response.uploadInfo, name: response.uploadInfo?.name ?? file.name })] });
  }

  protected override async handleTeamsFileConsentDecline(context: TurnContext, response: FileConsentCardResponse): Promise<void> {
    await this.opts.files?.decline(chatContext(context), (response.context as { ref?: unknown } | undefined)?.ref);
    await context.sendActivity('OK, I did not save the file. Ask me again whenever you want it.');
  }

  protected override async onAdaptiveCardInvoke(context: TurnContext, invokeValue: AdaptiveCardInvokeValue): Promise<AdaptiveCardInvokeResponse> {
    const verb = String(invokeValue?.action?.verb ?? '');
    const data = (invokeValue?.action?.data ?? {}) as Record<string, unknown>;
    // trigger 'automatic': Teams refreshing a card for a viewer. Answered read-only (never a message edit).
    // (botbuilder's invokeValue leaves `trigger` out: read it from the activity.)
    const automatic = (context.activity.value as { trigger?: string } | undefined)?.trigger === 'automatic';
    const reply = await this.opts.assistant.onAction(chatContext(context), verb, data, { automatic });
    return toInvokeResponse(reply);
  }
}

/**
 * The message text without the @mention of the bot, as TurnContext.removeRecipientMention does it
 * (first occurrence, trimmed) — but without trusting the entities' shape, which botbuilder reads
 * unchecked (an entity with no type, or a mention with no `mentioned`, would throw).
 */
function withoutBotMention(a: TurnContext['activity']): string {
  const text = typeof a.text === 'string' ? a.text : '';
  const botId = a.recipient?.id;
  if (!botId || !Array.isArray(a.entities)) return text;
  for (const e of a.entities as Array<{ type?: unknown; text?: unknown; mentioned?: { id?: unknown } | null }>) {
    if (typeof e?.type === 'string' && e.type.toLowerCase() === 'mention' && e.mentioned?.id === botId && typeof e.text === 'string') {
      return text.replace(e.text, '').trim();
    }
  }
  return text;
}

/** The shape botbuilder's invoke dispatch reads without checking: an Action.Execute with an object action, a file consent with an action. */
function invokeValueUsable(name: string, value: unknown): boolean {
  if (!isRecord(value)) return false;
  if (name === 'adaptiveCard/action') {
    const action = value.action;
    return isRecord(action) && action.type === 'Action.Execute' && (action.verb === undefined || typeof action.verb === 'string') && (action.data === undefined || action.data === null || isRecord(action.data));
  }
  if (name === 'fileConsent/invoke') return typeof value.action === 'string' && (value.context === undefined || value.context === null || isRecord(value.context)) && (value.uploadInfo === undefined || value.uploadInfo === null || isRecord(value.uploadInfo));
  return true;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function seconds(n: number): string {
  return n === 1 ? 'a second' : `${n} seconds`;
}

function toInvokeResponse(reply: ActionReply): AdaptiveCardInvokeResponse {
  return 'card' in reply
    ? { statusCode: 200, type: CARD, value: reply.card as unknown as AdaptiveCardInvokeResponse['value'] }
    : { statusCode: 200, type: MESSAGE, value: reply.message as unknown as AdaptiveCardInvokeResponse['value'] };
}

function verbAndData(value: Record<string, unknown>): { verb: string; data: Record<string, unknown> } {
  const action = value.action as { verb?: unknown; data?: unknown } | undefined;
  if (action && typeof action === 'object') return { verb: String(action.verb ?? ''), data: (action.data ?? {}) as Record<string, unknown> };
  return { verb: String(value.verb ?? ''), data: value };
}

export function tenantOf(context: TurnContext): string | undefined {
  const a = context.activity;
  return a.conversation?.tenantId ?? (a.channelData as { tenant?: { id?: string } } | undefined)?.tenant?.id;
}

function chatContext(context: TurnContext): ChatContext {
  const a = context.activity;
  const kind = a.conversation?.conversationType === 'channel' ? 'channel' : a.conversation?.conversationType === 'groupChat' ? 'groupChat' : 'personal';
  const reference = TurnContext.getConversationReference(a) as Partial<ConversationReference>;
  if (kind === 'channel' && reference.conversation) {
    // Post to the channel itself (a new post), not as a reply in the thread the command came from.
    reference.conversation = { ...reference.conversation, id: reference.conversation.id.split(';messageid=')[0] };
  }
  delete (reference as { activityId?: string }).activityId;
  return {
    tenantId: tenantOf(context)!,
    user: { id: a.from?.aadObjectId ?? '', name: a.from?.name ?? 'Someone', teamsId: a.from?.id },
    conversation: { kind, ref: reference as unknown as ConversationPointer, name: channelName(context), resolveName: () => lookUpChannelName(context) },
  };
}

/**
 * Channel messages carry only ids; the names come from the team's channel list and details.
 * General has no name of its own in that list. Failure (no permission, a client that does not
 * serve these calls) just means no name.
 */
async function lookUpChannelName(context: TurnContext): Promise<string | undefined> {
  const cd = context.activity.channelData as { channel?: { id?: string; name?: string }; team?: { id?: string; name?: string } } | undefined;
  const channelId = cd?.channel?.id;
  const teamId = cd?.team?.id;
  if (!channelId || !teamId) return channelName(context);
  try {
    const channels = await TeamsInfo.getTeamChannels(context, teamId);
    const channel = channels.find((c) => c.id === channelId)?.name ?? (channelId === teamId ? 'General' : undefined);
    const team = cd?.team?.name ?? (await TeamsInfo.getTeamDetails(context, teamId).catch(() => undefined))?.name;
    return [channel, team].filter(Boolean).join(' · ') || undefined;
  } catch {
    return channelName(context);
  }
}

function channelName(context: TurnContext): string | undefined {
  const cd = context.activity.channelData as { channel?: { id?: string; name?: string }; team?: { id?: string; name?: string } } | undefined;
  if (!cd?.channel) return undefined;
  const channel = cd.channel.name ?? (cd.channel.id && cd.channel.id === cd.team?.id ? 'General' : undefined);
  return [channel, cd.team?.name].filter(Boolean).join(' · ') || undefined;
}

export type { Card };
