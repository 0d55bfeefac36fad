/**
 * A minimal Microsoft identity platform: OpenID metadata + the client-credentials
 * token endpoint, enough for the real @azure/identity ClientSecretCredential (MSAL
 * underneath) to obtain tokens, and JWT verification for the Graph routes.
 *
 * Tokens are HS256 JWTs signed with a per-process secret: nobody outside this
 * process needs to verify them.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

export interface AppCredentials {
  clientId: string;
  clientSecret: string;
}

export interface TokenClaims {
  aud: string;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  tid: string;
  appid: string;
  azp: string;
  oid: string;
  sub: string;
  roles: string[];
  ver: '1.0';
  idtyp: 'app';
}

export const GRAPH_RESOURCE = 'https://graph.microsoft.com';
export const TOKEN_LIFETIME_SECONDS = 3599;

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export class TokenIssuer {
  private readonly secret = randomBytes(32);

  sign(claims: TokenClaims): string {
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'HS256', kid: 'vigil-demo' }));
    const payload = b64url(JSON.stringify(claims));
    const sig = createHmac('sha256', this.secret).update(`${header}.${payload}`).digest('base64url');
    return `${header}.${payload}.${sig}`;
  }

  /** Returns the claims, or a reason string suitable for Graph's 401 message. */
  verify(token: string, nowSeconds: number, acceptedAudiences: string[]): TokenClaims | { error: string } {
    const parts = token.split('.');
    if (parts.length !== 3) return { error: 'IDX14100: JWT is not well formed, there are no dots (.).' };
    const expected = createHmac('sha256', this.secret).update(`${parts[0]}.${parts[1]}`).digest();
    const given = Buffer.from(parts[2], 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { error: 'Invalid signature.' };
    let claims: TokenClaims;
    try {
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as TokenClaims;
    } catch {
      return { error: 'IDX14102: Unable to decode the payload.' };
    }
    if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds) return { error: 'Lifetime validation failed, the token is expired.' };
    if (typeof claims.nbf === 'number' && claims.nbf > nowSeconds + 300) return { error: 'Lifetime validation failed, the token is not yet valid.' };
    if (!acceptedAudiences.includes(claims.aud)) return { error: 'Invalid audience.' };
    return claims;
  }
}

/** GET /{tenant}/v2.0/.well-known/openid-configuration */
export function openIdConfiguration(baseUrl: string, tenantId: string): Record<string, unknown> {
  const t = `${baseUrl}/${tenantId}`;
  return {
    token_endpoint: `${t}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${baseUrl}/${tenantId}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${t}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${baseUrl}/oidc/userinfo`,
    authorization_endpoint: `${t}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${t}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${t}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'tid', 'roles'],
    kerberos_endpoint: `${t}/kerberos`,
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: new URL(baseUrl).host,
    rbac_url: 'https://pas.windows.net',
  };
}

/** The AADSTS-style error body the token endpoint returns. */
export function aadError(error: string, code: number, description: string): Record<string, unknown> {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return {
    error,
    error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  };
}

export interface TokenRequestOutcome {
  status: number;
  body: Record<string, unknown>;
}

/**
 * POST /{tenant}/oauth2/v2.0/token (client credentials only).
 * `resolveTenant` maps a tenant id or domain name to the tenant id, or undefined.
 */
export function issueToken(opts: {
  form: URLSearchParams;
  tenantSegment: string;
  resolveTenant: (idOrDomain: string) => string | undefined;
  app: AppCredentials;
  baseUrl: string;
  roles: string[];
  issuer: TokenIssuer;
  nowSeconds: number;
}): TokenRequestOutcome {
  const { form, app } = opts;
  const tenantId = opts.resolveTenant(opts.tenantSegment);
  if (!tenantId) {
    return { status: 400, body: aadError('invalid_request', 90002, `Tenant '${opts.tenantSegment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`) };
  }
  const grant = form.get('grant_type');
  if (grant !== 'client_credentials') {
    return { status: 400, body: aadError('unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant ?? ''}'.`) };
  }
  const clientId = form.get('client_id');
  if (clientId !== app.clientId) {
    return { status: 400, body: aadError('unauthorized_client', 700016, `Application with identifier '${clientId ?? ''}' was not found in the directory '${tenantId}'.`) };
  }
  if (form.get('client_secret') !== app.clientSecret) {
    return { status: 401, body: aadError('invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`) };
  }
  const scope = (form.get('scope') ?? '').split(' ').find((s) => s.endsWith('/.default'));
  const resource = scope?.slice(0, -'/.default'.length);
  if (!resource || (resource !== opts.baseUrl && resource !== GRAPH_RESOURCE)) {
    return { status: 400, body: aadError('invalid_scope', 1002012, `The provided value for scope ${form.get('scope') ?? ''} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`) };
  }
  const iat = opts.nowSeconds;
  const claims: TokenClaims = {
    aud: resource,
    iss: `https://sts.windows.net/${tenantId}/`,
    iat,
    nbf: iat,
    exp: iat + TOKEN_LIFETIME_SECONDS + 1,
    tid: tenantId,
    appid: app.clientId,
    azp: app.clientId,
    oid: app.clientId,
    sub: app.clientId,
    roles: opts.roles,
    ver: '1.0',
    idtyp: 'app',
  };
  return {
    status: 200,
    body: { token_type: 'Bearer', expires_in: TOKEN_LIFETIME_SECONDS, ext_expires_in: TOKEN_LIFETIME_SECONDS, access_token: opts.issuer.sign(claims) },
  };
}
