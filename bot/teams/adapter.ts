/**
 * The Bot Framework adapter. With BOT_ID set every inbound activity must carry a valid Bot
 * Framework token (botbuilder checks signature, issuer, audience, expiry, service URL); with
 * no BOT_ID inbound auth is off, which config only allows outside production and the server
 * then binds to loopback.
 */
import {
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type ConfigurationBotFrameworkAuthenticationOptions,
  type TurnContext,
} from 'botbuilder';
import type { Logger } from 'pino';

export interface AdapterOptions {
  appId?: string;
  appPassword?: string;
  appType: string;
  tenantId?: string;
  /** Extra settings (e.g. a test OpenID metadata URL) passed straight to botbuilder. */
  authOverrides?: Partial<ConfigurationBotFrameworkAuthenticationOptions>;
}

export function createAdapter(opts: AdapterOptions, log: Logger): CloudAdapter {
  const auth = new ConfigurationBotFrameworkAuthentication({
    MicrosoftAppId: opts.appId ?? '',
    MicrosoftAppPassword: opts.appPassword ?? '',
    MicrosoftAppType: opts.appType,
    MicrosoftAppTenantId: opts.tenantId ?? '',
    ...opts.authOverrides,
  } as ConfigurationBotFrameworkAuthenticationOptions);
  const adapter = new CloudAdapter(auth);
  adapter.onTurnError = async (context: TurnContext, error: Error) => {
    // Log the fault for operators; tell the person only that it failed (no internals).
    log.error({ err: { name: error.name, message: error.message, stack: error.stack }, activityId: context.activity.id }, 'turn failed');
    if (context.activity.type === 'message') {
      await context.sendActivity('Sorry, something went wrong on my side. Please try again in a moment.').catch(() => undefined);
    }
  };
  return adapter;
}
