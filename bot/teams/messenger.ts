/**
 * Proactive messages: posting approval and alert cards to channels, editing them for everyone
 * when they change, and telling people in their personal chat.
 *
 * Teams limits bots to about 7 messages per second per conversation and answers 429/412/502/
 * 503/504 when busy: we space sends per conversation and retry those with Retry-After or
 * exponential backoff. 403 MessageWritesBlocked means "never here again": surfaced, not retried.
 */
import { CardFactory, MessageFactory, type CloudAdapter, type ConversationReference, type TurnContext } from 'botbuilder';
import type { Card } from '../../cards';
import { ConversationUnreachableError, type Messenger } from '../chat/messenger';
import type { ConversationPointer } from '../store';

interface MessagePointer {
  reference: Partial<ConversationReference>;
  activityId: string;
}

const RETRYABLE = new Set([412, 429, 502, 503, 504]);
/** Minimum spacing of sends into one conversation (7 per second). */
const MIN_GAP_MS = Math.ceil(1000 / 7);

export interface TeamsMessengerOptions {
  maxAttempts?: number;
  /** First backoff when Teams sends no Retry-After, doubled each attempt. */
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export class TeamsMessenger implements Messenger {
  /**
   * botbuilder's proactive path needs a non-empty app id even when auth is off (the Agents
   * Playground and local tests); any placeholder works there because nothing is signed.
   */
  private readonly appId: string;
  private readonly nextSlot = new Map<string, number>();
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly adapter: CloudAdapter,
    appId: string | undefined,
    opts: TeamsMessengerOptions = {},
  ) {
    this.appId = appId || '00000000-0000-0000-0000-000000000000';
    this.maxAttempts = opts.maxAttempts ?? 5;
    this.baseDelayMs = opts.baseDelayMs ?? 500;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async post(conversation: ConversationPointer, card: Card): Promise<ConversationPointer> {
    const reference = conversation as Partial<ConversationReference>;
    let activityId = '';
    await this.send(reference, async (ctx) => {
      const res = await ctx.sendActivity(MessageFactory.attachment(CardFactory.adaptiveCard(card)));
      activityId = res?.id ?? '';
    });
    const pointer: MessagePointer = { reference, activityId };
    return pointer as unknown as ConversationPointer;
  }

  async update(message: ConversationPointer, card: Card): Promise<void> {
    const { reference, activityId } = message as unknown as MessagePointer;
    if (!activityId) return;
    await this.send(reference, async (ctx) => {
      const activity = MessageFactory.attachment(CardFactory.adaptiveCard(card));
      activity.id = activityId;
      await ctx.updateActivity(activity);
    });
  }

  /** Paced, retried proactive send. */
  private async send(reference: Partial<ConversationReference>, logic: (ctx: TurnContext) => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await this.waitForSlot(reference.conversation?.id ?? '');
      try {
        await this.proactive(reference, logic);
        return;
      } catch (err) {
        const { status, code, retryAfterMs } = describe(err);
        if (status === 403 && /MessageWritesBlocked/i.test(code)) throw new ConversationUnreachableError(`Teams blocks messages to this conversation (${code})`);
        if (!RETRYABLE.has(status) || attempt >= this.maxAttempts) throw err;
        await this.sleep(retryAfterMs ?? this.baseDelayMs * 2 ** (attempt - 1));
      }
    }
  }

  private async waitForSlot(conversationId: string): Promise<void> {
    const now = Date.now();
    const slot = Math.max(now, this.nextSlot.get(conversationId) ?? 0);
    this.nextSlot.set(conversationId, slot + MIN_GAP_MS);
    if (slot > now) await this.sleep(slot - now);
  }

  /**
   * Run logic in a proactive turn and let its error reach the caller: the adapter would
   * otherwise hand it to onTurnError and report success.
   */
  private async proactive(reference: Partial<ConversationReference>, logic: (ctx: TurnContext) => Promise<void>): Promise<void> {
    let failure: unknown;
    let ran = false;
    await this.adapter.continueConversationAsync(this.appId, reference, async (ctx: TurnContext) => {
      ran = true;
      try {
        singleRetryLayer(ctx.turnState.get(this.adapter.ConnectorClientKey));
        await logic(ctx);
      } catch (err) {
        failure = err;
      }
    });
    if (failure) throw failure;
    // The inbound gate (inbound.ts) runs for proactive turns too: a stored conversation whose
    // service URL is no longer allowed is refused there, and that is not a delivery.
    if (!ran) throw new Error('not sent: the conversation\'s service URL is not allowed');
  }
}

/**
 * botbuilder's connector client has a retry policy of its own (up to 3 more tries of any 5xx and
 * of a 429/503 with Retry-After, sleeping in between): under `send`'s retries that made up to 20
 * attempts and minutes of waiting per message. Proactive sends use `send`'s schedule only.
 */
function singleRetryLayer(connectorClient: unknown): void {
  const pipeline = (connectorClient as { client?: { pipeline?: { removePolicy(options: { name: string }): unknown } } } | undefined)?.client?.pipeline;
  pipeline?.removePolicy({ name: 'defaultRetryPolicy' });
}

/** Status, error code and Retry-After of a connector error, whatever shape botbuilder gave it. */
function describe(err: unknown): { status: number; code: string; retryAfterMs?: number } {
  const e = err as {
    statusCode?: number;
    status?: number;
    code?: string;
    message?: string;
    body?: unknown;
    response?: { status?: number; headers?: { get?(name: string): string | undefined | null } | Record<string, string>; bodyAsText?: string; parsedBody?: unknown };
  };
  const status = Number(e?.statusCode ?? e?.status ?? e?.response?.status ?? 0);
  const body = e?.response?.parsedBody ?? e?.body ?? safeJson(e?.response?.bodyAsText);
  const code = String((body as { error?: { code?: string } } | undefined)?.error?.code ?? e?.code ?? e?.message ?? '');
  const headers = e?.response?.headers;
  const raw = headers ? (typeof (headers as { get?: unknown }).get === 'function' ? (headers as { get(n: string): string | null | undefined }).get('retry-after') : (headers as Record<string, string>)['retry-after']) : undefined;
  const seconds = raw === undefined || raw === null ? NaN : Number(raw);
  return { status, code, retryAfterMs: Number.isFinite(seconds) ? Math.min(seconds, 60) * 1000 : undefined };
}

function safeJson(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
