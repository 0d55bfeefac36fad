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

export interface HandlerOptions {
  assistant: Assistant;
  /** Teams tenants served: a fixed list (ALLOWED_TENANT_IDS) or a predicate (the tenants Vigil serves). */
  allowedTenantIds: string[] | ((tenantId: string) => boolean);
  log: Logger;
  /** Files offered in personal chat (reports, CSV exports): looked up by the consent card's reference. */
  files?: {
    offeredFile(ctx: ChatContext, ref: unknown): { name: string; bytes: Buffer } | undefined;
    decline(ctx: ChatContext, ref: unknown): void;
  };
}

const CARD = 'application/vnd.microsoft.card.adaptive';
const MESSAGE = 'application/vnd.microsoft.activity.message';

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
    const text = TurnContext.removeRecipientMention(context.activity) ?? context.activity.text ?? '';
    const reply = await this.opts.assistant.onMessage(ctx, text);
    await context.sendActivity(MessageFactory.attachment(CardFactory.adaptiveCard(reply.card)));
    // Files go to a person's OneDrive through the file consent card: personal chat only.
    if (reply.file && ctx.conversation.kind === 'personal') await context.sendActivity({ attachments: [fileConsentAttachment(reply.file)] });
  }

  /** The person allowed the file: upload it to the OneDrive session Teams gave, then show it in chat. */
  protected override async handleTeamsFileConsentAccept(context: TurnContext, response: FileConsentCardResponse): Promise<void> {
    const ctx = chatContext(context);
    const file = this.opts.files?.offeredFile(ctx, (response.context as { ref?: unknown } | undefined)?.ref);
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
    this.opts.files?.decline(chatContext(context), (response.context as { ref?: unknown } | undefined)?.ref);
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
