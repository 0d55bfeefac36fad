/** Outlook inbox rules (/users/{id}/mailFolders/inbox/messageRules) and mailbox settings. */
import type * as MG from '@microsoft/microsoft-graph-types';
import { GraphError, badRequest } from '../errors';
import { outlookId } from '../ids';
import { parseSelect } from '../odata';
import type { DemoUserRecord } from '../state';
import { collection, entity, noContent, ok, odataContext, requireBody, type RouteContext, type RouteDef } from './common';

const RULES_READ = ['MailboxSettings.Read', 'MailboxSettings.ReadWrite'];
const RULES_WRITE = ['MailboxSettings.ReadWrite'];
const WRITABLE = ['displayName', 'sequence', 'isEnabled', 'conditions', 'actions', 'exceptions'];

/** Exchange words its errors differently from the directory. */
function requireMailbox(ctx: RouteContext): DemoUserRecord {
  const rec = ctx.tenant.findUser(ctx.params.userId);
  if (!rec) throw new GraphError(404, 'ErrorInvalidUser', `The requested user '${ctx.params.userId}' is invalid.`);
  if (!rec.hasMailbox) throw new GraphError(404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.');
  return rec;
}

/** Only the inbox has rules. */
function requireInbox(ctx: RouteContext): void {
  if (ctx.params.folder.toLowerCase() !== 'inbox') {
    throw new GraphError(400, 'ErrorInvalidParameter', 'Message rules are only supported on the Inbox folder.');
  }
}

function findRule(ctx: RouteContext, rec: DemoUserRecord) {
  const r = rec.inboxRules.find((x) => x.id === ctx.params.ruleId);
  if (!r) throw new GraphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
  return r;
}

const ctxFragment = (rec: DemoUserRecord) => `users('${rec.user.id}')/mailFolders('inbox')/messageRules`;

function listRules(ctx: RouteContext) {
  requireInbox(ctx);
  const rec = requireMailbox(ctx);
  const rules = [...rec.inboxRules].sort((a, b) => (a.sequence ?? 0) - (b.sequence ?? 0));
  return collection(ctx, ctxFragment(rec), rules, parseSelect(ctx.query.$select));
}

function getRule(ctx: RouteContext) {
  requireInbox(ctx);
  const rec = requireMailbox(ctx);
  return entity(ctx, `${ctxFragment(rec)}/$entity`, findRule(ctx, rec), parseSelect(ctx.query.$select));
}

function validated(body: Record<string, unknown>): Partial<MG.MessageRule> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (k.startsWith('@odata.')) continue;
    if (!WRITABLE.includes(k)) throw new GraphError(400, 'ErrorInvalidProperty', `The property '${k}' is read-only or does not exist on 'messageRule'.`);
    if (k === 'isEnabled' && typeof v !== 'boolean') throw badRequest("Invalid value for 'isEnabled'.", 'ErrorInvalidRequest');
    if (k === 'sequence' && (typeof v !== 'number' || v < 1)) throw badRequest("Invalid value for 'sequence'.", 'ErrorInvalidRequest');
    out[k] = v;
  }
  return out as Partial<MG.MessageRule>;
}

function patchRule(ctx: RouteContext) {
  requireInbox(ctx);
  const rec = requireMailbox(ctx);
  const rule = findRule(ctx, rec);
  Object.assign(rule, validated(requireBody(ctx)));
  return ok({ '@odata.context': odataContext(ctx, `${ctxFragment(rec)}/$entity`), ...rule });
}

function createRule(ctx: RouteContext) {
  requireInbox(ctx);
  const rec = requireMailbox(ctx);
  const fields = validated(requireBody(ctx));
  if (!fields.displayName) throw badRequest("The property 'displayName' is required.", 'ErrorInvalidRequest');
  const rule = {
    id: outlookId(`${rec.user.id}/rule/${Date.now()}/${rec.inboxRules.length}`),
    sequence: rec.inboxRules.length + 1,
    isEnabled: true,
    hasError: false,
    isReadOnly: false,
    conditions: {},
    actions: {},
    exceptions: null,
    ...fields,
  };
  rec.inboxRules.push(rule as DemoUserRecord['inboxRules'][number]);
  return ok({ '@odata.context': odataContext(ctx, `${ctxFragment(rec)}/$entity`), ...rule }, 201);
}

function deleteRule(ctx: RouteContext) {
  requireInbox(ctx);
  const rec = requireMailbox(ctx);
  const rule = findRule(ctx, rec);
  rec.inboxRules = rec.inboxRules.filter((r) => r !== rule);
  return noContent();
}

/** GET /users/{id}/mailboxSettings: a cheap "has this account a mailbox?" probe (404 when not). */
function mailboxSettings(ctx: RouteContext) {
  const rec = requireMailbox(ctx);
  const settings = {
    archiveFolder: 'AAMkAGI2AAEuAAAAAACfVZUCAAA=',
    timeZone: 'GMT Standard Time',
    automaticRepliesSetting: {
      status: 'disabled',
      externalAudience: 'all',
      internalReplyMessage: '',
      externalReplyMessage: '',
      scheduledStartDateTime: { dateTime: ctx.now.toISOString().slice(0, 19), timeZone: 'UTC' },
      scheduledEndDateTime: { dateTime: new Date(ctx.now.getTime() + 86_400_000).toISOString().slice(0, 19), timeZone: 'UTC' },
    },
    language: { locale: rec.user.preferredLanguage ?? 'en-GB', displayName: 'English (United Kingdom)' },
    workingHours: {
      daysOfWeek: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'],
      startTime: '08:00:00.0000000',
      endTime: '17:30:00.0000000',
      timeZone: { name: 'GMT Standard Time' },
    },
    userPurpose: 'user',
    dateFormat: 'dd/MM/yyyy',
    timeFormat: 'HH:mm',
    delegateMeetingMessageDeliveryOptions: 'sendToDelegateOnly',
  };
  return entity(ctx, `users('${rec.user.id}')/mailboxSettings`, settings, parseSelect(ctx.query.$select));
}

const common = { mailbox: true, deniedCode: 'ErrorAccessDenied' } as const;

export const mailRoutes: RouteDef[] = [
  { ...common, method: 'GET', pattern: '/users/{userId}/mailboxSettings', permissions: RULES_READ, handler: mailboxSettings },
  { ...common, method: 'GET', pattern: '/users/{userId}/mailFolders/{folder}/messageRules', permissions: RULES_READ, handler: listRules },
  { ...common, method: 'POST', pattern: '/users/{userId}/mailFolders/{folder}/messageRules', permissions: RULES_WRITE, handler: createRule },
  { ...common, method: 'GET', pattern: '/users/{userId}/mailFolders/{folder}/messageRules/{ruleId}', permissions: RULES_READ, handler: getRule },
  { ...common, method: 'PATCH', pattern: '/users/{userId}/mailFolders/{folder}/messageRules/{ruleId}', permissions: RULES_WRITE, handler: patchRule },
  { ...common, method: 'DELETE', pattern: '/users/{userId}/mailFolders/{folder}/messageRules/{ruleId}', permissions: RULES_WRITE, handler: deleteRule },
];
