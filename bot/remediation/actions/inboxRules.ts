/**
 * Inbox rules (the forwarding rule an attacker leaves behind): disable one, or delete it. The
 * target is the rule: `id` = rule id, `userId` = the mailbox owner.
 */
import type { MessageRule } from '@microsoft/microsoft-graph-types';
import type { GraphApi } from '../../graph/api';
import type { ActionTarget } from '../../store/approvals';
import type { RemediationAction } from '../types';
import { getIfExists } from './common';

const rulePath = (t: ActionTarget) => `/users/${encodeURIComponent(t.userId ?? '')}/mailFolders/inbox/messageRules/${encodeURIComponent(t.id)}`;
const shownPath = (t: ActionTarget) => `/v1.0/users/${t.userId ?? '?'}/mailFolders/inbox/messageRules/${t.id}`;
const rule = (t: ActionTarget) => `the inbox rule "${t.displayName}"${t.detail ? ` in ${t.detail}'s mailbox` : ''}`;

function readRule(graph: GraphApi, t: ActionTarget): Promise<MessageRule | undefined> {
  if (!t.userId) throw new Error('This request names no mailbox for the rule.');
  return getIfExists<MessageRule>(graph, rulePath(t));
}

export const disableRule: RemediationAction = {
  id: 'rule.disable',
  title: 'Disable rule',
  risk: 'low',
  permission: 'MailboxSettings.ReadWrite',
  readPermission: 'MailboxSettings.Read',
  preview: (t) => `Turn off ${rule(t)}: PATCH ${shownPath(t)} {"isEnabled":false}. The rule stays in the mailbox, switched off, so it can be inspected (and re-enabled by the owner).`,

  async precondition(graph, t) {
    const r = await readRule(graph, t);
    if (!r) return { ok: false, reason: `The rule "${t.displayName}" no longer exists.` };
    if (r.isEnabled === false) return { ok: false, reason: `The rule "${t.displayName}" is already turned off.` };
    return { ok: true };
  },

  async execute(graph, t) {
    await graph.patch(rulePath(t), { isEnabled: false });
  },

  async verify(graph, t) {
    return (await readRule(graph, t))?.isEnabled === false;
  },
};

export const deleteRule: RemediationAction = {
  id: 'rule.delete',
  title: 'Delete rule',
  risk: 'high',
  permission: 'MailboxSettings.ReadWrite',
  readPermission: 'MailboxSettings.Read',
  preview: (t) => `Delete ${rule(t)} for good: DELETE ${shownPath(t)}. It cannot be undone; disable it instead if you may want to inspect it later.`,

  async precondition(graph, t) {
    if (!(await readRule(graph, t))) return { ok: false, reason: `The rule "${t.displayName}" no longer exists.` };
    return { ok: true };
  },

  async execute(graph, t) {
    await graph.delete(rulePath(t));
  },

  async verify(graph, t) {
    return (await readRule(graph, t)) === undefined;
  },
};
