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
  CredentialUnavailableError,
  ManagedIdentityCredential,
  WorkloadIdentityCredential,
  type TokenCredential,
  type TokenCredentialOptions,
} from '@azure/identity';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { Agent as UndiciAgent } from 'undici';
import type { GraphCredentialConfig } from '../config';
import { ConnectionResetRetryHandler, PacingHandler, pacerFor, type GraphPacer } from './pacing';
import { GraphTelemetryHandler } from '../telemetry';
import { DEFAULT_READ_TIMEOUT_MS, ReadTimeoutHandler } from './timeout';

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
  /**
   * Token-bucket pacing per tenant and API family (pacing.ts). Default: the process's shared
   * pacer for Microsoft Graph hosts (and hosts opted in with `paceHost`), none for others; null = off.
   */
  pacer?: GraphPacer | null;
  /** Time limit of each read attempt (timeout.ts); 0 = none. Default 60 s. */
  readTimeoutMs?: number;
}

/** Which kind of credential `createCredential` builds for this configuration (first match wins). */
export type CredentialKind = 'managed-identity-system' | 'managed-identity-user' | 'workload-identity' | 'certificate' | 'secret';

export function credentialKind(cfg: GraphCredentialConfig): CredentialKind {
  if (cfg.managedIdentity) return cfg.managedIdentity.kind === 'system' ? 'managed-identity-system' : 'managed-identity-user';
  if (cfg.federatedTokenFile) return 'workload-identity';
  if (cfg.certificatePath) return 'certificate';
  return 'secret';
}

/**
 * Build a credential from configuration, as @azure/identity documents it: AZURE_MANAGED_IDENTITY →
 * ManagedIdentityCredential (system-assigned, or user-assigned by AZURE_CLIENT_ID);
 * AZURE_FEDERATED_TOKEN_FILE → WorkloadIdentityCredential; AZURE_CLIENT_CERTIFICATE_PATH →
 * ClientCertificateCredential (PEM); otherwise ClientSecretCredential.
 */
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
  if (cfg.managedIdentity) {
    // A managed identity has tokens for its own tenant only: never hand out a home-tenant token as
    // if it were another tenant's (MSP mode needs a multi-tenant app credential).
    if (cfg.tenantId.toLowerCase() !== cfg.managedIdentity.homeTenantId.toLowerCase()) return otherTenantRefused(cfg.tenantId);
    return cfg.managedIdentity.kind === 'system' ? new ManagedIdentityCredential(options) : new ManagedIdentityCredential({ ...options, clientId: cfg.clientId });
  }
  if (cfg.federatedTokenFile) {
    return new WorkloadIdentityCredential({ ...options, tenantId: cfg.tenantId, clientId: cfg.clientId, tokenFilePath: cfg.federatedTokenFile });
  }
  if (cfg.certificatePath) {
    return new ClientCertificateCredential(cfg.tenantId, cfg.clientId, { certificatePath: cfg.certificatePath }, options);
  }
  return new ClientSecretCredential(cfg.tenantId, cfg.clientId, cfg.clientSecret ?? '', options);
}

function otherTenantRefused(tenantId: string): TokenCredential {
  return {
    async getToken() {
      throw new CredentialUnavailableError(
        `A managed identity cannot get tokens for tenant ${tenantId}: use a multi-tenant app credential (secret, certificate or workload identity federation) to serve other tenants.`,
      );
    },
  };
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
  // Pacing sits after the RetryHandler, so every attempt (retries too) waits for its budget;
  // then reads whose connection was reset before any answer are sent again.
  const pacer = opts.pacer === undefined ? pacerFor(opts.baseUrl) : opts.pacer;
  const resets = new ConnectionResetRetryHandler();
  if (pacer) {
    const pacing = new PacingHandler(pacer);
    retry.setNext(pacing);
    pacing.setNext(resets);
  } else {
    retry.setNext(resets);
  }
  resets.setNext(redirect);
  redirect.setNext(telemetry);
  // OpenTelemetry: one span and one count per HTTP attempt (retries included), 429s counted apart.
  const metrics = new GraphTelemetryHandler();
  telemetry.setNext(metrics);
  // Last before the wire: each read attempt gets its own time limit.
  const timeout = new ReadTimeoutHandler(opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS);
  metrics.setNext(timeout);
  timeout.setNext(http);

  const host = new URL(opts.baseUrl).hostname;
  return Client.initWithMiddleware({
    middleware: auth,
    baseUrl: `${opts.baseUrl}/`,
    // The SDK attaches tokens only to Graph hosts or these; ports are stripped.
    customHosts: new Set([host]),
    // Node's fetch is undici: a dispatcher with our CA trusts the demo tenant only for this client.
    fetchOptions: opts.trustedCaPem
      ? // Idle sockets are dropped well before the server's 5-s keep-alive ends: reusing one the server
        // is closing at that moment fails the request ("other side closed") and is not retried.
        ({ dispatcher: new UndiciAgent({ connect: { ca: opts.trustedCaPem }, keepAliveTimeout: 2_000, keepAliveMaxTimeout: 2_000 }) } as unknown as RequestInit)
      : undefined,
  });
}
