/**
 * The `vigil` command line: every format, --checks, --tenant, --fail-on exit codes, the JSON
 * contract validated against its schema, the progress bar, configuration from the environment and
 * .env — mostly in-process (fast, one shared demo tenant), and then for real: `npx vigil audit
 * --demo …` spawned from the repository root with no configuration at all.
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CHECKS } from '../../bot/checks';
import type { Check, CheckStatus, Finding } from '../../bot/checks/types';
import { runCli, type CliIO } from '../../bot/cli/main';
import { ProgressBar } from '../../bot/cli/progress';
import { DEMO_TENANT_ID, startDemoTenant, type DemoTenant } from '../../bot/demo';
import type { AuditReportV1 } from '../../bot/report/contract';
import { CONTRACT_CHECK_IDS, ROOT, validateAuditReport } from '../report/tools';

class Capture {
  readonly chunks: Buffer[] = [];
  constructor(
    public isTTY = false,
    public columns = 100,
  ) {}
  write(chunk: string | Uint8Array, cb?: (err?: Error | null) => void): boolean {
    this.chunks.push(Buffer.from(chunk));
    cb?.();
    return true;
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
  get text(): string {
    return this.bytes.toString('utf8');
  }
}

/** Environment with no Vigil configuration at all (whatever the developer's shell holds). */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(AZURE_|BOT_|GRAPH_|REPORT_|PUBLIC_|DATABASE_URL|DATA_DIR|NODE_ENV|EXCLUDED_|ALLOWED_|SIGNIN_|EXCHANGE_|DEMO_|SCAN_|TENANTS_FILE|APPROVER|REMEDIATION|HIGH_RISK)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function spawnAsync(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** A check that needs no Graph: a fixed verdict (for --fail-on). */
function fixedCheck(id: string, status: CheckStatus, severity: Finding['severity'] = 'high'): Check {
  return {
    id,
    title: `Fixed ${id}`,
    why: 'Test',
    ask: id,
    questions: [],
    reads: [{ request: 'GET /nothing', permission: 'None' }],
    read: async () => undefined,
    evaluate: (_r, now) => ({
      id,
      title: `Fixed ${id}`,
      status,
      reason: `${id} is ${status}`,
      findings: status === 'pass' ? [] : [{ severity, subject: { id: `${id}-who`, displayName: 'Someone' }, detail: 'd', remediation: null }],
      gaps: [],
      data: undefined,
      generatedAt: now.toISOString(),
    }),
  };
}

describe('vigil command line', function () {
  this.timeout(180_000);
  let demo: DemoTenant;
  let tmp: string;

  before(async () => {
    demo = await startDemoTenant();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-cli-'));
  });
  after(async () => {
    await demo?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function run(argv: string[], opts: Partial<CliIO> & { tty?: boolean } = {}): Promise<{ code: number; stdout: Capture; stderr: Capture }> {
    const stdout = new Capture(opts.tty ?? false);
    const stderr = new Capture(opts.tty ?? false);
    const code = await runCli({ argv, env: opts.env ?? cleanEnv(), cwd: opts.cwd ?? tmp, stdout, stderr, demoTenant: opts.demoTenant ?? demo, registry: opts.registry });
    return { code, stdout, stderr };
  }

  describe('formats', () => {
    it('json: the versioned contract, valid against its schema, with every registered check', async () => {
      const { code, stdout, stderr } = await run(['audit', '--demo', '--format', 'json']);
      assert.equal(code, 0, stderr.text);
      const report = JSON.parse(stdout.text) as AuditReportV1;
      assert.deepEqual(validateAuditReport(report), []);
      assert.equal(report.schemaVersion, 1);
      assert.equal(report.tenantId, DEMO_TENANT_ID);
      assert.equal(report.tenantName, 'Northwind Dental Care');
      assert.deepEqual(report.checks.map((c) => c.id), CHECKS.map((c) => c.id));
      for (const c of report.checks) assert.ok(CONTRACT_CHECK_IDS.includes(c.id), `${c.id} is one of the documented ids`);
      assert.equal(stderr.text, '', 'nothing on stderr when it is not a terminal');
    });

    it('table: grade, one line per check, top findings, what could not be checked', async () => {
      const { code, stdout } = await run(['audit', '--demo']);
      assert.equal(code, 0);
      const text = stdout.text;
      assert.match(text, /^Northwind Dental Care {2}\(northwinddental\.co\.uk, /);
      assert.match(text, /\nGrade [A-F]: /);
      for (const c of CHECKS) assert.match(text, new RegExp(`\\b${c.id.replace('.', '\\.')}\\b`), c.id);
      assert.match(text, /\nTop findings\n/);
      assert.match(text, /\nWhat Vigil could not check\n/);
      assert.ok(!text.includes('\x1b['), 'no colour codes when not a terminal');
    });

    it('csv: one row per finding, no byte-order mark (for scripts)', async () => {
      const json = JSON.parse((await run(['audit', '--demo', '--format', 'json'])).stdout.text) as AuditReportV1;
      const { code, stdout } = await run(['audit', '--demo', '--format', 'csv']);
      assert.equal(code, 0);
      assert.ok(stdout.text.startsWith('check_id,check_title,rating,severity,'));
      const rows = stdout.text.trimEnd().split('\r\n');
      // Details never contain line breaks in the demo, so lines are rows.
      assert.equal(rows.length - 1, json.checks.reduce((n, c) => n + c.findings.length, 0));
    });

    it('pdf: written to --out with a summary line, and refused on a terminal without --out', async () => {
      const out = path.join(tmp, 'sub', 'report.pdf');
      const { code, stderr } = await run(['audit', '--demo', '--format', 'pdf', '--out', out]);
      assert.equal(code, 0, stderr.text);
      assert.equal(fs.readFileSync(out).subarray(0, 5).toString(), '%PDF-');
      assert.match(stderr.text, /^Wrote .*report\.pdf \([12] pages?, \d+ KB\) for Northwind Dental Care: \d+ checks in \d+\.\d\d s \(after connecting in \d+\.\d\d s\), PDF in \d+\.\d\d s\. Grade [A-F]/);
      const tty = await run(['audit', '--demo', '--format', 'pdf'], { tty: true });
      assert.equal(tty.code, 2);
      assert.match(tty.stderr.text, /a PDF is binary; give --out/);
    });

    it('--checks runs only those checks, in registry order', async () => {
      const { code, stdout } = await run(['audit', '--demo', '--format', 'json', '--checks', `${CHECKS.at(-1)!.id},mfa.registration`]);
      assert.equal(code, 0);
      assert.deepEqual((JSON.parse(stdout.text) as AuditReportV1).checks.map((c) => c.id), ['mfa.registration', CHECKS.at(-1)!.id]);
    });
  });

  describe('usage errors exit with 2 and say what is wrong', () => {
    const cases: Array<[string[], RegExp]> = [
      [['audit', '--demo', '--checks', 'mfa.registration,nope'], /Unknown check: nope\. Known checks: .*\bmfa\.registration\b/],
      [['audit', '--demo', '--format', 'xml'], /--format must be one of table, json, csv, pdf/],
      [['audit', '--demo', '--fail-on', 'purple'], /--fail-on must be red or amber/],
      [['audit', '--demo', '--bogus'], /Unknown option '--bogus'/],
      [['audit', '--demo', '--tenant', 'Contoso'], /no tenant called "Contoso"/],
      [['frobnicate'], /unknown command "frobnicate"/],
    ];
    for (const [argv, message] of cases) {
      it(argv.join(' '), async () => {
        const { code, stderr } = await run(argv);
        assert.equal(code, 2);
        assert.match(stderr.text, message);
      });
    }

    it('without --demo and without Graph credentials it refuses (a pipeline never audits the demo by mistake)', async () => {
      const { code, stderr, stdout } = await run(['audit', '--format', 'json']);
      assert.equal(code, 2);
      assert.match(stderr.text, /no tenant is configured\. Set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET/);
      assert.equal(stdout.text, '');
    });

    it('bad configuration, from the environment or .env, is one line per value', async () => {
      const dir = fs.mkdtempSync(path.join(tmp, 'dotenv-'));
      fs.writeFileSync(path.join(dir, '.env'), 'REPORT_LINK_MINUTES=soon\nLOG_LEVEL=loud\n');
      const { code, stderr } = await run(['audit', '--demo'], { cwd: dir });
      assert.equal(code, 2);
      assert.match(stderr.text, /REPORT_LINK_MINUTES: must be a number of minutes/);
      assert.match(stderr.text, /LOG_LEVEL: must be one of/);
      const fixed = await run(['audit', '--demo', '--checks', 'mfa.registration'], { cwd: dir, env: cleanEnv({ REPORT_LINK_MINUTES: '5', LOG_LEVEL: 'info' }) });
      assert.equal(fixed.code, 0, 'the environment wins over .env');
    });

    it('--help and vigil --help print usage and exit 0', async () => {
      const a = await run(['audit', '--help']);
      assert.equal(a.code, 0);
      assert.match(a.stdout.text, /Usage: vigil audit \[options\]/);
      assert.match(a.stdout.text, /--fail-on <red\|amber>/);
      const b = await run(['--help']);
      assert.equal(b.code, 0);
      assert.match(b.stdout.text, /Commands:\n {2}audit/);
    });
  });

  describe('--fail-on gates a pipeline', () => {
    const green = fixedCheck('t.green', 'pass');
    const amber = fixedCheck('t.amber', 'warn');
    const red = fixedCheck('t.red', 'fail');
    const info = fixedCheck('t.info', 'fail', 'info');
    const cases: Array<[string, Check[], string[], number]> = [
      ['all green, --fail-on amber → 0', [green, info], ['--fail-on', 'amber'], 0],
      ['amber, --fail-on red → 0', [green, amber], ['--fail-on', 'red'], 0],
      ['amber, --fail-on amber → 1', [green, amber], ['--fail-on', 'amber'], 1],
      ['red, --fail-on red → 1', [green, red], ['--fail-on', 'red'], 1],
      ['red, --fail-on amber → 1', [red], ['--fail-on', 'amber'], 1],
      ['red without --fail-on → 0', [red], [], 0],
      ['informational only is never red: --fail-on red → 0', [info], ['--fail-on', 'red'], 0],
    ];
    for (const [name, registry, flags, expected] of cases) {
      it(name, async () => {
        const { code, stderr } = await run(['audit', '--demo', '--format', 'json', ...flags], { registry });
        assert.equal(code, expected, stderr.text);
      });
    }

    it('on the demo tenant (which has red findings) --fail-on red exits 1 and still prints the report', async () => {
      const { code, stdout } = await run(['audit', '--demo', '--format', 'json', '--fail-on', 'red']);
      assert.equal(code, 1);
      assert.deepEqual(validateAuditReport(JSON.parse(stdout.text)), []);
    });
  });

  describe('--tenant', () => {
    it('accepts the tenant by name or verified domain', async () => {
      for (const spec of ['Northwind Dental Care', 'northwind', 'northwinddental.co.uk', DEMO_TENANT_ID]) {
        const { code, stdout, stderr } = await run(['audit', '--demo', '--format', 'json', '--checks', 'mfa.registration', '--tenant', spec]);
        assert.equal(code, 0, `${spec}: ${stderr.text}`);
        assert.equal((JSON.parse(stdout.text) as AuditReportV1).tenantId, DEMO_TENANT_ID, spec);
      }
    });

    it('an id Graph does not know exits with 3 (could not reach that tenant)', async () => {
      const { code, stderr } = await run(['audit', '--demo', '--tenant', '00000000-0000-4000-8000-00000000dead', '--checks', 'mfa.registration']);
      assert.equal(code, 3);
      assert.match(stderr.text, /could not reach Microsoft Graph/);
    });
  });

  describe('progress bar', () => {
    it('draws on an interactive stderr and clears itself', () => {
      const err = new Capture(true, 80);
      const bar = new ProgressBar(err, true);
      bar.update(3, 12, 'mail.forwarding');
      bar.clear();
      assert.equal(err.text, '\r\x1b[2KAuditing ██████░░░░░░░░░░░░░░░░░░ 3/12 mail.forwarding\r\x1b[2K');
    });

    it('appears during a run only when stderr is a terminal, and stdout stays clean', async () => {
      const tty = await run(['audit', '--demo', '--format', 'json'], { tty: true });
      assert.match(tty.stderr.text, /Auditing [█░]+ \d+\/\d+ /);
      assert.ok(tty.stderr.text.endsWith('\r\x1b[2K'), 'cleared at the end');
      assert.deepEqual(validateAuditReport(JSON.parse(tty.stdout.text)), []);
      const piped = await run(['audit', '--demo', '--format', 'json']);
      assert.ok(!piped.stderr.text.includes('Auditing'));
    });
  });

  describe('for real, as a newcomer runs it from the repository root', () => {
    const npx = (args: string[], env: NodeJS.ProcessEnv = cleanEnv()) =>
      spawnSync('npx', ['--no', 'vigil', ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000, maxBuffer: 32 * 1024 * 1024 });

    it('`npx vigil audit --demo --format json` works with no configuration and prints valid JSON', () => {
      const res = npx(['audit', '--demo', '--format', 'json']);
      assert.equal(res.status, 0, res.stderr);
      const report = JSON.parse(res.stdout) as AuditReportV1;
      assert.deepEqual(validateAuditReport(report), []);
      assert.equal(report.tenantName, 'Northwind Dental Care');
      assert.ok(!/Auditing/.test(res.stderr), 'no progress bar when stderr is not a terminal');
    });

    it('`npx vigil audit --demo --format pdf --out report.pdf` writes the report', () => {
      const out = path.join(tmp, 'npx-report.pdf');
      const res = npx(['audit', '--demo', '--format', 'pdf', '--out', out]);
      assert.equal(res.status, 0, res.stderr);
      assert.equal(fs.readFileSync(out).subarray(0, 5).toString(), '%PDF-');
      assert.match(res.stderr, /Wrote .* for Northwind Dental Care/);
    });

    it('`npx vigil audit --demo --fail-on red` exits 1 on the demo tenant', () => {
      const res = npx(['audit', '--demo', '--fail-on', 'red', '--checks', 'mfa.registration']);
      assert.equal(res.status, 1, res.stderr);
      assert.match(res.stdout, /Danger +mfa\.registration/);
    });

    it('honours GRAPH_BASE_URL and AZURE_AUTHORITY_HOST exactly as the bot does (a real configuration, no --demo)', async () => {
      const ca = path.join(tmp, 'demo-ca.pem');
      fs.writeFileSync(ca, demo.caCertPem);
      const before = demo.requests.length;
      // Asynchronous: the demo tenant answering it runs in this process.
      const res = await spawnAsync(process.execPath, [path.join(ROOT, 'bin', 'vigil.js'), 'audit', '--format', 'json', '--checks', 'mfa.registration'], {
        cwd: tmp,
        env: cleanEnv({
          AZURE_TENANT_ID: demo.tenantId,
          AZURE_CLIENT_ID: demo.clientId,
          AZURE_CLIENT_SECRET: demo.clientSecret,
          GRAPH_BASE_URL: demo.baseUrl,
          AZURE_AUTHORITY_HOST: demo.baseUrl,
          // The demo tenant's throwaway certificate, trusted for this process only.
          NODE_EXTRA_CA_CERTS: ca,
        }),
      });
      assert.equal(res.status, 0, res.stderr);
      assert.equal((JSON.parse(res.stdout) as AuditReportV1).tenantId, DEMO_TENANT_ID);
      assert.ok(demo.requests.length > before, 'the Graph reads went to GRAPH_BASE_URL');
    });
  });
});
