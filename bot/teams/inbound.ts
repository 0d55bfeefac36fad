/**
 * What an inbound activity must be before any handler sees it, beyond the Bot Framework token
 * botbuilder checks: the shape of an activity at all (server.ts answers 400 otherwise), a Teams
 * service URL (replies and the bot's own token go there), and a fair share of chat commands per
 * person and per tenant.
 */
// INVOKE_RESPONSE_KEY: botbuilder's own key for a turn's invoke response (set without sending anything).
import { INVOKE_RESPONSE_KEY, type Middleware, type TurnContext } from 'botbuilder';
import type { Logger } from 'pino';

/**
 * The Bot Connector hosts Teams sends from, in every cloud (the hosts Microsoft's Teams SDK
 * allows by default): commercial (and its regional paths), GCC, GCC High, DoD, 21Vianet.
 */
export const TEAMS_SERVICE_URL_HOSTS = [
  'smba.trafficmanager.net',
  'smba.onyx.prod.teams.trafficmanager.net',
  'smba.infra.gcc.teams.microsoft.com',
  'smba.infra.gov.teams.microsoft.us',
  'smba.infra.dod.teams.microsoft.us',
  'frontend.botapi.msg.infra.teams.microsoftonline.cn',
];

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export interface ServiceUrlPolicy {
  /**
   * Allowed service URLs: a host name (https only, any port) or an origin with its scheme
   * (`http://127.0.0.1:5000`: exactly that scheme, host and port). Empty = Teams' own hosts.
   */
  allowed?: string[];
  /** Loopback service URLs (Agents Playground, local tests): only when inbound auth is off. */
  allowLoopback: boolean;
}

/** Is this a service URL Vigil may reply to (and, with auth on, send its Bot Framework token to)? */
export function serviceUrlAllowed(serviceUrl: unknown, policy: ServiceUrlPolicy): boolean {
  if (typeof serviceUrl !== 'string' || serviceUrl.length > 2048) return false;
  let url: URL;
  try {
    url = new URL(serviceUrl);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  const host = url.hostname.toLowerCase();
  if (policy.allowLoopback && LOOPBACK.has(host)) return true;
  const entries = policy.allowed?.length ? policy.allowed : TEAMS_SERVICE_URL_HOSTS;
  return entries.some((entry) => {
    const e = entry.trim().toLowerCase();
    if (/^https?:\/\//.test(e)) {
      // An origin: scheme, host and port must all match.
      try {
        return new URL(e).origin === url.origin;
      } catch {
        return false;
      }
    }
    return url.protocol === 'https:' && host === e;
  });
}

/**
 * Structural check of a request body: is it a Bot Framework activity at all? Only the fields
 * Vigil reads are checked, and only their types (absent or null is fine where Teams may omit them).
 * Returns the reason it is not, or undefined.
 */
export function notAnActivity(body: unknown): string | undefined {
  if (!isObject(body)) return 'body is not a JSON object';
  const a = body;
  if (typeof a.type !== 'string' || !a.type || a.type.length > 64) return 'type';
  for (const key of ['id', 'channelId', 'serviceUrl', 'text', 'name', 'locale', 'replyToId', 'textFormat', 'deliveryMode', 'timestamp', 'localTimestamp', 'action'] as const) {
    if (!optional(a[key], 'string')) return key;
  }
  if (typeof a.serviceUrl !== 'string' || typeof a.channelId !== 'string') return 'serviceUrl/channelId';
  for (const key of ['from', 'recipient'] as const) {
    const who = a[key];
    if (who === undefined || who === null) continue;
    if (!isObject(who) || !optional(who.id, 'string') || !optional(who.name, 'string') || !optional(who.aadObjectId, 'string') || !optional(who.role, 'string')) return key;
  }
  if (!isObject(a.conversation)) return 'conversation';
  const c = a.conversation;
  if (typeof c.id !== 'string' || !optional(c.tenantId, 'string') || !optional(c.conversationType, 'string') || !optional(c.name, 'string')) return 'conversation';
  if (c.isGroup !== undefined && c.isGroup !== null && typeof c.isGroup !== 'boolean') return 'conversation';
  for (const key of ['entities', 'attachments', 'membersAdded', 'membersRemoved', 'reactionsAdded', 'reactionsRemoved'] as const) {
    const v = a[key];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.every(isObject))) return key;
  }
  const cd = a.channelData;
  if (cd !== undefined && cd !== null) {
    if (!isObject(cd)) return 'channelData';
    for (const key of ['tenant', 'team', 'channel', 'eventType'] as const) {
      const v = cd[key];
      if (v === undefined || v === null) continue;
      if (key === 'eventType' ? typeof v !== 'string' : !isObject(v) || !optional(v.id, 'string') || !optional(v.name, 'string')) return `channelData.${key}`;
    }
  }
  return undefined;
}

/**
 * What a person's text can make Vigil process. Commands are a few words and names a few dozen
 * characters; bounding them keeps every parser downstream cheap (some scan the text once per
 * "for"/"at" in it), so one huge message cannot hold the event loop for everyone.
 */
export const MAX_COMMAND_CHARS = 2000;
export const MAX_NAME_CHARS = 256;

/** Cut people-supplied text in an activity down to those bounds (in place). */
export function boundActivityText(a: { text?: unknown; from?: { name?: unknown } | null; conversation?: { name?: unknown } | null; channelData?: unknown }): void {
  if (typeof a.text === 'string' && a.text.length > MAX_COMMAND_CHARS) a.text = a.text.slice(0, MAX_COMMAND_CHARS);
  const cut = (o: { name?: unknown } | null | undefined) => {
    if (o && typeof o.name === 'string' && o.name.length > MAX_NAME_CHARS) o.name = o.name.slice(0, MAX_NAME_CHARS);
  };
  cut(a.from);
  cut(a.conversation);
  const cd = a.channelData as { team?: { name?: unknown } | null; channel?: { name?: unknown } | null } | null | undefined;
  if (cd && typeof cd === 'object') {
    cut(cd.team);
    cut(cd.channel);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optional(v: unknown, type: 'string'): boolean {
  return v === undefined || v === null || typeof v === type;
}

// --- rate limits ----------------------------------------------------------------------------

export interface RateLimits {
  /** Chat commands one person may send per minute (a burst of as many, refilled evenly). */
  userPerMinute: number;
  /** Chat commands all the people of one tenant together may send per minute. */
  tenantPerMinute: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { userPerMinute: 30, tenantPerMinute: 150 };

export type RateDecision = { ok: true } | { ok: false; scope: 'user' | 'tenant'; retryAfterSeconds: number; /** First refusal since the bucket ran dry: answer it; stay silent on the rest. */ notify: boolean };

interface Bucket {
  tokens: number;
  at: number;
  notified: boolean;
}

/**
 * Token buckets keyed by person and by tenant. Memory is bounded: at most `maxKeys` buckets
 * each, the least recently used dropped first (a dropped bucket is a full one again, which only
 * ever errs towards answering).
 */
export class RateLimiter {
  private readonly users = new Map<string, Bucket>();
  private readonly tenants = new Map<string, Bucket>();

  constructor(
    private readonly limits: RateLimits = DEFAULT_RATE_LIMITS,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 10_000,
  ) {}

  /** Take one command for this person in this tenant, or say why not and for how long. */
  take(tenantId: string, userId: string): RateDecision {
    const t = this.now();
    const tenantKey = tenantId.toLowerCase();
    const userKey = `${tenantKey}/${userId.toLowerCase()}`;
    const user = this.bucket(this.users, userKey, this.limits.userPerMinute, t);
    const tenant = this.bucket(this.tenants, tenantKey, this.limits.tenantPerMinute, t);
    if (user.tokens < 1) return this.refuse(user, 'user', user, this.limits.userPerMinute);
    if (tenant.tokens < 1) return this.refuse(user, 'tenant', tenant, this.limits.tenantPerMinute);
    user.tokens -= 1;
    tenant.tokens -= 1;
    user.notified = false;
    return { ok: true };
  }

  /** Each person is told once (whichever budget ran out), until they are answered again. */
  private refuse(person: Bucket, scope: 'user' | 'tenant', empty: Bucket, perMinute: number): RateDecision {
    const retryAfterSeconds = Math.max(1, Math.ceil(((1 - empty.tokens) * 60) / perMinute));
    const notify = !person.notified;
    person.notified = true;
    return { ok: false, scope, retryAfterSeconds, notify };
  }

  private bucket(map: Map<string, Bucket>, key: string, perMinute: number, t: number): Bucket {
    let b = map.get(key);
    if (b) {
      map.delete(key); // re-insert: Map order is least recently used first
      b.tokens = Math.min(perMinute, b.tokens + ((t - b.at) / 60_000) * perMinute);
      b.at = t;
    } else {
      b = { tokens: perMinute, at: t, notified: false };
      if (map.size >= this.maxKeys) map.delete(map.keys().next().value!);
    }
    map.set(key, b);
    return b;
  }
}

/** turnState key: the rate limiter's `take` for this turn (the handler asks it once it knows the activity is a chat command). */
export const CHAT_RATE_LIMIT = Symbol('vigil.chatRateLimit');
export type ChatRateLimit = (tenantId: string, userId: string) => RateDecision;

export interface InboundGateOptions {
  serviceUrls: ServiceUrlPolicy;
  rateLimits?: RateLimits;
  log: Logger;
}

/**
 * botbuilder middleware: runs after the token is validated and before the activity handler.
 * An activity from anywhere but Teams, or with a service URL outside the allow-list, goes no
 * further and nothing is sent to that URL (an invoke is answered 403 in the HTTP response).
 */
export class InboundGate implements Middleware {
  private readonly limiter: RateLimiter;

  constructor(private readonly opts: InboundGateOptions) {
    this.limiter = new RateLimiter(opts.rateLimits ?? DEFAULT_RATE_LIMITS);
  }

  async onTurn(context: TurnContext, next: () => Promise<void>): Promise<void> {
    const a = context.activity;
    const reason = a.channelId !== 'msteams' ? 'channel' : !serviceUrlAllowed(a.serviceUrl, this.opts.serviceUrls) ? 'service URL' : undefined;
    if (reason) {
      this.opts.log.warn(
        { channelId: String(a.channelId).slice(0, 40), serviceUrlHost: hostOf(a.serviceUrl), type: String(a.type).slice(0, 40) },
        `activity refused: ${reason} not allowed`,
      );
      if (a.type === 'invoke') context.turnState.set(INVOKE_RESPONSE_KEY, { type: 'invokeResponse', value: { status: 403 } });
      return;
    }
    context.turnState.set(CHAT_RATE_LIMIT, ((tenantId, userId) => this.limiter.take(tenantId, userId)) as ChatRateLimit);
    await next();
  }
}

function hostOf(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined;
  try {
    return new URL(url).host.slice(0, 120);
  } catch {
    return 'not a URL';
  }
}
