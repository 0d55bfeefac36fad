/**
 * Require MFA for one user: per-user MFA "enforced" through the beta authentication
 * requirements API. The user must then register a method at next sign-in.
 *
 * Also runs for many users at once (the "Require MFA for all N shown" request): every read,
 * the writes and the read-backs go in JSON $batch requests of 20.
 */
import type { User, UserRegistrationDetails } from '@microsoft/microsoft-graph-types';
import type { BatchRequest, BatchResponse, GraphApi } from '../../graph/api';
import type { ActionTarget } from '../../store/approvals';
import { explainFailure } from '../explain';
import type { Precondition, RemediationAction, TargetResult } from '../types';
import { userPath, who } from './common';

interface Requirements {
  perUserMfaState?: 'disabled' | 'enabled' | 'enforced';
}

const requirementsPath = (userId: string) => `${userPath(userId)}/authentication/requirements`;
const registrationPath = (userId: string) => `/reports/authenticationMethods/userRegistrationDetails/${encodeURIComponent(userId)}`;
const ENFORCE = { perUserMfaState: 'enforced' };

/** The precondition as a pure judgement over what was read (shared by the one-user and the batch path). */
function judge(t: ActionTarget, user: User, current: Requirements, reg: UserRegistrationDetails | undefined): Precondition {
  if (user.accountEnabled === false) return { ok: false, reason: `${t.displayName}'s account is disabled now, so there is nothing to protect.` };
  if (current.perUserMfaState === 'enforced') return { ok: false, reason: `MFA is already enforced for ${t.displayName}.` };
  if (reg?.isMfaRegistered) return { ok: false, reason: `${t.displayName} has registered MFA since the request was made.` };
  return { ok: true };
}

export const requireMfa: RemediationAction = {
  id: 'mfa.require',
  title: 'Require MFA',
  risk: 'medium',
  permission: 'Policy.ReadWrite.AuthenticationMethod',
  readPermission: 'Policy.Read.All, User.Read.All (and AuditLog.Read.All for the registration report)',
  preview: (t) =>
    `Set per-user MFA to "enforced" for ${who(t)}: ` +
    `PATCH /beta/users/${t.id}/authentication/requirements {"perUserMfaState":"enforced"}. ` +
    `They will have to register a second factor at their next sign-in.`,

  async precondition(graph, target) {
    const user = await graph.get<User>(userPath(target.id), { query: { $select: 'id,accountEnabled' } });
    const current = await graph.get<Requirements>(requirementsPath(target.id), { version: 'beta' });
    const reg = await graph.get<UserRegistrationDetails>(registrationPath(target.id)).catch(() => undefined); // the report needs P1; without it the enforcement is still the right fix
    return judge(target, user, current, reg);
  },

  async execute(graph, target) {
    await graph.patch(requirementsPath(target.id), ENFORCE, { version: 'beta' });
  },

  async verify(graph, target) {
    const after = await graph.get<Requirements>(requirementsPath(target.id), { version: 'beta' });
    return after.perUserMfaState === 'enforced';
  },

  bulk: {
    title: (n) => `Require MFA for all ${n} shown`,
    run: (graph, targets) => runBatch(graph, targets),
  },
};

/** Reads, writes and read-backs for many users in $batch requests (GraphApi splits them 20 at a time). */
async function runBatch(graph: GraphApi, targets: ActionTarget[]): Promise<TargetResult[]> {
  const results = new Map<string, TargetResult>();
  const fail = (t: ActionTarget, err: unknown, step: 'check' | 'write' | 'read-back') =>
    results.set(t.id, { id: t.id, displayName: t.displayName, outcome: 'failed', ...explainFailure(err, requireMfa, step) });
  const byIndex = <T>(responses: BatchResponse<T>[]) => new Map(responses.map((r) => [r.id, r]));

  // 1. Everything the precondition reads. Users and the report are v1.0, the requirements beta.
  const v1 = byIndex(
    await graph.batch<User | UserRegistrationDetails>(
      targets.flatMap((t, i): BatchRequest[] => [
        { id: `u${i}`, method: 'GET', url: `${userPath(t.id)}?$select=id,accountEnabled` },
        { id: `r${i}`, method: 'GET', url: registrationPath(t.id) },
      ]),
    ),
  );
  const beta = byIndex(await graph.batch<Requirements>(targets.map((t, i) => ({ id: `q${i}`, method: 'GET', url: requirementsPath(t.id) })), 'beta'));
  const toWrite: Array<{ t: ActionTarget; i: number }> = [];
  targets.forEach((t, i) => {
    const user = v1.get(`u${i}`)!;
    const current = beta.get(`q${i}`)!;
    if (user.error) return fail(t, user.error, 'check');
    if (current.error) return fail(t, current.error, 'check');
    const reg = v1.get(`r${i}`)!;
    const verdict = judge(t, user.body as User, current.body ?? {}, reg.error ? undefined : (reg.body as UserRegistrationDetails));
    if (!verdict.ok) results.set(t.id, { id: t.id, displayName: t.displayName, outcome: 'skipped', message: verdict.reason });
    else toWrite.push({ t, i });
  });

  // 2. The writes.
  const written = byIndex(await graph.batch(toWrite.map(({ t, i }) => ({ id: `w${i}`, method: 'PATCH', url: requirementsPath(t.id), body: ENFORCE })), 'beta'));
  const toVerify = toWrite.filter(({ t, i }) => {
    const w = written.get(`w${i}`)!;
    if (w.error) fail(t, w.error, 'write');
    return !w.error;
  });

  // 3. The read-backs.
  const after = byIndex(await graph.batch<Requirements>(toVerify.map(({ t, i }) => ({ id: `v${i}`, method: 'GET', url: requirementsPath(t.id) })), 'beta'));
  for (const { t, i } of toVerify) {
    const v = after.get(`v${i}`)!;
    if (v.error) fail(t, v.error, 'read-back');
    else if (v.body?.perUserMfaState === 'enforced') results.set(t.id, { id: t.id, displayName: t.displayName, outcome: 'done', message: 'Done and confirmed by reading it back.' });
    else results.set(t.id, { id: t.id, displayName: t.displayName, outcome: 'failed', message: 'Graph accepted the change but reading it back does not show it yet.' });
  }
  return targets.map((t) => results.get(t.id)!);
}
