/**
 * The Graph app's Entra manifests (infra/entra/graph-app.<profile>.json, applied by aadApp/update in
 * m365agents.yml) declare exactly the application permissions of bot/permissions.ts for that
 * profile, so the Toolkit asks for what Vigil uses — no more, no less.
 * Regenerate after changing a check's reads or a fix's permission: UPDATE_ENTRA=1 npx mocha … this file.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { permissionTable, requiredPermissions, type Profile } from '../../bot/permissions';

const ROOT = path.resolve(__dirname, '..', '..');

export function entraManifest(profile: Profile): Record<string, unknown> {
  const graph = requiredPermissions(profile, 'Microsoft Graph', permissionTable());
  return {
    id: '${{GRAPH_APP_OBJECT_ID}}',
    appId: '${{GRAPH_APP_CLIENT_ID}}',
    name: 'Vigil Graph reader${{APP_NAME_SUFFIX}}',
    accessTokenAcceptedVersion: 2,
    signInAudience: 'AzureADMyOrg',
    optionalClaims: { idToken: [], accessToken: [], saml2Token: [] },
    // Application permissions ("Role"): an administrator grants admin consent once.
    requiredResourceAccess: [{ resourceAppId: 'Microsoft Graph', resourceAccess: graph.map((id) => ({ id, type: 'Role' })) }],
    oauth2Permissions: [],
    preAuthorizedApplications: [],
    identifierUris: [],
    replyUrlsWithType: [],
  };
}

describe('ship: Entra manifests of the Graph app', () => {
  for (const profile of ['full', 'read-only'] as Profile[]) {
    it(`graph-app.${profile}.json declares the ${profile} profile's permissions`, () => {
      const file = path.join(ROOT, 'infra', 'entra', `graph-app.${profile}.json`);
      const expected = entraManifest(profile);
      if (process.env.UPDATE_ENTRA === '1') fs.writeFileSync(file, `${JSON.stringify(expected, null, 2)}\n`);
      const actual = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof expected;
      assert.deepEqual(actual, expected, `${path.relative(ROOT, file)} is out of date: rerun this test with UPDATE_ENTRA=1`);
    });
  }

  it('the read-only manifest has no write permission', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'infra', 'entra', 'graph-app.read-only.json'), 'utf8')) as {
      requiredResourceAccess: Array<{ resourceAccess: Array<{ id: string }> }>;
    };
    const ids = manifest.requiredResourceAccess.flatMap((r) => r.resourceAccess.map((a) => a.id));
    assert.ok(ids.length >= 10);
    assert.deepEqual(ids.filter((id) => /ReadWrite|RevokeSessions|EnableDisableAccount/.test(id)), []);
  });
});
