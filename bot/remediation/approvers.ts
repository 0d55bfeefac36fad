/**
 * Who may approve fixes in a tenant: the tenant's named object ids, and the transitive members
 * of its approver group, read from that tenant's Graph. Each tenant has its own policy (the home
 * tenant's from APPROVER_IDS / APPROVER_GROUP_ID; in MSP mode a customer tenant's from its
 * registry settings), so an approver of one tenant is nobody in another. Answers are cached
 * briefly so a burst of clicks costs one Graph call, but a removed approver loses the right
 * within a minute.
 */
import type { GraphApi } from '../graph/api';

export interface ApproverPolicy {
  ids: string[];
  groupId?: string;
}

/** One policy for every tenant, or each tenant's own. */
export type ApproverPolicySource = ApproverPolicy | ((tenantId: string) => Promise<ApproverPolicy>);

const CACHE_MS = 60_000;

export class ApproverDirectory {
  private readonly cache = new Map<string, { value: boolean; until: number }>();
  private readonly lists = new Map<string, { value: Promise<string[]>; until: number }>();
  private readonly policies = new Map<string, { value: Promise<ApproverPolicy>; until: number }>();

  constructor(
    private readonly policy: ApproverPolicySource,
    private readonly graphFor: (tenantId: string) => GraphApi,
    private readonly now: () => number = Date.now,
    /**
     * MSP mode: the IT provider's own tenant. Its approvers (the provider's technicians) approve in
     * every customer tenant too. Object ids are unique across tenants, so nobody else can match.
     */
    private readonly homeTenantId?: string,
  ) {}

  async isApprover(tenantId: string, userId: string | undefined): Promise<boolean> {
    if (!userId) return false;
    if (await this.isOwnApprover(tenantId, userId)) return true;
    return Boolean(this.homeTenantId && tenantId.toLowerCase() !== this.homeTenantId.toLowerCase() && (await this.isOwnApprover(this.homeTenantId, userId)));
  }

  /** An approver by the tenant's own policy (no delegation from the provider's tenant). */
  private async isOwnApprover(tenantId: string, userId: string): Promise<boolean> {
    const policy = await this.policyFor(tenantId);
    if (policy.ids.some((id) => id.toLowerCase() === userId.toLowerCase())) return true;
    if (!policy.groupId) return false;
    const key = `${tenantId.toLowerCase()}/${userId.toLowerCase()}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return hit.value;
    const value = await this.inGroup(tenantId, userId, policy.groupId);
    this.cache.set(key, { value, until: this.now() + CACHE_MS });
    return value;
  }

  /**
   * Every approver's object id (lower-case): the named ones, then the group's transitive members.
   * Used to show approvers their own view of approval cards.
   */
  async list(tenantId: string): Promise<string[]> {
    const own = await this.cached(this.lists, tenantId, () => this.readList(tenantId));
    if (!this.homeTenantId || tenantId.toLowerCase() === this.homeTenantId.toLowerCase()) return own;
    const provider = await this.cached(this.lists, this.homeTenantId, () => this.readList(this.homeTenantId!)).catch(() => []);
    return [...own, ...provider.filter((id) => !own.includes(id))];
  }

  private policyFor(tenantId: string): Promise<ApproverPolicy> {
    const source = this.policy;
    return typeof source === 'function' ? this.cached(this.policies, tenantId, () => source(tenantId)) : Promise.resolve(source);
  }

  private cached<T>(map: Map<string, { value: Promise<T>; until: number }>, tenantId: string, read: () => Promise<T>): Promise<T> {
    const key = tenantId.toLowerCase();
    const hit = map.get(key);
    if (hit && hit.until > this.now()) return hit.value;
    const value = read();
    map.set(key, { value, until: this.now() + CACHE_MS });
    value.catch(() => map.delete(key));
    return value;
  }

  private async readList(tenantId: string): Promise<string[]> {
    const policy = await this.policyFor(tenantId);
    const ids = policy.ids.map((id) => id.toLowerCase());
    if (policy.groupId) {
      const members = await this.graphFor(tenantId).all<{ id: string }>(`/groups/${encodeURIComponent(policy.groupId)}/transitiveMembers/microsoft.graph.user`, {
        query: { $select: 'id' },
      });
      for (const m of members) if (m.id && !ids.includes(m.id.toLowerCase())) ids.push(m.id.toLowerCase());
    }
    return ids;
  }

  /** checkMemberGroups is transitive: nested groups count. */
  private async inGroup(tenantId: string, userId: string, groupId: string): Promise<boolean> {
    try {
      const res = await this.graphFor(tenantId).post<{ value: string[] }>(`/users/${encodeURIComponent(userId)}/checkMemberGroups`, { groupIds: [groupId] });
      return (res.value ?? []).some((g) => g.toLowerCase() === groupId.toLowerCase());
    } catch (err) {
      // An unknown user (404) is simply not an approver; anything else must not grant rights either.
      if ((err as { status?: number }).status === 404) return false;
      throw err;
    }
  }

  /** Who approves, in words (the home tenant's policy when there is one for all). */
  describe(): string {
    if (typeof this.policy === 'function') return 'each tenant’s configured approvers';
    const parts: string[] = [];
    if (this.policy.ids.length) parts.push(`${this.policy.ids.length} named approver${this.policy.ids.length === 1 ? '' : 's'}`);
    if (this.policy.groupId) parts.push(`members of group ${this.policy.groupId}`);
    return parts.length ? parts.join(' and ') : 'nobody (set APPROVER_IDS or APPROVER_GROUP_ID)';
  }
}
