/**
 * Who may approve fixes in a tenant: the configured object ids, and the transitive members of
 * the configured approver group, read from Graph. Answers are cached briefly so a burst of
 * clicks costs one Graph call, but a removed approver loses the right within a minute.
 */
import type { GraphApi } from '../graph/api';

export interface ApproverPolicy {
  ids: string[];
  groupId?: string;
}

const CACHE_MS = 60_000;

export class ApproverDirectory {
  private readonly cache = new Map<string, { value: boolean; until: number }>();

  constructor(
    private readonly policy: ApproverPolicy,
    private readonly graphFor: (tenantId: string) => GraphApi,
    private readonly now: () => number = Date.now,
  ) {}

  async isApprover(tenantId: string, userId: string | undefined): Promise<boolean> {
    if (!userId) return false;
    if (this.policy.ids.some((id) => id.toLowerCase() === userId.toLowerCase())) return true;
    if (!this.policy.groupId) return false;
    const key = `${tenantId}/${userId}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return hit.value;
    const value = await this.inGroup(tenantId, userId, this.policy.groupId);
    this.cache.set(key, { value, until: this.now() + CACHE_MS });
    return value;
  }

  /** checkMemberGroups is transitive: nested groups count. */
  private async inGroup(tenantId: string, userId: string, groupId: string): Promise<boolean> {
    try {
      const res = await this.graphFor(tenantId).post<{ value: string[] }>(
        `/users/${encodeURIComponent(userId)}/checkMemberGroups`,
        { groupIds: [groupId] },
      );
      return (res.value ?? []).some((g) => g.toLowerCase() === groupId.toLowerCase());
    } catch (err) {
      // An unknown user (404) is simply not an approver; anything else must not grant rights either.
      if ((err as { status?: number }).status === 404) return false;
      throw err;
    }
  }

  describe(): string {
    const parts: string[] = [];
    if (this.policy.ids.length) parts.push(`${this.policy.ids.length} named approver${this.policy.ids.length === 1 ? '' : 's'}`);
    if (this.policy.groupId) parts.push(`members of group ${this.policy.groupId}`);
    return parts.length ? parts.join(' and ') : 'nobody (set APPROVER_IDS or APPROVER_GROUP_ID)';
  }
}
