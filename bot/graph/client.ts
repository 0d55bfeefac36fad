/**
 * The Graph client: the real Microsoft Graph SDK over @azure/identity, with a middleware
 * chain we control (retries honouring Retry-After, custom hosts for sovereign clouds and
 * the demo tenant, optional trust of a private CA for the demo tenant only).
 */
import * as https from 'node:https';
import {
  AuthenticationHandler,
  Client,
  HTTPMessageHandler,
  RedirectHandler,
  RetryHandler,
  RetryHandlerOptions,
  TelemetryHandler,
} from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import {
  ClientCertificateCredential,
  ClientSecretCredential,
  type TokenCredential,
  type TokenCredentialOptions,
} from '@azure/identity';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { Agent as UndiciAgent } from 'undici';
import type { GraphCredentialConfig } from '../config';

export interface GraphClientOptions {
  /** e.g. https://graph.microsoft.com or the demo tenant's https://127.0.0.1:port */
  baseUrl: string;
  credential: TokenCredential;
  /** PEM of a private CA to trust for this client only (the demo tenant's throwaway certificate). */
  trustedCaPem?: string;
  /** Retries for 429/503/504; the SDK waits for Retry-After when Graph sends it. */
  maxRetries?: number;
  /** Seconds to wait when no Retry-After is sent (doubling afterwards). */
  retryDelaySeconds?: number;
}

/** Build a credential from configuration, as @azure/identity documents it. */
export function createCredential(cfg: GraphCredentialConfig, trustedCaPem?: string): TokenCredential {
  const options: TokenCredentialOptions & { disableInstanceDiscovery?: boolean; additionallyAllowedTenants?: string[] } = {};
  if (cfg.authorityHost) {
    options.authorityHost = cfg.authorityHost;
    // A non-Microsoft authority (sovereign cloud mirror, test authority) must not trigger
    // instance discovery against the public endpoint.
    options.disableInstanceDiscovery = true;
  }
  // Tokens for customer tenants (MSP mode) are requested with an explicit tenantId.
  options.additionallyAllowedTenants = ['*'];
  if (trustedCaPem) options.additionalPolicies = [{ policy: trustCaPolicy(trustedCaPem), position: 'perCall' }];
  if (cfg.certificatePath) {
    return new ClientCertificateCredential(cfg.tenantId, cfg.clientId, { certificatePath: cfg.certificatePath }, options);
  }
  return new ClientSecretCredential(cfg.tenantId, cfg.clientId, cfg.clientSecret ?? '', options);
}

/** A pipeline policy that makes @azure/identity trust one extra CA (never disables verification). */
function trustCaPolicy(caPem: string): PipelinePolicy {
  const agent = new https.Agent({ ca: caPem, keepAlive: true });
  return {
    name: 'vigilTrustCa',
    sendRequest(request, next) {
      request.agent = agent;
      return next(request);
    },
  };
}

/** The OAuth scope for Graph application permissions on this cloud: "<graph origin>/.default". */
export function graphScope(baseUrl: string): string {
  return `${new URL(baseUrl).origin}/.default`;
}

export function createGraphClient(opts: GraphClientOptions): Client {
  const authProvider = new TokenCredentialAuthenticationProvider(opts.credential, {
    scopes: [graphScope(opts.baseUrl)],
  });
  const auth = new AuthenticationHandler(authProvider);
  const retry = new RetryHandler(new RetryHandlerOptions(opts.retryDelaySeconds ?? 2, opts.maxRetries ?? 5));
  const redirect = new RedirectHandler();
  const telemetry = new TelemetryHandler();
  const http = new HTTPMessageHandler();
  auth.setNext(retry);
  retry.setNext(redirect);
  redirect.setNext(telemetry);
  telemetry.setNext(http);

  const host = new URL(opts.baseUrl).hostname;
  return Client.initWithMiddleware({
    middleware: auth,
    baseUrl: `${opts.baseUrl}/`,
    // The SDK attaches tokens only to Graph hosts or these; ports are stripped.
    customHosts: new Set([host]),
    // Node's fetch is undici: a dispatcher with our CA trusts the demo tenant only for this client.
    fetchOptions: opts.trustedCaPem
      ? ({ dispatcher: new UndiciAgent({ connect: { ca: opts.trustedCaPem } }) } as unknown as RequestInit)
      : undefined,
  });
}
