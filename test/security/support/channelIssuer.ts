/**
 * Plays the Bot Framework channel's token issuer for inbound-authentication tests: an OpenID
 * metadata document and a JWKS (with Teams' endorsement) served over HTTP on 127.0.0.1, and
 * RS256 tokens signed with our own key — exactly what botbuilder fetches and verifies for a real
 * channel token, pointed here through `startVigil({ authOverrides })` (never the environment).
 */
import { createHmac, createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import * as http from 'node:http';
import { PasswordServiceClientCredentialFactory, MicrosoftAppCredentials, type ServiceClientCredentials } from 'botframework-connector';

/** The real issuer of Bot Framework channel tokens (botbuilder's AuthenticationConstants.ToBotFromChannelTokenIssuer). */
export const CHANNEL_ISSUER = 'https://api.botframework.com';

export interface SignOptions {
  /** Header overrides (alg, kid, typ). */
  header?: Record<string, unknown>;
  /** Sign with this key instead of the published one. */
  key?: KeyObject;
  /** 'none': no signature at all; 'hs256-public': HMAC with the public key as the secret (algorithm confusion). */
  mode?: 'rs256' | 'none' | 'hs256-public';
}

export class ChannelIssuer {
  readonly kid = 'vigil-test-key-1';
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  private server?: http.Server;
  url = '';
  /** Requests for metadata and keys (botbuilder caches them per URL). */
  fetches = 0;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = privateKey;
    this.publicKey = publicKey;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      this.fetches++;
      const path = (req.url ?? '').split('?')[0];
      if (path === '/v1/.well-known/openidconfiguration') {
        return json(res, 200, {
          issuer: CHANNEL_ISSUER,
          authorization_endpoint: `${this.url}/authorize`,
          jwks_uri: `${this.url}/v1/.well-known/keys`,
          id_token_signing_alg_values_supported: ['RS256'],
          token_endpoint_auth_methods_supported: ['private_key_jwt'],
        });
      }
      if (path === '/v1/.well-known/keys') {
        const jwk = this.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
        return json(res, 200, { keys: [{ kty: 'RSA', use: 'sig', kid: this.kid, n: jwk.n, e: jwk.e, endorsements: ['msteams'] }] });
      }
      json(res, 404, { error: 'not found' });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server!.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** botbuilder settings that make it validate channel tokens against this issuer. */
  authOverrides(botId: string, botPassword: string) {
    return {
      ToBotFromChannelOpenIdMetadataUrl: `${this.url}/v1/.well-known/openidconfiguration`,
      ToBotFromChannelTokenIssuer: CHANNEL_ISSUER,
      // Emulator tokens are recognised by their issuer (Entra's); none of ours has it, and this refuses them anyway.
      ToBotFromEmulatorOpenIdMetadataUrl: `${this.url}/emulator/none`,
      ToChannelFromBotLoginUrl: 'https://login.microsoftonline.com/botframework.com',
      ToChannelFromBotOAuthScope: CHANNEL_ISSUER,
      OAuthUrl: 'https://api.botframework.com',
      CallerId: 'urn:botframework:azure',
      ValidateAuthority: true,
      credentialsFactory: new OfflineBotCredentials(botId, botPassword),
    };
  }

  /** A channel token: RS256 with the published key unless told otherwise. */
  token(claims: Record<string, unknown>, opts: SignOptions = {}): string {
    const mode = opts.mode ?? 'rs256';
    const header = { alg: mode === 'none' ? 'none' : mode === 'hs256-public' ? 'HS256' : 'RS256', typ: 'JWT', kid: this.kid, ...opts.header };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    if (mode === 'none') return `${input}.`;
    if (mode === 'hs256-public') {
      const secret = this.publicKey.export({ format: 'pem', type: 'spki' });
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    }
    return `${input}.${sign('sha256', Buffer.from(input), opts.key ?? this.privateKey).toString('base64url')}`;
  }

  /** Standard claims of a channel token for this bot and service URL, valid now for an hour. */
  claims(botId: string, serviceUrl: string, nowSeconds = Math.floor(Date.now() / 1000)): Record<string, unknown> {
    return { iss: CHANNEL_ISSUER, aud: botId, serviceurl: serviceUrl, nbf: nowSeconds - 60, iat: nowSeconds - 60, exp: nowSeconds + 3600 };
  }
}

/** Another RSA key, as an attacker's. */
export function otherKey(): KeyObject {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' }));
}

/** The bot's outbound bearer token in these tests (what Entra would issue): recognisable in any log line. */
export const OUTBOUND_BOT_TOKEN = 'eyJhbGciOiJub25lIn0.eyJhdWQiOiJodHRwczovL2FwaS5ib3RmcmFtZXdvcmsuY29tIiwidGVzdCI6InZpZ2lsLW91dGJvdW5kIn0.c2lnbmF0dXJlLW9mLXRoZS1ib3Q';

/**
 * The real password credential factory (so `isValidAppId`, the audience check, is botbuilder's
 * own), except that the bot's outbound token comes from here instead of Entra (offline).
 */
class OfflineBotCredentials extends PasswordServiceClientCredentialFactory {
  override async createCredentials(appId: string, audience: string): Promise<ServiceClientCredentials> {
    if (!(await this.isValidAppId(appId))) throw new Error('Invalid appId.');
    const creds = new MicrosoftAppCredentials(appId, this.password ?? '', undefined, audience);
    creds.getToken = async () => OUTBOUND_BOT_TOKEN;
    return creds;
  }
}

function b64url(s: string): string {
  return Buffer.from(s).toString('base64url');
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}
