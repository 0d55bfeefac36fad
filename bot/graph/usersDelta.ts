/**
 * Keeps a tenant's users snapshot (bot/store/directoryUsers.ts) in step with Microsoft Graph
 * through `GET /users/delta`, so a scan of a tenant where nothing changed reads its users with one
 * request instead of a full listing per check.
 *
 * - With a stored deltaLink younger than 7 days (Graph keeps directory delta links that long) and
 *   tracking the same properties: follow it and apply what changed.
 * - Otherwise — no link yet, a link too old, other properties wanted, or Graph answering that the
 *   sync state is gone (400 `syncStateNotFound` for an expired token, 410 Gone for a
 *   synchronization reset) — a full round: every user, then the users it did not see are dropped.
 *
 * Every page is written as it arrives, so memory stays at one page whatever the tenant's size.
 */
import type { User } from '@microsoft/microsoft-graph-types';
import type { DirectoryChange, DirectoryUserStore } from '../store/directoryUsers';
import type { GraphApi } from './api';
import { GraphRequestError } from './errors';

/**
 * The user properties the snapshot tracks: the union of what the checks select when they list
 * users (mfa.enforcement, mail.forwarding, auth.methods, mfa.registration's fallback) plus what
 * the admin checks look up.
 */
export const SNAPSHOT_FIELDS = ['id', 'displayName', 'userPrincipalName', 'mail', 'accountEnabled', 'userType', 'createdDateTime', 'assignedLicenses'] as const;
const SELECT = SNAPSHOT_FIELDS.join(',');

/** Graph: delta links of directory objects (users included) expire after seven days. */
export const DELTA_LINK_LIFETIME_MS = 7 * 86_400_000;

export type FullRoundReason = 'first' | 'expired' | 'fields' | 'resync';

export interface UsersSyncResult {
  kind: 'full' | 'incremental';
  /** Why a full round was needed. */
  reason?: FullRoundReason;
  /** Graph requests made (pages of the round, and a refused link before a resync). */
  requests: number;
  /** Users received with properties, and removals. */
  changed: number;
  removed: number;
}

type DeltaUser = User & { id: string; '@removed'?: { reason?: string } };

interface DeltaPage {
  value?: DeltaUser[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

/** Graph says the delta link can no longer be followed and a full round must start over. */
export function needsResync(err: unknown): boolean {
  if (!(err instanceof GraphRequestError)) return false;
  return err.status === 410 || /syncstate|resync/i.test(err.code);
}

export class UsersDeltaSync {
  constructor(
    private readonly graph: GraphApi,
    private readonly store: DirectoryUserStore,
    /** The tenant the snapshot belongs to (the scan's tenant id; the GraphApi may know it by a domain). */
    private readonly tenantId: string = graph.tenantId,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async sync(): Promise<UsersSyncResult> {
    const state = await this.store.state(this.tenantId);
    let reason: FullRoundReason;
    let refused = 0;
    if (!state?.deltaLink || !state.obtainedAt) reason = 'first';
    else if (state.selectFields !== SELECT) reason = 'fields';
    else if (this.now().getTime() - state.obtainedAt.getTime() >= DELTA_LINK_LIFETIME_MS) reason = 'expired';
    else {
      try {
        const started = this.now();
        const round = await this.round(state.deltaLink, undefined, state.generation, false);
        await this.store.advance(this.tenantId, round.deltaLink, started, this.now());
        return { kind: 'incremental', requests: round.requests, changed: round.changed, removed: round.removed };
      } catch (err) {
        if (!needsResync(err)) throw err;
        reason = 'resync';
        refused = 1;
      }
    }
    const started = this.now();
    const generation = await this.store.beginFullRound(this.tenantId, SELECT);
    const round = await this.round('/users/delta', { $select: SELECT }, generation, true);
    await this.store.finishFullRound(this.tenantId, generation, round.deltaLink, SELECT, started, this.now());
    return { kind: 'full', reason, requests: round.requests + refused, changed: round.changed, removed: round.removed };
  }

  /** One round: pages until the deltaLink, each written to the snapshot as it comes. */
  private async round(url: string, query: Record<string, string> | undefined, generation: number, replace: boolean) {
    let requests = 0;
    let changed = 0;
    let removed = 0;
    let next: string | undefined = url;
    while (next) {
      const page: DeltaPage = await this.graph.get<DeltaPage>(next, requests === 0 && query ? { query } : {});
      requests++;
      const changes = (page.value ?? []).map(toChange);
      for (const c of changes) {
        if (c.removed) removed++;
        else changed++;
      }
      await this.store.apply(this.tenantId, generation, changes, { replace });
      if (page['@odata.deltaLink']) return { deltaLink: page['@odata.deltaLink'], requests, changed, removed };
      next = page['@odata.nextLink'];
    }
    throw new GraphRequestError(502, 'IncompleteDeltaRound', 'Graph ended a delta round without a deltaLink.', '/users/delta');
  }
}

function toChange(u: DeltaUser): DirectoryChange {
  if (u['@removed']) return { id: u.id, removed: true };
  const props: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(u)) if (!k.includes('@')) props[k] = v;
  return { id: u.id, props };
}
