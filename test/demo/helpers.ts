/**
 * Test helpers: the REAL clients Vigil uses (ClientSecretCredential + Graph SDK),
 * trusting the demo tenant's certificate for these clients only — never
 * NODE_TLS_REJECT_UNAUTHORIZED.
 */
import https from 'node:https';
import { ClientSecretCredential } from '@azure/identity';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { Client } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import { Agent as UndiciAgent } from 'undici';
import type { DemoTenant } from '../../bot/demo';

/** @azure/core-rest-pipeline's Node client honours `request.agent`: set it per request. */
export function trustPolicy(caPem: string): PipelinePolicy {
  const agent = new https.Agent({ ca: caPem, keepAlive: true });
  return {
    name: 'demoTrust',
    sendRequest(request, next) {
      request.agent = agent;
      return next(request);
    },
  };
}

export function credentialFor(demo: DemoTenant, secret = demo.clientSecret, tenantId = demo.tenantId): ClientSecretCredential {
  return new ClientSecretCredential(tenantId, demo.clientId, secret, {
    authorityHost: demo.baseUrl,
    disableInstanceDiscovery: true,
    additionallyAllowedTenants: ['*'],
    additionalPolicies: [{ policy: trustPolicy(demo.caCertPem), position: 'perCall' }],
  });
}

/**
 * The Graph SDK calls the global fetch (undici in Node ≥ 18), which ignores `agent`:
 * the CA goes in an undici dispatcher passed through fetchOptions.
 */
export function graphClientFor(demo: DemoTenant, credential = credentialFor(demo)): Client {
  return Client.initWithMiddleware({
    authProvider: new TokenCredentialAuthenticationProvider(credential, { scopes: [`${demo.baseUrl}/.default`] }),
    baseUrl: `${demo.baseUrl}/`,
    customHosts: new Set([new URL(demo.baseUrl).hostname]),
    fetchOptions: { dispatcher: new UndiciAgent({ connect: { ca: demo.caCertPem } }) } as unknown as RequestInit,
  });
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** A bare HTTPS call, for checking exact status codes, headers and bodies. */
export function raw(demo: DemoTenant, method: string, path: string, opts: { token?: string; headers?: Record<string, string>; body?: unknown; form?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const body = opts.form ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (body !== undefined) headers['content-type'] = opts.form ? 'application/x-www-form-urlencoded' : 'application/json';
    const req = https.request(`${demo.baseUrl}${path}`, { method, headers, ca: demo.caCertPem }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: any;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export function decodeJwt(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}
