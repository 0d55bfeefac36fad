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
} from 'botbuilder';
import type { Logger } from 'pino';
import type { Card } from '../../cards';
import type { Assistant } from '../chat/assistant';
import type { ActionReply, ChatContext } from '../chat/messenger';
import type { ConversationPointer } from '../store';

export interface HandlerOptions {
  assistant: Assistant;
  allowedTenantIds: string[];
  log: Logger;
}

const CARD = 'application/vnd.microsoft.card.adaptive';
const MESSAGE = 'application/vnd.microsoft.activity.message';

export class VigilActivityHandler extends TeamsActivityHandler {
  private readonly allowed: Set<string>;

  constructor(private readonly opts: HandlerOptions) {
    super();
    this.allowed = new Set(opts.allowedTenantIds.map((t) => t.toLowerCase()));
    this.onMessage(async (context, next) => {
      await this.handleMessage(context);
      await next();
    });
  }

  /** Gate every activity: only Teams, only allowed tenants. Others get nothing. */
  override async run(context: TurnContext): Promise<void> {
    const a = context.activity;
    const tenantId = tenantOf(context);
    if (a.channelId !== 'msteams' || !tenantId || !this.allowed.has(tenantId.toLowerCase())) {
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
  }

  protected override async onAdaptiveCardInvoke(context: TurnContext, invokeValue: AdaptiveCardInvokeValue): Promise<AdaptiveCardInvokeResponse> {
    const verb = String(invokeValue?.action?.verb ?? '');
    const data = (invokeValue?.action?.data ?? {}) as Record<string, unknown>;
    const reply = await this.opts.assistant.onAction(chatContext(context), verb, data);
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
    user: { id: a.from?.aadObjectId ?? '', name: a.from?.name ?? 'Someone' },
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
