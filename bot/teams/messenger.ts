/**
 * Proactive messages: posting approval cards to a channel, editing them for everyone when the
 * request changes, and telling the requester in their chat.
 */
import { CardFactory, MessageFactory, type CloudAdapter, type ConversationReference, type TurnContext } from 'botbuilder';
import type { Card } from '../../cards';
import type { Messenger } from '../chat/messenger';
import type { ConversationPointer } from '../store';

interface MessagePointer {
  reference: Partial<ConversationReference>;
  activityId: string;
}

export class TeamsMessenger implements Messenger {
  /**
   * botbuilder's proactive path needs a non-empty app id even when auth is off (the Agents
   * Playground and local tests); any placeholder works there because nothing is signed.
   */
  private readonly appId: string;

  constructor(
    private readonly adapter: CloudAdapter,
    appId: string | undefined,
  ) {
    this.appId = appId || '00000000-0000-0000-0000-000000000000';
  }

  async post(conversation: ConversationPointer, card: Card): Promise<ConversationPointer> {
    const reference = conversation as Partial<ConversationReference>;
    let activityId = '';
    await this.proactive(reference, async (ctx) => {
      const res = await ctx.sendActivity(MessageFactory.attachment(CardFactory.adaptiveCard(card)));
      activityId = res?.id ?? '';
    });
    const pointer: MessagePointer = { reference, activityId };
    return pointer as unknown as ConversationPointer;
  }

  async update(message: ConversationPointer, card: Card): Promise<void> {
    const { reference, activityId } = message as unknown as MessagePointer;
    if (!activityId) return;
    await this.proactive(reference, async (ctx) => {
      const activity = MessageFactory.attachment(CardFactory.adaptiveCard(card));
      activity.id = activityId;
      await ctx.updateActivity(activity);
    });
  }

  /**
   * Run logic in a proactive turn and let its error reach the caller: the adapter would
   * otherwise hand it to onTurnError and report success.
   */
  private async proactive(reference: Partial<ConversationReference>, logic: (ctx: TurnContext) => Promise<void>): Promise<void> {
    let failure: unknown;
    await this.adapter.continueConversationAsync(this.appId, reference, async (ctx: TurnContext) => {
      try {
        await logic(ctx);
      } catch (err) {
        failure = err;
      }
    });
    if (failure) throw failure;
  }
}
