/**
 * Chat commands for keeping watch and for MSP mode: pause/resume alerts, alert settings,
 * scan now, the tenant registry (add / list / remove), and "which tenants need attention?".
 * Every command re-checks who may do it, server-side.
 */
import { literal, messageCard, tenantsCard, type Card, type TenantRowView } from '../../cards';
import type { Store } from '../store';
import type { ServedTenant, TenantDirectory } from '../tenants/directory';
import type { ChatContext } from './messenger';
import type { Tenancy } from './tenancy';

export type WatchCommand = 'pause' | 'resume' | 'settings' | 'scan-now' | 'tenant-add' | 'tenant-list' | 'tenant-remove' | 'attention';

/** Patterns on normalised (lower-case, trimmed) text. */
export const WATCH_COMMANDS: Array<{ pattern: RegExp; command: WatchCommand }> = [
  { pattern: /^(?:pause|mute|stop) (?:the )?alerts?\b/, command: 'pause' },
  { pattern: /^(?:resume|unmute|restart|start) (?:the )?alerts?\b/, command: 'resume' },
  { pattern: /^(?:alerts? settings|alert history|alerts? status|show alerts?)\b/, command: 'settings' },
  { pattern: /^(?:scan|rescan|check) (?:now|everything now)\b/, command: 'scan-now' },
  { pattern: /^add (?:customer )?tenant\b/, command: 'tenant-add' },
  { pattern: /^(?:list|show) (?:all )?(?:customer )?tenants\b|^tenants$/, command: 'tenant-list' },
  { pattern: /^(?:remove|delete) (?:customer )?tenant\b/, command: 'tenant-remove' },
  { pattern: /\bwhich tenants? need(?:s)? attention\b|\btenants? (?:ranking|overview)\b|\bworst tenants?\b/, command: 'attention' },
];

const GUID = /\b([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b/i;
const SEVERITY_WEIGHT: Record<string, number> = { high: 100, medium: 10, low: 1, info: 0 };

export interface WatchCommandDeps {
  store: Store;
  directory: TenantDirectory;
  tenancy: Tenancy;
  isApprover(tenantId: string, userId: string): Promise<boolean>;
  /** Make a tenant's scan due now and run the watch once (returns when the scan is done). */
  scanNow(tenantId: string): Promise<void>;
  /** Minutes between full scans, and between quick scans of the cheap checks (0: none, as in effect). */
  schedule?(tenantId: string): Promise<{ intervalMinutes: number; quickIntervalMinutes: number }>;
  now?: () => Date;
}

export class WatchCommands {
  private readonly now: () => Date;

  constructor(private readonly deps: WatchCommandDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** `ctx.tenantId` is the tenant the command is about (already resolved and entitled). */
  async handle(ctx: ChatContext, viewerTenantId: string, command: WatchCommand, rawText: string): Promise<Card> {
    switch (command) {
      case 'pause':
      case 'resume':
        return this.pauseOrResume(ctx, command === 'pause');
      case 'settings':
        return this.settings(ctx);
      case 'scan-now':
        return this.scanNow(ctx);
      case 'tenant-add':
        return this.addTenant(ctx, viewerTenantId, rawText);
      case 'tenant-list':
        return this.listTenants(ctx, viewerTenantId);
      case 'tenant-remove':
        return this.removeTenant(ctx, viewerTenantId, rawText);
      case 'attention':
        return this.attention(ctx, viewerTenantId);
    }
  }

  private async pauseOrResume(ctx: ChatContext, pause: boolean): Promise<Card> {
    if (!(await this.deps.isApprover(ctx.tenantId, ctx.user.id))) return onlyApprovers(pause ? 'pause alerts' : 'resume alerts');
    await this.deps.directory.setAlertsPaused(ctx.tenantId, pause, ctx.user.id, this.now());
    this.deps.tenancy.forget();
    await this.deps.store.audit.append({ tenantId: ctx.tenantId, actorId: ctx.user.id, actorName: ctx.user.name, event: pause ? 'alerts-paused' : 'alerts-resumed' }, this.now());
    const name = await this.deps.directory.name(ctx.tenantId);
    return pause
      ? messageCard(`Alerts paused for ${literal(name)}`, 'Scheduled scans go on and their findings are kept, but I will not post alerts until someone says "resume alerts".', 'warning')
      : messageCard(`Alerts resumed for ${literal(name)}`, 'New findings from the next scans will be posted again.', 'good');
  }

  private async settings(ctx: ChatContext): Promise<Card> {
    const tenant = await this.deps.directory.get(ctx.tenantId);
    const alerts = await this.deps.store.channels.get(ctx.tenantId, 'alerts');
    const approvals = await this.deps.store.channels.get(ctx.tenantId, 'approvals');
    const history = await this.deps.store.watch.alertHistory(ctx.tenantId, 5);
    const runs = (await this.deps.store.watch.runs(ctx.tenantId)).slice(-1);
    const channel = alerts ?? approvals;
    const schedule = await this.deps.schedule?.(ctx.tenantId);
    const facts = [
      { title: 'Alerts', value: tenant?.alertsPaused ? 'Paused' : 'On' },
      ...(schedule ? [{ title: 'Scans', value: scheduleText(schedule.intervalMinutes, schedule.quickIntervalMinutes) }] : []),
      { title: 'Posted to', value: channel ? `${literal(channel.name ?? 'a channel')}${alerts ? '' : ' (the approvals channel)'}${channel.unreachableSince ? ' — UNREACHABLE' : ''}` : 'Nowhere yet: say "@Vigil use this channel for alerts" in a channel' },
      { title: 'Last scan', value: runs[0] ? `${runs[0].startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC (${runs[0].status})` : 'Not yet' },
      ...history.map((a, i) => ({
        title: i === 0 ? 'Recent alerts' : ' ',
        value: `${a.createdAt.toISOString().slice(0, 16).replace('T', ' ')} UTC: ${a.findingKeys.length} finding${a.findingKeys.length === 1 ? '' : 's'}, ${a.status}`,
      })),
    ];
    return messageCard(`Alert settings for ${literal(tenant?.displayName ?? ctx.tenantId)}`, 'Say "pause alerts" or "resume alerts" (approvers), or "scan now".', 'default', facts);
  }

  private async scanNow(ctx: ChatContext): Promise<Card> {
    if (!(await this.deps.isApprover(ctx.tenantId, ctx.user.id))) return onlyApprovers('start a scan');
    await this.deps.scanNow(ctx.tenantId);
    const run = (await this.deps.store.watch.runs(ctx.tenantId)).at(-1);
    const summary = run?.summary as { findings?: number; new?: number; alerted?: number } | undefined;
    return messageCard(
      `Scanned ${literal(await this.deps.directory.name(ctx.tenantId))}`,
      summary ? `${summary.findings ?? 0} open findings, ${summary.new ?? 0} new; ${summary.alerted ?? 0} alerted.` : 'The scan did not complete; I will retry.',
      'default',
    );
  }

  private async requireMspApprover(ctx: ChatContext, viewerTenantId: string, what: string): Promise<Card | undefined> {
    if (!this.deps.directory.isHome(viewerTenantId) || !(await this.deps.isApprover(viewerTenantId, ctx.user.id))) {
      return messageCard('Only the IT provider\u2019s approvers can do that', `Approvers in the provider\u2019s own tenant can ${what}.`, 'attention');
    }
    return undefined;
  }

  private async addTenant(ctx: ChatContext, viewerTenantId: string, raw: string): Promise<Card> {
    const refused = await this.requireMspApprover(ctx, viewerTenantId, 'add tenants');
    if (refused) return refused;
    const id = GUID.exec(raw)?.[1];
    const name = raw
      .replace(/<at>[^<]*<\/at>/gi, '')
      .replace(GUID, '')
      .replace(/^\s*add\s+(?:customer\s+)?tenant\s*/i, '')
      .replace(/[^\p{L}\p{N} .&'-]/gu, '')
      .trim();
    if (!id || !name) return messageCard('Say it like this', '"add tenant Contoso 00000000-0000-0000-0000-000000000000": a name, then the tenant id.', 'warning');
    const outcome = await this.deps.directory.add({ tenantId: id, displayName: name.slice(0, 80), addedBy: ctx.user.id, now: this.now() });
    this.deps.tenancy.forget();
    if (outcome === 'name-taken') return messageCard('That name is taken', `Another tenant is already called ${literal(name)}.`, 'warning');
    await this.deps.store.audit.append({ tenantId: id.toLowerCase(), actorId: ctx.user.id, actorName: ctx.user.name, event: 'tenant-added', detail: { name } }, this.now());
    return messageCard(
      `Added ${literal(name)}`,
      'I will scan it on the schedule. Its admin must have consented to Vigil\u2019s app in that tenant; until then its checks say which permission is missing.',
      'good',
    );
  }

  private async removeTenant(ctx: ChatContext, viewerTenantId: string, raw: string): Promise<Card> {
    const refused = await this.requireMspApprover(ctx, viewerTenantId, 'remove tenants');
    if (refused) return refused;
    const wanted = raw.replace(/<at>[^<]*<\/at>/gi, '').replace(/^\s*(?:remove|delete)\s+(?:customer\s+)?tenant\s*/i, '').trim().toLowerCase();
    const tenant = (await this.deps.directory.list()).find((t) => !t.isHome && (t.tenantId === wanted || t.displayName.toLowerCase() === wanted));
    if (!tenant) return messageCard('No such tenant', `I do not watch a tenant called ${literal(wanted)}.`, 'warning');
    await this.deps.directory.remove(tenant.tenantId);
    this.deps.tenancy.forget();
    await this.deps.store.audit.append({ tenantId: tenant.tenantId, actorId: ctx.user.id, actorName: ctx.user.name, event: 'tenant-removed', detail: { name: tenant.displayName } }, this.now());
    return messageCard(`Removed ${literal(tenant.displayName)}`, 'No more scans or alerts for it. Its history stays in the audit trail.', 'default');
  }

  private async listTenants(ctx: ChatContext, viewerTenantId: string): Promise<Card> {
    const tenants = await this.deps.tenancy.entitled({ tenantId: viewerTenantId, userId: ctx.user.id });
    return tenantsCard(
      'Tenants I watch',
      tenants.length > 1 ? 'Name a tenant in any question, e.g. "who lacks MFA at Contoso?".' : '',
      tenants.map((t) => ({ name: t.displayName, detail: `${t.isHome ? 'Home tenant' : 'Customer tenant'} · ${t.tenantId}${t.alertsPaused ? ' · alerts paused' : ''}` })),
    );
  }

  /** Rank the viewer's tenants by their open findings (from the last scans: no Graph reads). */
  private async attention(ctx: ChatContext, viewerTenantId: string): Promise<Card> {
    const tenants = await this.deps.tenancy.entitled({ tenantId: viewerTenantId, userId: ctx.user.id });
    const scored: Array<{ t: ServedTenant; score: number; high: number; medium: number; other: number; scanned: boolean }> = [];
    for (const t of tenants) {
      const open = await this.deps.store.watch.findings(t.tenantId);
      const count = (sev: string) => open.filter((f) => f.severity === sev).length;
      const runs = await this.deps.store.watch.runs(t.tenantId);
      scored.push({
        t,
        score: open.reduce((s, f) => s + (SEVERITY_WEIGHT[f.severity] ?? 0), 0),
        high: count('high'),
        medium: count('medium'),
        other: open.length - count('high') - count('medium'),
        scanned: runs.some((r) => r.status === 'done'),
      });
    }
    scored.sort((a, b) => b.score - a.score || a.t.displayName.localeCompare(b.t.displayName));
    const rows: TenantRowView[] = scored.map((s) => ({
      name: s.t.displayName,
      detail: s.scanned ? `${s.high} high, ${s.medium} medium, ${s.other} lower open findings` : 'Not scanned yet',
      tone: !s.scanned ? 'default' : s.high ? 'attention' : s.medium ? 'warning' : 'good',
    }));
    return tenantsCard('Which tenants need attention', 'Worst first, from the latest scheduled scans.', rows);
  }
}

/** "Every 60 minutes; new admins, MFA gaps, baseline policies and audit logging every 15". */
function scheduleText(full: number, quick: number): string {
  const every = (m: number) => (m % 60 === 0 ? `every ${m === 60 ? 'hour' : `${m / 60} hours`}` : `every ${m} minutes`);
  return quick ? `All checks ${every(full)}; admins, missing MFA, baseline policies and audit logging ${every(quick)}` : `All checks ${every(full)}`;
}

function onlyApprovers(what: string): Card {
  return messageCard('Only security approvers can do that', `Ask one of your security approvers to ${what}.`, 'attention');
}
