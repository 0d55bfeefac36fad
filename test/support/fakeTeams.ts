/**
 * Plays Teams for end-to-end tests. Teams itself cannot run here, so this is the one mocked
 * part: a local Bot Connector endpoint (the `serviceUrl` the bot replies to) that records what
 * the bot sends, plus helpers that POST Bot Framework activities to the bot's real HTTP endpoint.
 */
import * as http from 'node:http';
import { randomUUID } from 'node:crypto';

export interface SentActivity {
  method: 'POST' | 'PUT';
  conversationId: string;
  activityId: string;
  activity: Record<string, any>;
  /** The Authorization header the bot sent (its Bot Framework token when BOT_ID is set). */
  authorization?: string;
}

/** A connector error to answer one send with, instead of accepting it (e.g. 429 with Retry-After, 403 MessageWritesBlocked). */
export interface ConnectorFault {
  status: number;
  code?: string;
  retryAfter?: string;
}

export interface TeamsUser {
  id: string;
  aadObjectId: string;
  name: string;
}

export class FakeTeams {
  readonly sent: SentActivity[] = [];
  private server?: http.Server;
  serviceUrl = '';
  private counter = 0;
  /** Faults answered to the next sends, in order (consumed one per send). */
  readonly faults: ConnectorFault[] = [];
  /** Every send attempt, faulted or not: when, where and with what status. */
  readonly attempts: Array<{ at: number; method: string; conversationId: string; status: number }> = [];

  constructor(
    readonly botUrl: string,
    readonly tenantId: string,
  ) {}

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.serviceUrl = `http://127.0.0.1:${(this.server!.address() as { port: number }).port}/`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const m = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?$/.exec(decodeURI(req.url ?? '').split('?')[0]);
      if (!m) {
        // (restify patches ServerResponse.writeHead to return nothing, so no chaining here)
        res.statusCode = 404;
        res.end();
        return;
      }
      const conversationId = decodeURIComponent(m[1]);
      const activity = body ? JSON.parse(body) : {};
      const method = req.method === 'PUT' ? 'PUT' : 'POST';
      const fault = this.faults.shift();
      this.attempts.push({ at: Date.now(), method, conversationId, status: fault?.status ?? 200 });
      if (fault) {
        res.statusCode = fault.status;
        res.setHeader('content-type', 'application/json');
        if (fault.retryAfter !== undefined) res.setHeader('retry-after', fault.retryAfter);
        res.end(JSON.stringify({ error: { code: fault.code ?? `Http${fault.status}`, message: 'injected connector fault' } }));
        return;
      }
      const activityId = method === 'PUT' ? decodeURIComponent(m[2]) : `msg-${++this.counter}`;
      this.sent.push({ method, conversationId, activityId, activity, authorization: req.headers.authorization });
      res.statusCode = 200;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: activityId }));
    });
  }

  /** The newest card the bot posted or put into a conversation (optionally a given message). */
  lastCard(conversationId: string, activityId?: string): Record<string, any> | undefined {
    const hits = this.sent.filter((s) => s.conversationId === conversationId && (!activityId || s.activityId === activityId) && s.activity.attachments?.length);
    return hits.at(-1)?.activity.attachments[0].content;
  }

  personal(user: TeamsUser) {
    return { id: `a:personal-${user.aadObjectId}`, conversationType: 'personal', tenantId: this.tenantId };
  }

  channel(id = '19:security@thread.tacv2') {
    return { id, conversationType: 'channel', tenantId: this.tenantId, isGroup: true };
  }

  private base(from: TeamsUser, conversation: Record<string, unknown>, isChannel: boolean) {
    return {
      channelId: 'msteams',
      serviceUrl: this.serviceUrl,
      id: randomUUID(),
      timestamp: new Date().toISOString(),
      from: { id: from.id, name: from.name, aadObjectId: from.aadObjectId },
      recipient: { id: '28:vigil', name: 'Vigil' },
      conversation,
      channelData: {
        tenant: { id: conversation.tenantId },
        ...(isChannel ? { team: { id: '19:team@thread.tacv2', name: 'Northwind IT' }, channel: { id: conversation.id, name: 'Security' } } : {}),
      },
    };
  }

  async say(from: TeamsUser, text: string, conversation = this.personal(from)): Promise<Response> {
    const isChannel = conversation.conversationType === 'channel';
    const activity = {
      ...this.base(from, conversation, isChannel),
      type: 'message',
      text: isChannel ? `<at>Vigil</at> ${text}` : text,
      entities: isChannel ? [{ type: 'mention', text: '<at>Vigil</at>', mentioned: { id: '28:vigil', name: 'Vigil' } }] : [],
    };
    return this.post(activity);
  }

  /** Click an Action.Execute button: an adaptiveCard/action invoke; returns the invoke response body. */
  async click(
    from: TeamsUser,
    action: { verb: string; data: Record<string, unknown> },
    conversation: Record<string, any> = this.personal(from),
    /** 'automatic': Teams refreshing a card by itself (a card's `refresh`), not a person's click. */
    trigger: 'manual' | 'automatic' = 'manual',
  ): Promise<{ status: number; body: any }> {
    const activity = {
      ...this.base(from, conversation, conversation.conversationType === 'channel'),
      type: 'invoke',
      name: 'adaptiveCard/action',
      value: { action: { type: 'Action.Execute', verb: action.verb, data: action.data }, trigger },
    };
    const res = await this.post(activity);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  post(activity: Record<string, unknown>): Promise<Response> {
    return fetch(`${this.botUrl}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
  }
}

/** Every Action.Execute in a card, in document order. */
export function actionsIn(card: unknown): Array<{ title: string; verb: string; data: Record<string, unknown> }> {
  const out: Array<{ title: string; verb: string; data: Record<string, unknown> }> = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const n = node as Record<string, any>;
      if (n.type === 'Action.Execute') out.push({ title: n.title, verb: n.verb, data: n.data ?? {} });
      Object.values(n).forEach(walk);
    }
  };
  walk(card);
  return out;
}

/** All TextBlock texts and FactSet values of a card, joined: what a person reads. */
export function textOf(card: unknown): string {
  const parts: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const n = node as Record<string, any>;
      if (n.type === 'TextBlock' && typeof n.text === 'string') parts.push(n.text);
      if (n.type === 'FactSet') for (const f of n.facts ?? []) parts.push(`${f.title}: ${f.value}`);
      Object.entries(n).forEach(([k, v]) => k !== 'fallback' && walk(v));
    }
  };
  walk(card);
  return parts.join('\n');
}
