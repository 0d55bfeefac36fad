/**
 * Graph faults, injected by the demo tenant's knobs into the real Graph SDK client Vigil uses
 * (middleware chain, pacing, per-attempt read time limit, $batch inner retries):
 *
 * 1. A storm — 429s with and without Retry-After (Conditional Access sends none), 500/502/503/504,
 *    connection resets, answers slower than the time limit, malformed JSON — on every read every
 *    check makes, at top level and inside $batch: every check completes with exactly the findings
 *    it has without faults.
 * 2. A read that keeps failing: exactly the checks that need it are marked incomplete, saying why
 *    (no check reports "pass" for something it could not read); every other check is unchanged.
 */
import { strict as assert } from 'node:assert';
import { CHECKS, CheckRunner } from '../../bot/checks';
import type { CheckResult } from '../../bot/checks/types';
import { DEMO_EXCLUDED_ACCOUNTS } from '../../bot/demo/seed';
import { startDemoTenant, type DemoFault, type DemoTenant } from '../../bot/demo';
import { GraphApi } from '../../bot/graph/api';
import { createCredential, createGraphClient } from '../../bot/graph/client';

/** Per-attempt time limit for reads in these tests (production: 60 s). */
const READ_TIMEOUT_MS = 800;

interface Snapshot {
  status: string;
  findings: string[];
  gaps: string[];
}

function snapshot(r: CheckResult): Snapshot {
  return {
    status: r.status,
    findings: r.findings.map((f) => `${f.severity} ${f.subject.id} ${f.key ?? ''} ${f.detail}`).sort(),
    gaps: r.gaps.map((g) => `${g.what}: ${g.reason}`).sort(),
  };
}

/** "GET /v1.0/users/{id}/authentication/methods", and whether it was inside a $batch. */
interface ReadKey {
  key: string;
  inBatch: boolean;
}

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const keyOf = (r: { method: string; version: string | null; path: string }) => `${r.method} /${r.version}${r.path}`.replace(GUID, '{id}');
/** A fault match for exactly this path shape (the demo's string matches are prefixes). */
const matcher = (key: string) => new RegExp(`^${key.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{id\}/g, '[^/]+')}$`);

describe('faults: Microsoft Graph', function () {
  this.timeout(120_000);
  let demo: DemoTenant;
  let runner: CheckRunner;
  const baseline = new Map<string, Snapshot>();
  /** Which reads each check makes (from the fault-free run). */
  const readsOf = new Map<string, ReadKey[]>();
  let totalInjected = 0;

  before(async () => {
    demo = await startDemoTenant();
    const credential = createCredential({ tenantId: demo.tenantId, clientId: demo.clientId, clientSecret: demo.clientSecret, authorityHost: demo.baseUrl }, demo.caCertPem);
    // The client Vigil builds (connect.ts), with a short read time limit and no first-retry wait.
    const client = createGraphClient({ baseUrl: demo.baseUrl, credential, trustedCaPem: demo.caCertPem, retryDelaySeconds: 0, readTimeoutMs: READ_TIMEOUT_MS });
    const graph = new GraphApi(client, demo.tenantId, { sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))) });
    const excluded = DEMO_EXCLUDED_ACCOUNTS.map((a) => a.toLowerCase());
    runner = new CheckRunner(() => graph, undefined, 0, () => ({ excludedAccounts: excluded, allowedCountries: [], signInLookbackDays: 30 }));
    for (const check of CHECKS) {
      const mark = demo.requests.length;
      baseline.set(check.id, snapshot(await runner.run(check, demo.tenantId, { fresh: true })));
      const keys = new Map<string, ReadKey>();
      for (const r of demo.requests.slice(mark)) {
        if (r.method === 'POST' && /\$batch$/.test(r.path)) continue; // the envelope: its inner reads are listed
        const k = keyOf(r);
        keys.set(`${r.inBatch}|${k}`, { key: k, inBatch: r.inBatch });
      }
      readsOf.set(check.id, [...keys.values()]);
    }
  });

  after(async () => {
    await demo?.close();
    console.log(`      Graph faults injected (and answered by Vigil): ${totalInjected}`);
  });

  async function runAll(): Promise<Map<string, CheckResult>> {
    const results = await Promise.all(CHECKS.map((c) => runner.run(c, demo.tenantId, { fresh: true })));
    return new Map(results.map((r) => [r.id, r]));
  }

  /** Install faults; returns how many were actually served once `done` is called. */
  function inject(faults: DemoFault[]): () => number {
    const before = faults.reduce((n, f) => n + f.count, 0);
    demo.knobs.faults = faults.map((f) => ({ ...f }));
    return () => {
      const left = demo.knobs.faults.reduce((n, f) => n + f.count, 0);
      demo.knobs.faults = [];
      totalInjected += before - left;
      return before - left;
    };
  }

  it('a storm of transient faults on every read: every check completes with the same findings', async () => {
    const all = new Map<string, ReadKey>();
    for (const keys of readsOf.values()) for (const k of keys) all.set(`${k.inBatch}|${k.key}`, k);
    const topLevel: Array<Omit<DemoFault, 'match' | 'count'>> = [
      { kind: 'throttle', retryAfterSeconds: 1 },
      { kind: 'throttle', retryAfterSeconds: null },
      { kind: 'status', status: 500 },
      { kind: 'status', status: 502 },
      { kind: 'status', status: 503 },
      { kind: 'status', status: 504 },
      { kind: 'reset' },
      { kind: 'malformed' },
      { kind: 'slow', delayMs: READ_TIMEOUT_MS * 3 },
    ];
    // Inside a $batch Graph answers per request: throttling, server errors, slowness.
    const inner: Array<Omit<DemoFault, 'match' | 'count'>> = [
      { kind: 'throttle', retryAfterSeconds: 1 },
      { kind: 'throttle', retryAfterSeconds: null },
      { kind: 'status', status: 500 },
      { kind: 'status', status: 503 },
      { kind: 'status', status: 504 },
    ];
    const faults: DemoFault[] = [];
    let i = 0;
    for (const { key, inBatch } of all.values()) {
      const kinds = inBatch ? inner : topLevel;
      // Two faults in a row on every read (the retry meets the second); Conditional Access answers
      // 429 without Retry-After, so that one is played there first.
      const first = /conditionalAccess/.test(key) && !inBatch ? topLevel[1] : kinds[i++ % kinds.length];
      const second = kinds[i++ % kinds.length];
      faults.push({ match: matcher(key), count: 1, inBatch, ...first }, { match: matcher(key), count: 1, inBatch, ...second });
    }
    // And the $batch envelope itself fails now and then.
    faults.push({ match: /^POST \/v1\.0\/\$batch$/, count: 2, kind: 'status', status: 503 }, { match: /^POST \/beta\/\$batch$/, count: 1, kind: 'reset' });
    const done = inject(faults);
    const started = Date.now();
    const results = await runAll();
    const served = done();
    const kinds = new Set(faults.map((f) => `${f.kind}${f.status ? ` ${f.status}` : ''}${f.kind === 'throttle' ? (f.retryAfterSeconds === null ? ' (no Retry-After)' : ' (Retry-After)') : ''}${f.inBatch ? ' in $batch' : ''}`));
    console.log(`      storm: ${served} faults served on ${all.size} reads (${[...kinds].join(', ')}) — all ${CHECKS.length} checks in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.ok(served >= all.size, `faults were served (${served})`);
    assert.equal(kinds.size, topLevel.length + inner.length, 'every kind of fault was played');
    for (const check of CHECKS) assert.deepEqual(snapshot(results.get(check.id)!), baseline.get(check.id), `${check.id}: same result as without faults`);
  });

  it('a read that keeps failing: exactly the checks that need it are incomplete, saying why; the rest unchanged', async () => {
    // Each read every check makes, failing every time it is tried — by turns a 500, a reset,
    // malformed JSON or no answer in time (inside a $batch: a 500 or a 502).
    const all = new Map<string, ReadKey>();
    for (const keys of readsOf.values()) for (const k of keys) all.set(`${k.inBatch}|${k.key}`, k);
    const persistent: Array<Omit<DemoFault, 'match' | 'count'>> = [{ kind: 'status', status: 500 }, { kind: 'reset' }, { kind: 'malformed' }, { kind: 'slow', delayMs: READ_TIMEOUT_MS * 3 }];
    const innerPersistent: Array<Omit<DemoFault, 'match' | 'count'>> = [{ kind: 'status', status: 500 }, { kind: 'status', status: 502 }];
    const problems: string[] = [];
    let n = 0;
    let incomplete = 0;
    let unneeded = 0;
    for (const { key, inBatch } of all.values()) {
      const kind = inBatch ? innerPersistent[n % innerPersistent.length] : persistent[n % persistent.length];
      n++;
      const done = inject([{ match: matcher(key), count: 100_000, inBatch, ...kind }]);
      const results = await runAll();
      done();
      for (const check of CHECKS) {
        const r = results.get(check.id)!;
        const was = baseline.get(check.id)!;
        const now = snapshot(r);
        const needs = readsOf.get(check.id)!.some((k) => k.key === key && k.inBatch === inBatch);
        const where = `${key}${inBatch ? ' (in $batch)' : ''} failing with ${kind.kind}${kind.status ?? ''} → ${check.id}`;
        if (!needs) {
          if (JSON.stringify(now) !== JSON.stringify(was)) problems.push(`${where}: changed although it does not read that`);
          continue;
        }
        const newGaps = r.gaps.filter((g) => !g.informational && !was.gaps.includes(`${g.what}: ${g.reason}`));
        if (r.status === 'unknown' || newGaps.length) incomplete++;
        else if (JSON.stringify(now) === JSON.stringify(was)) unneeded++; // a read the verdict does not rest on (a display name; a value with a sound fallback)
        else problems.push(`${where}: a different answer (${r.status}) without saying what it could not read (${JSON.stringify(now).slice(0, 200)})`);
        if (r.status === 'pass' && was.status !== 'pass') problems.push(`${where}: "pass" for something it could not read`);
        for (const g of newGaps) if (!g.reason || !g.what) problems.push(`${where}: a gap without what/why`);
      }
    }
    console.log(`      ${all.size} reads made to fail persistently: ${incomplete} check results marked incomplete with the reason; ${unneeded} unchanged (the read was not needed for the verdict)`);
    assert.deepEqual(problems, []);
  });

  it('after the faults, a clean run gives the baseline again', async () => {
    const results = await runAll();
    for (const check of CHECKS) assert.deepEqual(snapshot(results.get(check.id)!), baseline.get(check.id), check.id);
  });
});
