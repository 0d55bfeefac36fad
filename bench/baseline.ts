/**
 * Child process: the baseline — what common audit scripts do (Get-MgUser -All, then per user
 * Get-MgUserAuthenticationMethod and per mailbox Get-InboxRule): list users, then one request
 * per user for their authentication methods and one per mailbox for its inbox rules, no
 * batching. It gets the same Graph SDK client as Vigil minus pacing (the SDK's RetryHandler
 * still honours Retry-After, as the PowerShell SDK does), and — generously — a parallel
 * per-user phase (`ForEach-Object -Parallel -ThrottleLimit N`).
 *
 * At 100 ms RTT the per-user phase of a large tenant takes hours, so it runs for a time budget
 * on the first users and the rest is extrapolated linearly (the request count needs no
 * extrapolation: it is exactly 1 per user + 1 per mailbox).
 */
import { GraphApi } from '../bot/graph/api';
import { createCredential, createGraphClient, graphScope } from '../bot/graph/client';
import { parentPeer } from './ipc';
import type { SimInfo } from './sim';

export interface BaselineRequest {
  info: SimInfo;
  concurrency: number;
  /** Time budget for the per-user phase (ms). */
  budgetMs: number;
}

export interface BaselineResult {
  users: number;
  mailboxes: number;
  listMs: number;
  listRequests: number;
  /** Users whose methods (and rules) were read within the budget. */
  sampledUsers: number;
  sampleMs: number;
  sampleRequests: number;
  /** Requests the whole run makes (exact). */
  totalRequests: number;
  /** Wall time of the whole run: measured list + per-user phase extrapolated from the sample. */
  wallMs: number;
  extrapolated: boolean;
  lackingMfaFound: number;
  rulesFound: number;
  errors: number;
  peakRssMb: number;
}

const NOT_MFA = new Set(['#microsoft.graph.passwordAuthenticationMethod', '#microsoft.graph.emailAuthenticationMethod']);

async function run(req: BaselineRequest): Promise<BaselineResult> {
  const { info } = req;
  const credential = createCredential({ tenantId: info.tenantId, clientId: info.clientId, clientSecret: info.clientSecret, authorityHost: info.baseUrl }, info.caCertPem);
  // No pacing: scripts rely on the SDK's retry of 429s only.
  const client = createGraphClient({ baseUrl: info.baseUrl, credential, trustedCaPem: info.caCertPem, pacer: null });
  const graph = new GraphApi(client, info.tenantId);
  await credential.getToken(graphScope(info.baseUrl));
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 25);

  // 1. Get-MgUser -All -PageSize 999 (default properties: scripts rarely $select).
  const t0 = Date.now();
  const users: Array<{ id: string; mail?: string | null }> = [];
  let listRequests = 0;
  for await (const page of graph.pages<{ id: string; mail?: string | null }>('/users', { query: { $top: 999 } })) {
    listRequests++;
    users.push(...page);
  }
  const listMs = Date.now() - t0;
  const withMailbox = users.filter((u) => u.mail);

  // 2. Per user: methods; per mailbox: inbox rules. N workers over one queue, until the budget runs out.
  const t1 = Date.now();
  let next = 0;
  let sampleRequests = 0;
  let lackingMfaFound = 0;
  let rulesFound = 0;
  let errors = 0;
  const worker = async (): Promise<void> => {
    while (next < users.length && Date.now() - t1 < req.budgetMs) {
      const u = users[next++];
      try {
        sampleRequests++;
        const methods = await graph.get<{ value: Array<Record<string, unknown>> }>(`/users/${u.id}/authentication/methods`);
        if (!methods.value.some((m) => !NOT_MFA.has(String(m['@odata.type'])))) lackingMfaFound++;
      } catch {
        errors++;
      }
      if (u.mail) {
        try {
          sampleRequests++;
          const rules = await graph.get<{ value: unknown[] }>(`/users/${u.id}/mailFolders/inbox/messageRules`);
          if (rules.value.length) rulesFound++;
        } catch {
          // no mailbox (guests, unlicensed): 404, as for the scripts
          errors++;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: req.concurrency }, worker));
  const sampleMs = Date.now() - t1;
  const sampledUsers = next;
  clearInterval(sampler);
  const extrapolated = sampledUsers < users.length;
  const perUserMs = sampledUsers ? sampleMs / sampledUsers : 0;
  return {
    users: users.length,
    mailboxes: withMailbox.length,
    listMs,
    listRequests,
    sampledUsers,
    sampleMs,
    sampleRequests,
    totalRequests: listRequests + users.length + withMailbox.length,
    wallMs: listMs + (extrapolated ? perUserMs * users.length : sampleMs),
    extrapolated,
    lackingMfaFound,
    rulesFound,
    errors,
    peakRssMb: Math.max(peakRss, process.resourceUsage().maxRSS * 1024) / (1024 * 1024),
  };
}

const parent = parentPeer();
parent.handle('run', (arg) => run(arg as BaselineRequest));
