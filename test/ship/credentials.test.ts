/**
 * Graph credentials, selected by configuration as @azure/identity documents them:
 *   AZURE_MANAGED_IDENTITY=system|user-assigned  → ManagedIdentityCredential (user-assigned: AZURE_CLIENT_ID)
 *   AZURE_FEDERATED_TOKEN_FILE                   → WorkloadIdentityCredential (workload identity federation)
 *   AZURE_CLIENT_CERTIFICATE_PATH (PEM)          → ClientCertificateCredential
 *   AZURE_CLIENT_SECRET                          → ClientSecretCredential
 * Each is exercised for real against local stand-ins: a small HTTPS Entra token endpoint (what the
 * client sends: the federated token as client_assertion, a certificate-signed assertion, a secret)
 * and App Service's managed identity endpoint (IDENTITY_ENDPOINT / IDENTITY_HEADER).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { ClientCertificateCredential, ClientSecretCredential, ManagedIdentityCredential, WorkloadIdentityCredential } from '@azure/identity';
import { generate } from 'selfsigned';
import { ConfigError, loadConfig, type GraphCredentialConfig } from '../../bot/config';
import { createCredential, credentialKind } from '../../bot/graph/client';
import { decodeTokenClaims } from '../../bot/permissions';

const TENANT = '7f1c0a2e-4b6d-4e8f-9a1b-2c3d4e5f6a7b';
const CLIENT = 'b5a6c1d2-3e4f-4a5b-8c6d-7e8f9a0b1c2d';
const OTHER_TENANT = '0a0b0c0d-1111-4222-8333-444455556666';

function unsignedJwt(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.sig`;
}

function configError(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems.join('\n');
  }
  assert.fail('expected a configuration error');
}

describe('ship: Graph credentials', function () {
  this.timeout(30_000);

  describe('selection by configuration', () => {
    const base = { AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT };

    it('client secret (the existing variables keep working)', () => {
      const c = loadConfig({ ...base, AZURE_CLIENT_SECRET: 's3cret' }).graph.credential!;
      assert.equal(credentialKind(c), 'secret');
      assert.ok(createCredential(c) instanceof ClientSecretCredential);
    });

    it('client certificate (PEM) — wins over a secret, as before', () => {
      const c = loadConfig({ ...base, AZURE_CLIENT_CERTIFICATE_PATH: '/certs/vigil.pem', AZURE_CLIENT_SECRET: 's3cret' }).graph.credential!;
      assert.equal(credentialKind(c), 'certificate');
      assert.ok(createCredential(c) instanceof ClientCertificateCredential);
    });

    it('workload identity federation (AZURE_FEDERATED_TOKEN_FILE)', () => {
      const c = loadConfig({ ...base, AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/tokens/azure-identity-token' }).graph.credential!;
      assert.equal(credentialKind(c), 'workload-identity');
      assert.ok(createCredential(c) instanceof WorkloadIdentityCredential);
    });

    it('managed identity, system-assigned (no AZURE_CLIENT_ID: not the demo tenant)', () => {
      const config = loadConfig({ AZURE_TENANT_ID: TENANT, AZURE_MANAGED_IDENTITY: 'system' });
      assert.equal(config.demo, false);
      assert.equal(credentialKind(config.graph.credential!), 'managed-identity-system');
      assert.ok(createCredential(config.graph.credential!) instanceof ManagedIdentityCredential);
    });

    it('managed identity, user-assigned (AZURE_CLIENT_ID names it)', () => {
      const c = loadConfig({ ...base, AZURE_MANAGED_IDENTITY: 'User-Assigned' }).graph.credential!;
      assert.equal(credentialKind(c), 'managed-identity-user');
      assert.ok(createCredential(c) instanceof ManagedIdentityCredential);
    });

    it('AZURE_MANAGED_IDENTITY=off (or empty) is no managed identity', () => {
      assert.equal(loadConfig({ AZURE_MANAGED_IDENTITY: 'off' }).demo, true);
      assert.equal(loadConfig({ ...base, AZURE_CLIENT_SECRET: 'x', AZURE_MANAGED_IDENTITY: 'off' }).graph.credential!.managedIdentity, undefined);
    });

    it('bad combinations stop start-up with one line each', () => {
      assert.match(configError({ ...base }), /^AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH: one is required when AZURE_CLIENT_ID is set/);
      assert.match(configError({ ...base, AZURE_CLIENT_SECRET: 'x', AZURE_FEDERATED_TOKEN_FILE: '/t' }), /set one kind of Graph credential only, not AZURE_CLIENT_SECRET\/AZURE_CLIENT_CERTIFICATE_PATH and AZURE_FEDERATED_TOKEN_FILE/);
      assert.match(configError({ ...base, AZURE_MANAGED_IDENTITY: 'system', AZURE_CLIENT_SECRET: 'x' }), /set one kind of Graph credential only/);
      assert.match(configError({ AZURE_TENANT_ID: TENANT, AZURE_MANAGED_IDENTITY: 'user-assigned' }), /^AZURE_CLIENT_ID: required when AZURE_MANAGED_IDENTITY=user-assigned/);
      assert.match(configError({ AZURE_MANAGED_IDENTITY: 'system' }), /^AZURE_TENANT_ID: required when AZURE_MANAGED_IDENTITY is set/);
      assert.match(configError({ AZURE_MANAGED_IDENTITY: 'yes' }), /^AZURE_MANAGED_IDENTITY: must be system, user-assigned or off/);
      for (const problem of configError({ ...base, AZURE_CLIENT_SECRET: 'x', AZURE_FEDERATED_TOKEN_FILE: '/t' }).split('\n')) assert.ok(!problem.includes('\n'));
    });

    it('a managed identity refuses tokens for another tenant (MSP mode needs an app credential)', async () => {
      const c = loadConfig({ AZURE_TENANT_ID: TENANT, AZURE_MANAGED_IDENTITY: 'system' }).graph.credential!;
      const other = createCredential({ ...c, tenantId: OTHER_TENANT });
      await assert.rejects(other.getToken('https://graph.microsoft.com/.default'), /managed identity cannot get tokens for tenant 0a0b0c0d/);
    });
  });

  describe('token requests against local stand-ins', () => {
    let tmp: string;
    let authority: https.Server;
    let authorityUrl: string;
    let caPem: string;
    const forms: URLSearchParams[] = [];

    before(async () => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-cred-'));
      const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
        keySize: 2048,
        algorithm: 'sha256',
        extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
      });
      caPem = pems.cert;
      // A minimal Entra token endpoint: discovery + client credentials, recording each token request.
      authority = https.createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          const url = new URL(req.url ?? '/', authorityUrl);
          const json = (status: number, o: unknown) => {
            res.writeHead(status, { 'content-type': 'application/json' });
            res.end(JSON.stringify(o));
          };
          const oidc = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(url.pathname);
          if (oidc) {
            const t = oidc[1];
            return json(200, {
              token_endpoint: `${authorityUrl}/${t}/oauth2/v2.0/token`,
              issuer: `${authorityUrl}/${t}/v2.0`,
              authorization_endpoint: `${authorityUrl}/${t}/oauth2/v2.0/authorize`,
              jwks_uri: `${authorityUrl}/${t}/discovery/v2.0/keys`,
            });
          }
          if (/\/oauth2\/v2\.0\/token$/.test(url.pathname)) {
            const form = new URLSearchParams(body);
            forms.push(form);
            const access = unsignedJwt({ aud: 'https://graph.microsoft.com', tid: TENANT, appid: CLIENT, roles: ['User.Read.All'], exp: Math.floor(Date.now() / 1000) + 3600 });
            return json(200, { token_type: 'Bearer', expires_in: 3600, ext_expires_in: 3600, access_token: access });
          }
          json(404, { error: 'not_found' });
        });
      });
      await new Promise<void>((r) => authority.listen(0, '127.0.0.1', () => r()));
      authorityUrl = `https://127.0.0.1:${(authority.address() as AddressInfo).port}`;
    });

    after(async () => {
      await new Promise<void>((r) => authority.close(() => r()));
      fs.rmSync(tmp, { recursive: true, force: true });
    });

    const cfg = (extra: Partial<GraphCredentialConfig>): GraphCredentialConfig => ({ tenantId: TENANT, clientId: CLIENT, authorityHost: authorityUrl, ...extra });

    it('workload identity federation sends the content of the federated token file as client_assertion', async () => {
      const tokenFile = path.join(tmp, 'azure-identity-token');
      fs.writeFileSync(tokenFile, 'federated-token-1');
      const credential = createCredential(cfg({ federatedTokenFile: tokenFile }), caPem);
      const token = await credential.getToken('https://graph.microsoft.com/.default');
      assert.deepEqual(decodeTokenClaims(token!.token).roles, ['User.Read.All']);
      const form = forms.at(-1)!;
      assert.equal(form.get('grant_type'), 'client_credentials');
      assert.equal(form.get('client_id'), CLIENT);
      assert.equal(form.get('client_assertion_type'), 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      assert.equal(form.get('client_assertion'), 'federated-token-1');
      assert.equal(form.get('client_secret'), null);
    });

    it('a client certificate (PEM) signs the client assertion with its key (x5t of the certificate)', async () => {
      const pems = await generate([{ name: 'commonName', value: 'vigil-graph' }], { keySize: 2048, algorithm: 'sha256' });
      const pemFile = path.join(tmp, 'vigil.pem');
      fs.writeFileSync(pemFile, `${pems.private}\n${pems.cert}`);
      const credential = createCredential(cfg({ certificatePath: pemFile }), caPem);
      await credential.getToken('https://graph.microsoft.com/.default');
      const form = forms.at(-1)!;
      assert.equal(form.get('client_assertion_type'), 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      const [header, claims] = form.get('client_assertion')!.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>);
      assert.equal(header.alg, 'PS256');
      assert.ok(header.x5t || header['x5t#S256'], 'the assertion names the certificate');
      assert.equal(claims.iss, CLIENT);
      assert.equal(claims.sub, CLIENT);
    });

    it('a client secret is sent as client_secret', async () => {
      const credential = createCredential(cfg({ clientSecret: 'graph-app-secret' }), caPem);
      await credential.getToken('https://graph.microsoft.com/.default');
      assert.equal(forms.at(-1)!.get('client_secret'), 'graph-app-secret');
    });

    describe('managed identity on App Service (IDENTITY_ENDPOINT / IDENTITY_HEADER)', () => {
      let msi: http.Server;
      const seen: Array<{ url: URL; header?: string }> = [];
      const saved = { endpoint: process.env.IDENTITY_ENDPOINT, header: process.env.IDENTITY_HEADER };

      before(async () => {
        msi = http.createServer((req, res) => {
          const url = new URL(req.url ?? '/', 'http://127.0.0.1');
          seen.push({ url, header: req.headers['x-identity-header'] as string | undefined });
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              access_token: unsignedJwt({ aud: url.searchParams.get('resource'), tid: TENANT, roles: ['AuditLog.Read.All'] }),
              expires_on: String(Math.floor(Date.now() / 1000) + 3600),
              resource: url.searchParams.get('resource'),
              token_type: 'Bearer',
            }),
          );
        });
        await new Promise<void>((r) => msi.listen(0, '127.0.0.1', () => r()));
        process.env.IDENTITY_ENDPOINT = `http://127.0.0.1:${(msi.address() as AddressInfo).port}/msi/token`;
        process.env.IDENTITY_HEADER = 'app-service-secret-header';
      });

      after(async () => {
        if (saved.endpoint === undefined) delete process.env.IDENTITY_ENDPOINT;
        else process.env.IDENTITY_ENDPOINT = saved.endpoint;
        if (saved.header === undefined) delete process.env.IDENTITY_HEADER;
        else process.env.IDENTITY_HEADER = saved.header;
        await new Promise<void>((r) => msi.close(() => r()));
      });

      it('user-assigned: asks for the Graph resource with the identity\'s client id', async () => {
        const c = loadConfig({ AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT, AZURE_MANAGED_IDENTITY: 'user-assigned' }).graph.credential!;
        const token = await createCredential(c).getToken('https://graph.microsoft.com/.default');
        assert.deepEqual(decodeTokenClaims(token!.token).roles, ['AuditLog.Read.All']);
        const req = seen.at(-1)!;
        assert.equal(req.header, 'app-service-secret-header');
        assert.equal(req.url.searchParams.get('resource'), 'https://graph.microsoft.com');
        assert.equal(req.url.searchParams.get('client_id'), CLIENT);
      });

      it('system-assigned: no client id', async () => {
        const c = loadConfig({ AZURE_TENANT_ID: TENANT, AZURE_MANAGED_IDENTITY: 'system' }).graph.credential!;
        await createCredential(c).getToken('https://graph.microsoft.us/.default');
        const req = seen.at(-1)!;
        assert.equal(req.url.searchParams.get('resource'), 'https://graph.microsoft.us');
        assert.equal(req.url.searchParams.get('client_id'), null);
      });
    });
  });
});
