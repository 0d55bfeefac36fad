/**
 * The permissions table (bot/permissions.ts) and `vigil doctor`:
 * - the table is derived from the checks' reads and the fixes' permissions (nothing retyped);
 * - `vigil doctor --demo` reads the roles of the demo tenant's real access token and is happy;
 * - with `demo.knobs.grantedRoles` lacking a permission it names it, and the features it breaks, and exits 1;
 * - the README's "Permissions" table is the generated one.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CHECKS } from '../../bot/checks';
import { runCli } from '../../bot/cli/main';
import { ALL_PERMISSIONS, startDemoTenant, type DemoTenant } from '../../bot/demo';
import { parseIntent } from '../../bot/chat/intents';
import { allActions } from '../../bot/remediation/catalogue';
import { decodeTokenClaims, diagnose, grantedBy, permissionNames, permissionsMarkdown, permissionTable, requiredPermissions } from '../../bot/permissions';

const ROOT = path.resolve(__dirname, '..', '..');

class Capture {
  text = '';
  isTTY = false;
  write(chunk: string | Uint8Array, cb?: (err?: Error | null) => void): boolean {
    this.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    cb?.();
    return true;
  }
}

describe('ship: permissions table', () => {
  const table = permissionTable();
  const byName = new Map(table.map((r) => [r.permission, r]));

  it("holds every permission named by a check's reads and by a fix", () => {
    for (const check of CHECKS) for (const read of check.reads) for (const p of permissionNames(read.permission)) assert.ok(byName.get(p)?.uses.some((u) => u.kind === 'check' && u.id === check.id), `${check.id}: ${p}`);
    for (const action of allActions()) {
      for (const p of permissionNames(action.permission)) assert.ok(byName.get(p)?.uses.some((u) => u.id === action.id), `${action.id}: ${p}`);
      for (const p of permissionNames(action.readPermission)) assert.ok(byName.get(p)?.uses.some((u) => u.id === action.id), `${action.id}: ${p}`);
    }
  });

  it('classifies read and write; the read-only profile has every read and no write', () => {
    assert.equal(byName.get('Policy.ReadWrite.AuthenticationMethod')?.access, 'write');
    assert.equal(byName.get('User.RevokeSessions.All')?.access, 'write');
    assert.equal(byName.get('User.EnableDisableAccount.All')?.access, 'write');
    // "Policy.ReadWrite.ConditionalAccess (with Policy.Read.All)": the Read one stays a read.
    assert.equal(byName.get('Policy.Read.All')?.access, 'read');
    assert.equal(byName.get('Exchange.ManageAsApp')?.api, 'Office 365 Exchange Online');
    const readOnly = requiredPermissions('read-only');
    assert.ok(readOnly.includes('AuditLog.Read.All') && readOnly.includes('User.Read.All'));
    assert.deepEqual(readOnly.filter((p) => byName.get(p)!.access === 'write'), []);
    assert.ok(requiredPermissions('full').length > readOnly.length);
    assert.ok(!requiredPermissions('full').includes('Exchange.ManageAsApp'), 'Exchange is another API (its own token)');
  });

  it('a broader permission satisfies a narrower one', () => {
    assert.equal(grantedBy('User.Read.All', new Set(['User.ReadWrite.All'])), 'User.ReadWrite.All');
    assert.equal(grantedBy('User.Read.All', new Set(['Directory.Read.All'])), 'Directory.Read.All');
    assert.equal(grantedBy('AuditLog.Read.All', new Set(['Directory.Read.All'])), undefined);
    const d = diagnose(['Directory.ReadWrite.All', 'Policy.ReadWrite.AuthenticationMethod'], 'read-only');
    assert.ok(d.excessWrites.includes('Policy.ReadWrite.AuthenticationMethod'));
  });

  it('the README "Permissions" section shows the generated table', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.split(/^## Permissions$/m)[1]?.split(/^## /m)[0] ?? '';
    assert.ok(section.includes(permissionsMarkdown(table)), 'README "## Permissions" is out of date: paste permissionsMarkdown() (npx tsx -e "console.log(require(\'./bot/permissions\').permissionsMarkdown())")');
  });

  it('"doctor" in chat is an intent', () => {
    for (const text of ['doctor', 'Doctor?', 'run the doctor', 'vigil doctor', 'check your permissions', 'what permissions are missing']) assert.deepEqual(parseIntent(text), { kind: 'doctor' }, text);
  });
});

describe('ship: vigil doctor', function () {
  this.timeout(60_000);
  let demo: DemoTenant;
  before(async () => {
    demo = await startDemoTenant();
  });
  after(async () => demo.close());
  afterEach(() => demo.reset());

  async function doctor(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await runCli({ argv: ['doctor', ...argv], env: {}, cwd: ROOT, stdout, stderr, demoTenant: demo });
    return { code, out: stdout.text, err: stderr.text };
  }

  it('is happy with the demo tenant: every permission in the token roles', async () => {
    const { code, out } = await doctor('--demo');
    assert.equal(code, 0, out);
    const needed = requiredPermissions('full').length;
    assert.match(out, new RegExp(`Permissions  ${needed} of ${needed} granted`));
    assert.match(out, /Credential {3}demo tenant app/);
    assert.match(out, /^OK: every permission this install needs is granted\.$/m);
    assert.doesNotMatch(out, /eyJ/, 'the token is never printed');
  });

  it("reports a missing permission when the demo's token lacks one, with the features it breaks", async () => {
    demo.knobs.grantedRoles = ALL_PERMISSIONS.filter((r) => r !== 'Policy.ReadWrite.AuthenticationMethod');
    const { code, out } = await doctor('--demo');
    assert.equal(code, 1, out);
    assert.match(out, /^ {2}- Policy\.ReadWrite\.AuthenticationMethod \(write\): fix mfa\.require \(Require MFA\)$/m);
    assert.match(out, /NOT OK: 1 permission missing/);
  });

  it('a read-only install does not need write permissions, but does need every read', async () => {
    demo.knobs.grantedRoles = ALL_PERMISSIONS.filter((r) => !/ReadWrite|RevokeSessions|EnableDisableAccount/.test(r));
    assert.equal((await doctor('--demo', '--profile', 'read-only')).code, 0);
    assert.equal((await doctor('--demo')).code, 1, 'the full profile misses the writes');
    demo.knobs.grantedRoles = ALL_PERMISSIONS.filter((r) => r !== 'AuditLog.Read.All' && !/ReadWrite/.test(r));
    const { code, out } = await doctor('--demo', '--profile', 'read-only');
    assert.equal(code, 1);
    assert.match(out, /- AuditLog\.Read\.All \(read\): check auth\.methods/);
  });

  it('--json gives the same diagnosis, machine-readable', async () => {
    demo.knobs.grantedRoles = ALL_PERMISSIONS.filter((r) => !r.startsWith('SecurityEvents.'));
    const { code, out } = await doctor('--demo', '--json');
    assert.equal(code, 1);
    const report = JSON.parse(out) as { ok: boolean; diagnosis: { missing: Array<{ permission: string }>; granted: string[] } };
    assert.equal(report.ok, false);
    assert.deepEqual(report.diagnosis.missing.map((m) => m.permission), ['SecurityEvents.Read.All']);
    assert.ok(!report.diagnosis.granted.includes('SecurityEvents.Read.All'));
  });

  it('without configuration it says what to set (or --demo), exit 2', async () => {
    const { code, err } = await doctor();
    assert.equal(code, 2);
    assert.match(err, /no Graph app is configured .*--demo/);
    assert.equal((await doctor('--profile', 'everything')).code, 2);
  });

  it('runs as `npx vigil doctor --demo` (bin/vigil.js, its own process and demo tenant)', () => {
    const res = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'vigil.js'), 'doctor', '--demo'], { cwd: ROOT, encoding: 'utf8', timeout: 50_000, env: { ...process.env, AZURE_CLIENT_ID: '' } });
    assert.equal(res.status, 0, res.stderr + res.stdout);
    assert.match(res.stdout, /OK: every permission/);
    const help = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'vigil.js'), '--help'], { cwd: ROOT, encoding: 'utf8' });
    assert.match(help.stdout + help.stderr, /doctor/);
  });

  it('decodes the roles of a JWT without verifying it', () => {
    const jwt = `e30.${Buffer.from(JSON.stringify({ roles: ['A.Read.All'] })).toString('base64url')}.x`;
    assert.deepEqual(decodeTokenClaims(jwt).roles, ['A.Read.All']);
  });
});
