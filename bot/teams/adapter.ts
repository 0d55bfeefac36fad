/**
 * The Bot Framework adapter. With BOT_ID set every inbound activity must carry a valid Bot
 * Framework token (botbuilder checks signature, issuer, audience, expiry, service URL); with
 * no BOT_ID inbound auth is off, which config only allows outside production and the server
 * then binds to loopback.
 *
 * Fail closed: whatever goes wrong while a token is checked (a bad signature surfaces from
 * jsonwebtoken as a plain error, which CloudAdapter would answer 500 with its message) is a 401
 * with no detail. After the token, the inbound gate (inbound.ts) refuses non-Teams channels and
 * service URLs outside the allow-list before any handler runs.
 */
import {
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  INVOKE_RESPONSE_KEY,
  type ConfigurationBotFrameworkAuthenticationOptions,
  type TurnContext,
} from 'botbuilder';
import {
  AuthenticationConstants,
  AuthenticationError,
  type ClaimsIdentity,
  type ConnectorFactory,
  type ConnectorClient,
  type ServiceClientCredentialsFactory,
  type UserTokenClient,
} from 'botframework-connector';
import type { Logger } from 'pino';
import { DEFAULT_RATE_LIMITS, InboundGate, type RateLimits } from './inbound';

export interface AdapterOptions {
  appId?: string;
  appPassword?: string;
  appType: string;
  tenantId?: string;
  /** ALLOWED_SERVICE_URLS; empty = Teams' own hosts (and loopback while appId is empty). */
  serviceUrls?: string[];
  rateLimits?: RateLimits;
  /**
   * Test seams, passed straight to botbuilder: settings such as a local OpenID metadata URL and
   * token issuer (the ConfigurationBotFrameworkAuthentication options), and a credentials factory
   * for the bot's outbound token. Never read from the environment.
   */
  authOverrides?: AuthOverrides;
}

/** botbuilder's authentication settings (string or boolean values), plus an optional credentials factory. */
export type AuthOverrides = { [setting: string]: string | boolean | undefined | ServiceClientCredentialsFactory; credentialsFactory?: ServiceClientCredentialsFactory };

export function createAdapter(opts: AdapterOptions, log: Logger): CloudAdapter {
  const { credentialsFactory, ...overrides } = opts.authOverrides ?? {};
  const auth = new ConfigurationBotFrameworkAuthentication(
    {
      MicrosoftAppId: opts.appId ?? '',
      MicrosoftAppPassword: opts.appPassword ?? '',
      MicrosoftAppType: opts.appType,
      MicrosoftAppTenantId: opts.tenantId ?? '',
      ...(overrides as Partial<ConfigurationBotFrameworkAuthenticationOptions>),
    } as ConfigurationBotFrameworkAuthenticationOptions,
    credentialsFactory,
  );
  const authenticate = auth.authenticateRequest.bind(auth);
  auth.authenticateRequest = async (activity, authHeader) => {
    try {
      return await authenticate(activity, authHeader);
    } catch (err) {
      // Why is for the operator (never the token itself); the caller learns only "401".
      log.warn({ reason: String((err as Error)?.message ?? err).slice(0, 200), serviceUrl: String(activity?.serviceUrl ?? '').slice(0, 200) }, 'activity refused: authentication failed');
      throw new AuthenticationError('Unauthorized', 401);
    }
  };
  reuseOutboundClients(auth);
  const adapter = new CloudAdapter(auth);
  adapter.use(new InboundGate({ serviceUrls: { allowed: opts.serviceUrls, allowLoopback: !opts.appId }, rateLimits: opts.rateLimits ?? DEFAULT_RATE_LIMITS, log }));
  adapter.onTurnError = async (context: TurnContext, error: Error) => {
    // Log the fault for operators; tell the person only that it failed (no internals).
    log.error({ err: { name: error?.name, message: error?.message, stack: error?.stack }, activityId: context.activity.id }, 'turn failed');
    if (context.activity.type === 'message') {
      await context.sendActivity('Sorry, something went wrong on my side. Please try again in a moment.').catch(() => undefined);
    } else if (context.activity.type === 'invoke' && !context.turnState.get(INVOKE_RESPONSE_KEY)) {
      // Without this botbuilder answers 501; the server turns any 5xx into a body without detail.
      context.turnState.set(INVOKE_RESPONSE_KEY, { type: 'invokeResponse', value: { status: 500 } });
    }
  };
  return adapter;
}

/** Outbound clients kept (service URLs are few: Teams' hosts, or loopback in tests). */
const MAX_OUTBOUND_CLIENTS = 32;

/**
 * botbuilder's CloudAdapter builds a new ConnectorClient and UserTokenClient — each a fresh HTTP
 * pipeline of a dozen policies — for every inbound activity: ~5% of a busy bot's CPU. For replies
 * a client is reused for the same bot app id, service URL and audience, as BotFrameworkAdapter
 * used to cache its connector clients: the credentials are the same, and they fetch and refresh
 * their own tokens on each request. Proactive turns (createConnectorFactory) keep a fresh client
 * each: the messenger takes the retry policy out of theirs (messenger.ts), which must not change
 * the clients replies use. A client for a service URL the inbound gate then refuses is made
 * (CloudAdapter makes it before any middleware runs) but never used; the cache is bounded.
 */
function reuseOutboundClients(auth: ConfigurationBotFrameworkAuthentication): void {
  const connectors = new BoundedCache<Promise<ConnectorClient>>(MAX_OUTBOUND_CLIENTS);
  const tokenClients = new BoundedCache<Promise<UserTokenClient>>(MAX_OUTBOUND_CLIENTS);
  const reusing = (factory: ConnectorFactory, appId: string): ConnectorFactory => {
    const reused = Object.create(factory) as ConnectorFactory;
    reused.create = (serviceUrl: string, audience?: string) => connectors.get(`${appId}\n${serviceUrl}\n${audience ?? ''}`, () => factory.create(serviceUrl, audience));
    return reused;
  };
  const authenticate = auth.authenticateRequest.bind(auth);
  auth.authenticateRequest = async (activity, authHeader) => {
    const result = await authenticate(activity, authHeader);
    return result.connectorFactory ? { ...result, connectorFactory: reusing(result.connectorFactory, appIdOf(result.claimsIdentity)) } : result;
  };
  const createUserTokenClient = auth.createUserTokenClient.bind(auth);
  auth.createUserTokenClient = (claims) => tokenClients.get(appIdOf(claims), () => createUserTokenClient(claims));
}

/** The bot's app id the outbound clients act as, read from the claims as botframework-connector reads it. */
function appIdOf(claims: ClaimsIdentity): string {
  return claims.getClaimValue(AuthenticationConstants.AudienceClaim) ?? claims.getClaimValue(AuthenticationConstants.AppIdClaim) ?? '';
}

/** A few values by key, least recently made dropped first; a failed creation is not kept. */
class BoundedCache<T extends Promise<unknown>> {
  private readonly values = new Map<string, T>();
  constructor(private readonly max: number) {}

  get(key: string, make: () => T): T {
    const found = this.values.get(key);
    if (found) return found;
    const made = make();
    this.values.set(key, made);
    if (this.values.size > this.max) this.values.delete(this.values.keys().next().value as string);
    made.catch(() => {
      if (this.values.get(key) === made) this.values.delete(key);
    });
    return made;
  }
}
