/**
 * The optional Exchange Online reader: what Microsoft Graph does not expose — mailbox-level
 * forwarding (ForwardingSmtpAddress), the tenant's outbound auto-forward policy, and whether
 * unified audit logging is on.
 *
 * It calls the Exchange Online admin REST endpoint that the ExchangeOnlineManagement module
 * (v3) uses under the hood and that CISA ScubaGear and CIPP call directly:
 *
 *   POST {EXCHANGE_ADMIN_URL}/adminapi/beta/{tenantId}/InvokeCommand
 *   Authorization: Bearer <app token for {EXCHANGE_ADMIN_URL}/.default>
 *   X-AnchorMailbox: APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@{tenantId}
 *   { "CmdletInput": { "CmdletName": "Get-Mailbox", "Parameters": { … } } }
 *
 * Answers are OData pages ({ value, @odata.nextLink }); the same body is posted to the next link.
 * Needs the application permission Exchange.ManageAsApp (API "Office 365 Exchange Online") on the
 * same Entra app, and an Exchange role for that app's service principal (Global Reader or
 * View-Only Organization Management is enough: every cmdlet used here is a Get-).
 * This endpoint is not a documented public API; Vigil only reads through it, and only when
 * EXCHANGE_READER=on.
 */
import type { TokenCredential } from '@azure/identity';

export interface MailboxForwarding {
  userPrincipalName: string;
  displayName: string;
  /** The mailbox owner's Entra object id. */
  objectId: string | null;
  /** e.g. "smtp:someone@gmail.com" — forwarding to any address. */
  forwardingSmtpAddress: string | null;
  /** Forwarding to a recipient in the directory (a mail contact can point outside). */
  forwardingAddress: string | null;
  deliverToMailboxAndForward: boolean;
}

export interface AutoForwardPolicy {
  /** Get-HostedOutboundSpamFilterPolicy: AutoForwardingMode is Automatic (= off today), On or Off. */
  outboundSpamPolicies: Array<{ name: string; isDefault: boolean; autoForwardingMode: string }>;
  /** Get-RemoteDomain: AutoForwardEnabled per remote domain ("*" is Default). */
  remoteDomains: Array<{ name: string; domainName: string; autoForwardEnabled: boolean }>;
}

export interface ExchangeReader {
  mailboxForwarding(): Promise<MailboxForwarding[]>;
  autoForwardPolicy(): Promise<AutoForwardPolicy>;
  /** Get-AdminAuditLogConfig: UnifiedAuditLogIngestionEnabled. */
  unifiedAuditLogEnabled(): Promise<boolean>;
}

/** The permission and role the reader needs, for cards and the README. */
export const EXCHANGE_PERMISSION = 'Exchange.ManageAsApp (Office 365 Exchange Online) and the Global Reader role for the app';

export class ExchangeRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ExchangeRequestError';
  }

  get isAccessDenied(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

type Fetch = (url: string, init: { method: string; headers: Record<string, string>; body: string }) => Promise<{
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}>;

export interface ExchangeAdminClientOptions {
  /** e.g. https://outlook.office365.com */
  baseUrl: string;
  tenantId: string;
  credential: TokenCredential;
  fetch?: Fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Retries of a throttled (429/503) call, honouring Retry-After. */
  retries?: number;
}

const SYSTEM_MAILBOX = 'SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}';

export class ExchangeAdminClient implements ExchangeReader {
  private readonly fetch: Fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: ExchangeAdminClientOptions) {
    this.fetch = opts.fetch ?? (globalThis.fetch as unknown as Fetch);
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Run one Get- cmdlet and return every row of every page. */
  async invoke<T = Record<string, unknown>>(cmdlet: string, parameters: Record<string, unknown> = {}, select?: string[]): Promise<T[]> {
    if (!/^Get-[A-Za-z]+$/.test(cmdlet)) throw new Error(`The Exchange reader only runs Get- cmdlets, not ${cmdlet}`);
    const base = this.opts.baseUrl.replace(/\/+$/, '');
    const token = await this.opts.credential.getToken(`${base}/.default`);
    if (!token) throw new ExchangeRequestError(401, 'NoToken', 'No token for the Exchange Online admin API');
    const body = JSON.stringify({ CmdletInput: { CmdletName: cmdlet, Parameters: parameters } });
    const headers = {
      Authorization: `Bearer ${token.token}`,
      'Content-Type': 'application/json; charset=utf-8',
      Accept: 'application/json',
      Prefer: 'odata.maxpagesize=1000',
      'X-AnchorMailbox': `APP:${SYSTEM_MAILBOX}@${this.opts.tenantId}`,
    };
    const query = select?.length ? `?$select=${encodeURIComponent(select.join(','))}` : '';
    let url: string | undefined = `${base}/adminapi/beta/${encodeURIComponent(this.opts.tenantId)}/InvokeCommand${query}`;
    const rows: T[] = [];
    while (url) {
      const page: { value?: T[]; '@odata.nextLink'?: string } = await this.post(url, headers, body);
      rows.push(...(page.value ?? []));
      url = page['@odata.nextLink'];
    }
    return rows;
  }

  async mailboxForwarding(): Promise<MailboxForwarding[]> {
    const rows = await this.invoke<Record<string, unknown>>(
      'Get-Mailbox',
      { ResultSize: 'Unlimited', Filter: 'ForwardingSmtpAddress -ne $null -or ForwardingAddress -ne $null' },
      ['UserPrincipalName', 'DisplayName', 'ExternalDirectoryObjectId', 'ForwardingSmtpAddress', 'ForwardingAddress', 'DeliverToMailboxAndForward'],
    );
    return rows.map((r) => ({
      userPrincipalName: str(r.UserPrincipalName),
      displayName: str(r.DisplayName),
      objectId: str(r.ExternalDirectoryObjectId) || null,
      forwardingSmtpAddress: str(r.ForwardingSmtpAddress) || null,
      forwardingAddress: str(r.ForwardingAddress) || null,
      deliverToMailboxAndForward: r.DeliverToMailboxAndForward === true,
    }));
  }

  async autoForwardPolicy(): Promise<AutoForwardPolicy> {
    const [spam, domains] = await Promise.all([
      this.invoke<Record<string, unknown>>('Get-HostedOutboundSpamFilterPolicy', {}, ['Name', 'IsDefault', 'AutoForwardingMode']),
      this.invoke<Record<string, unknown>>('Get-RemoteDomain', {}, ['Name', 'DomainName', 'AutoForwardEnabled']),
    ]);
    return {
      outboundSpamPolicies: spam.map((p) => ({ name: str(p.Name), isDefault: p.IsDefault === true, autoForwardingMode: str(p.AutoForwardingMode) || 'Automatic' })),
      remoteDomains: domains.map((d) => ({ name: str(d.Name), domainName: str(d.DomainName), autoForwardEnabled: d.AutoForwardEnabled === true })),
    };
  }

  async unifiedAuditLogEnabled(): Promise<boolean> {
    const [config] = await this.invoke<Record<string, unknown>>('Get-AdminAuditLogConfig', {}, ['UnifiedAuditLogIngestionEnabled']);
    if (!config || typeof config.UnifiedAuditLogIngestionEnabled !== 'boolean') {
      throw new ExchangeRequestError(200, 'UnexpectedAnswer', 'Get-AdminAuditLogConfig returned no UnifiedAuditLogIngestionEnabled');
    }
    return config.UnifiedAuditLogIngestionEnabled;
  }

  private async post<T>(url: string, headers: Record<string, string>, body: string): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const res = await this.fetch(url, { method: 'POST', headers, body });
      const text = await res.text();
      if (res.status >= 200 && res.status < 300) return (text ? JSON.parse(text) : {}) as T;
      if ((res.status === 429 || res.status === 503) && attempt < (this.opts.retries ?? 3)) {
        const after = Number(res.headers.get('retry-after'));
        await this.sleep((Number.isFinite(after) && after >= 0 ? Math.min(after, 120) : 2 ** attempt) * 1000);
        continue;
      }
      let code = `HTTP${res.status}`;
      let message = text.slice(0, 300) || `Exchange Online answered ${res.status}`;
      try {
        const err = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
        if (err?.code) code = err.code;
        if (err?.message) message = err.message;
      } catch {
        /* not JSON */
      }
      throw new ExchangeRequestError(res.status, code, message);
    }
  }
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
