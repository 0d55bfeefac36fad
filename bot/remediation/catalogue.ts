/** Every fix Vigil knows, by id. */
import { requireMfa } from './actions/requireMfa';
import type { RemediationAction } from './types';

const ACTIONS: RemediationAction[] = [requireMfa];

const BY_ID = new Map(ACTIONS.map((a) => [a.id, a]));

export function findAction(id: string): RemediationAction | undefined {
  return BY_ID.get(id);
}

export function allActions(): readonly RemediationAction[] {
  return ACTIONS;
}
