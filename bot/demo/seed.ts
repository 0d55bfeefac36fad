/**
 * The default demo tenant: "Northwind Dental Care", a small UK practice whose story
 * Vigil's demo tells (recent joiners without MFA, a shared unprotected admin account,
 * an invoice-forwarding rule after a sign-in from Nigeria, weak Conditional Access).
 *
 * The data is declarative: PEOPLE is a table, the builder turns each row into the
 * Graph objects (user, methods, rules, licences). Dates are relative to `now` so
 * "joined 3 days ago" stays true whenever the demo runs.
 */
import type * as MG from '@microsoft/microsoft-graph-types';
import { DAY_MS, daysBefore, fixedGuid, guidFrom, outlookId, prng } from './ids';
import type { DemoAuthMethod, DemoGroup, DemoRoleAssignment, DemoTenantSeed, DemoUserRecord, PerUserMfaState } from './state';

export const DEMO_TENANT_ID = '7f1c0a2e-4b6d-4e8f-9a1b-2c3d4e5f6a7b';
export const DEMO_DOMAIN = 'northwinddental.co.uk';
export const DEMO_INITIAL_DOMAIN = 'northwinddental.onmicrosoft.com';
export const DEMO_APPROVER_GROUP_ID = fixedGuid(0x100);
/** "Practice Management": nested inside the approvers group; Patti is a member through it. */
export const DEMO_PRACTICE_MANAGEMENT_GROUP_ID = fixedGuid(0x101);
export const DEMO_ALL_STAFF_GROUP_ID = fixedGuid(0x102);

/** Built-in Entra role template ids (identical in every tenant). */
export const ROLE_TEMPLATE_IDS = {
  globalAdministrator: '62e90394-69f5-4237-9190-012177145e10',
  privilegedRoleAdministrator: 'e8611ab8-c189-46e8-94e1-60213ab1f814',
  securityAdministrator: '194ae4cb-b126-40b2-bd5b-6091b380977d',
  exchangeAdministrator: '29232cdf-9323-42fd-ade2-1d097af3e4de',
  sharePointAdministrator: 'f28a1f50-f6e7-4571-818b-6a12f2af6b6c',
  userAdministrator: 'fe930be7-5e62-47db-91af-98c3a49a38b1',
  helpdeskAdministrator: '729827e3-9c14-49f7-bb1b-9608f156bbb8',
  billingAdministrator: 'b0f54661-2d74-4c50-afa3-1ec803f12efe',
  conditionalAccessAdministrator: 'b1be1c3e-b65d-4f19-8427-f6fa0d97feb9',
  authenticationAdministrator: 'c4e39bd9-1100-46d3-8c65-fb160da0071f',
} as const;
export type RoleKey = keyof typeof ROLE_TEMPLATE_IDS;

const ROLE_NAMES: Record<RoleKey, [string, string]> = {
  globalAdministrator: ['Global Administrator', 'Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.'],
  privilegedRoleAdministrator: ['Privileged Role Administrator', 'Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.'],
  securityAdministrator: ['Security Administrator', 'Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365.'],
  exchangeAdministrator: ['Exchange Administrator', 'Can manage all aspects of the Exchange product.'],
  sharePointAdministrator: ['SharePoint Administrator', 'Can manage all aspects of the SharePoint service.'],
  userAdministrator: ['User Administrator', 'Can manage all aspects of users and groups, including resetting passwords for limited admins.'],
  helpdeskAdministrator: ['Helpdesk Administrator', 'Can reset passwords for non-administrators and Helpdesk Administrators.'],
  billingAdministrator: ['Billing Administrator', 'Can perform common billing related tasks like updating payment information.'],
  conditionalAccessAdministrator: ['Conditional Access Administrator', 'Can manage Conditional Access capabilities.'],
  authenticationAdministrator: ['Authentication Administrator', 'Can access to view, set and reset authentication method information for any non-admin user.'],
};

/** Microsoft 365 Business Premium (includes Entra ID P1 and Exchange Online). */
export const SKU_BUSINESS_PREMIUM = 'cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46';
const BUSINESS_PREMIUM_PLANS: MG.ServicePlanInfo[] = [
  { servicePlanId: '41781fb2-bc02-4b7c-bd55-b576c07bb09d', servicePlanName: 'AAD_PREMIUM', provisioningStatus: 'Success', appliesTo: 'User' },
  { servicePlanId: '9aaf7827-d63c-4b61-89c3-182f06f82e5c', servicePlanName: 'EXCHANGE_S_STANDARD', provisioningStatus: 'Success', appliesTo: 'User' },
  { servicePlanId: '57ff2da0-773e-42df-b2af-ffb7a2317929', servicePlanName: 'TEAMS1', provisioningStatus: 'Success', appliesTo: 'User' },
  { servicePlanId: 'c7699d2e-19aa-44de-8edf-1736da088ca1', servicePlanName: 'SHAREPOINTSTANDARD', provisioningStatus: 'Success', appliesTo: 'User' },
  { servicePlanId: 'c1ec4a95-1f05-45b3-a911-aa3fa01094f5', servicePlanName: 'INTUNE_A', provisioningStatus: 'Success', appliesTo: 'User' },
];

/** Well-known method ids Graph uses for the password and the phone slots. */
export const PASSWORD_METHOD_ID = '28c10230-6103-485e-b985-444c60001490';
export const MOBILE_PHONE_METHOD_ID = '3179e48a-750b-4051-897c-87b9720928f7';
export const EMAIL_METHOD_ID = '3ddfcfc8-9383-446f-83cc-3ab9be4be18f';

// ---------------------------------------------------------------------------
// The people table
// ---------------------------------------------------------------------------

/** Second factors a person has registered. */
type Factor = 'authenticator' | 'sms' | 'fido2' | 'oath';

export interface PersonSpec {
  key: string;
  id: string;
  given: string;
  surname: string;
  /** Local part of the UPN, or a full UPN (contains '@'). */
  upn: string;
  jobTitle: string;
  department: string;
  /** Days before `now` the account was created. */
  createdDaysAgo: number;
  factors: Factor[];
  /** Extra authenticator registrations (the "three phones" user). */
  authenticatorDevices?: string[];
  roles?: RoleKey[];
  licensed?: boolean; // default true for members
  enabled?: boolean; // default true
  guest?: boolean;
  displayName?: string;
  perUserMfa?: PerUserMfaState;
}

const U = (n: number): string => fixedGuid(n);

/**
 * Everyone in the tenant. Ids 0x20–0x25 are fixed because the Teams Agents Playground
 * impersonates those users; the rest are deterministic too.
 */
export const PEOPLE: PersonSpec[] = [
  // --- Playground users --------------------------------------------------------
  { key: 'alex', id: U(0x20), given: 'Alex', surname: 'Wilber', upn: 'alex.wilber', jobTitle: 'Office Manager', department: 'Operations', createdDaysAgo: 1210, factors: ['authenticator'] },
  { key: 'megan', id: U(0x21), given: 'Megan', surname: 'Bowen', upn: 'megan.bowen', jobTitle: 'Compliance Lead', department: 'Operations', createdDaysAgo: 1190, factors: ['authenticator', 'sms'], roles: ['securityAdministrator'] },
  { key: 'adele', id: U(0x22), given: 'Adele', surname: 'Vance', upn: 'adele.vance', jobTitle: 'Dental Nurse', department: 'Clinical', createdDaysAgo: 980, factors: ['sms', 'authenticator'] },
  { key: 'isaiah', id: U(0x23), given: 'Isaiah', surname: 'Langer', upn: 'isaiah.langer', jobTitle: 'Associate Dentist', department: 'Clinical', createdDaysAgo: 870, factors: ['authenticator'] },
  // Patti's GA role sits on an unlicensed account so that exactly one Global Admin is licensed.
  // She also turned per-user MFA on for herself: the one person MFA is actually *required* for.
  { key: 'patti', id: U(0x24), given: 'Patti', surname: 'Fernandez', upn: 'patti.fernandez', jobTitle: 'Practice Manager', department: 'Management', createdDaysAgo: 1400, factors: ['authenticator', 'fido2'], roles: ['globalAdministrator'], licensed: false, perUserMfa: 'enforced' },
  { key: 'lynne', id: U(0x25), given: 'Lynne', surname: 'Robbins', upn: 'lynne.robbins', jobTitle: 'Receptionist', department: 'Front Desk', createdDaysAgo: 760, factors: ['sms'] },

  // --- Administrators ------------------------------------------------------------
  { key: 'itsupport', id: U(0x26), given: 'Brightline', surname: 'IT Support', displayName: 'Brightline IT Support', upn: `itsupport@${DEMO_INITIAL_DOMAIN}`, jobTitle: 'IT Provider (shared account)', department: 'IT', createdDaysAgo: 1450, factors: [], roles: ['globalAdministrator'], licensed: false },
  { key: 'oliver', id: U(0x27), given: 'Oliver', surname: 'Hastings', displayName: 'Dr Oliver Hastings', upn: 'oliver.hastings', jobTitle: 'Principal Dentist & Owner', department: 'Management', createdDaysAgo: 1455, factors: ['authenticator'], roles: ['globalAdministrator'] },
  { key: 'tenantadmin', id: U(0x28), given: 'Northwind', surname: 'Admin', displayName: 'Northwind Admin', upn: `admin@${DEMO_INITIAL_DOMAIN}`, jobTitle: 'Tenant setup account', department: 'IT', createdDaysAgo: 1460, factors: ['authenticator'], roles: ['globalAdministrator'], licensed: false },
  { key: 'breakglass', id: U(0x29), given: 'Emergency', surname: 'Access', displayName: 'Emergency Access (break glass)', upn: `breakglass@${DEMO_INITIAL_DOMAIN}`, jobTitle: 'Emergency access account', department: 'IT', createdDaysAgo: 700, factors: ['fido2'], roles: ['globalAdministrator'], licensed: false },
  { key: 'tomadmin', id: U(0x2a), given: 'Tom', surname: 'Okafor', displayName: 'Tom Okafor (Admin)', upn: 'admin.tom', jobTitle: 'Associate Dentist (admin account)', department: 'IT', createdDaysAgo: 640, factors: ['sms'], roles: ['globalAdministrator'], licensed: false },
  // Long-standing member without MFA, who also holds Exchange Administrator.
  { key: 'gareth', id: U(0x2b), given: 'Gareth', surname: 'Price', upn: 'gareth.price', jobTitle: 'Practice IT Lead', department: 'Operations', createdDaysAgo: 730, factors: [], roles: ['exchangeAdministrator'] },

  // --- The attack story ------------------------------------------------------------
  // Dana's only second factor is SMS; sign-ins from Nigeria; an invoice-forwarding rule.
  { key: 'dana', id: U(0x2c), given: 'Dana', surname: 'Whitfield', upn: 'dana.whitfield', jobTitle: 'Accounts Payable', department: 'Finance', createdDaysAgo: 1100, factors: ['sms'] },
  // Three Microsoft Authenticator registrations (old phones never removed).
  { key: 'rhys', id: U(0x2d), given: 'Rhys', surname: 'Morgan', upn: 'rhys.morgan', jobTitle: 'Dental Hygienist', department: 'Clinical', createdDaysAgo: 1020, factors: ['authenticator'], authenticatorDevices: ['iPhone 11', 'iPhone 13', 'Pixel 7'] },

  // --- Recent joiners without MFA (joined after the MFA roll-out) ---------------------
  { key: 'chloe', id: U(0x2e), given: 'Chloe', surname: 'Barnes', upn: 'chloe.barnes', jobTitle: 'Trainee Dental Nurse', department: 'Clinical', createdDaysAgo: 3, factors: [] },
  { key: 'mohammed', id: U(0x2f), given: 'Mohammed', surname: 'Iqbal', upn: 'mohammed.iqbal', jobTitle: 'Dental Hygienist', department: 'Clinical', createdDaysAgo: 9, factors: [] },
  { key: 'ella', id: U(0x30), given: 'Ella', surname: 'Thompson', upn: 'ella.thompson', jobTitle: 'Receptionist', department: 'Front Desk', createdDaysAgo: 21, factors: [] },
  { key: 'kacper', id: U(0x31), given: 'Kacper', surname: 'Nowak', upn: 'kacper.nowak', jobTitle: 'Dental Technician', department: 'Lab', createdDaysAgo: 45, factors: [] },

  // --- Disabled leaver without MFA ----------------------------------------------------
  { key: 'fiona', id: U(0x32), given: 'Fiona', surname: 'Blake', displayName: 'Dr Fiona Blake', upn: 'fiona.blake', jobTitle: 'Locum Dentist (left)', department: 'Clinical', createdDaysAgo: 500, factors: [], enabled: false, licensed: false },

  // --- Guests -------------------------------------------------------------------------
  { key: 'liam', id: U(0x33), given: 'Liam', surname: 'Carter', displayName: 'Liam Carter (Brightline IT)', upn: 'liam.carter_brightline-it.co.uk', jobTitle: '', department: '', createdDaysAgo: 600, factors: ['authenticator'], guest: true },
  { key: 'sarah', id: U(0x34), given: 'Sarah', surname: 'Jenkins', displayName: 'Sarah Jenkins (Jenkins Accountancy)', upn: 'sarah_jenkins-accountancy.co.uk', jobTitle: '', department: '', createdDaysAgo: 400, factors: [], guest: true },
  { key: 'raj', id: U(0x35), given: 'Raj', surname: 'Patel', displayName: 'Dr Raj Patel (Referral Partner)', upn: 'raj.patel_smileortho.co.uk', jobTitle: '', department: '', createdDaysAgo: 250, factors: [], guest: true },

  // --- Everyone else, all with MFA ------------------------------------------------------
  ...([
    ['zoe', 'Zoë', 'Ångström', 'zoe.angstrom', 'Orthodontist', 'Clinical', ['authenticator']],
    ['jose', 'José', 'Núñez', 'jose.nunez', 'Associate Dentist', 'Clinical', ['authenticator', 'sms']],
    ['siobhan', 'Siobhán', "O'Connor", 'siobhan.oconnor', 'Dental Nurse', 'Clinical', ['sms']],
    ['lukasz', 'Łukasz', 'Wiśniewski', 'lukasz.wisniewski', 'Dental Technician', 'Lab', ['authenticator']],
    ['aoife', 'Aoife', 'Ní Bhriain', 'aoife.nibhriain', 'Treatment Coordinator', 'Front Desk', ['authenticator']],
    ['emma', 'Emma', 'Hughes', 'emma.hughes', 'Dental Nurse', 'Clinical', ['authenticator']],
    ['james', 'James', 'Wright', 'james.wright', 'Associate Dentist', 'Clinical', ['fido2', 'authenticator']],
    ['sophie', 'Sophie', 'Turner', 'sophie.turner', 'Receptionist', 'Front Desk', ['authenticator']],
    ['daniel', 'Daniel', 'Evans', 'daniel.evans', 'Dental Nurse', 'Clinical', ['sms', 'authenticator']],
    ['olivia', 'Olivia', 'Green', 'olivia.green', 'Dental Hygienist', 'Clinical', ['authenticator']],
    ['harry', 'Harry', 'Walker', 'harry.walker', 'Finance Assistant', 'Finance', ['authenticator']],
    ['amelia', 'Amelia', 'Roberts', 'amelia.roberts', 'Dental Nurse', 'Clinical', ['oath']],
    ['george', 'George', 'Clarke', 'george.clarke', 'Associate Dentist', 'Clinical', ['authenticator']],
    ['isla', 'Isla', 'Campbell', 'isla.campbell', 'Receptionist', 'Front Desk', ['authenticator', 'sms']],
    ['noah', 'Noah', 'Mitchell', 'noah.mitchell', 'Decontamination Technician', 'Clinical', ['sms']],
    ['grace', 'Grace', 'Lewis', 'grace.lewis', 'Dental Nurse', 'Clinical', ['authenticator']],
    ['ben', 'Ben', 'Harrison', 'ben.harrison', 'Marketing Coordinator', 'Operations', ['authenticator']],
    ['freya', 'Freya', 'Scott', 'freya.scott', 'Dental Therapist', 'Clinical', ['authenticator', 'oath']],
    ['priya', 'Priya', 'Raman', 'priya.raman', 'Finance Manager', 'Finance', ['authenticator'], ['billingAdministrator']],
    ['ahmed', 'Ahmed', 'Hassan', 'ahmed.hassan', 'Associate Dentist', 'Clinical', ['authenticator']],
    ['niamh', 'Niamh', 'Kelly', 'niamh.kelly', 'Dental Nurse', 'Clinical', ['sms']],
    ['william', 'William', 'Baker', 'william.baker', 'Lab Manager', 'Lab', ['authenticator']],
  ] as [string, string, string, string, string, string, Factor[], RoleKey[]?][]).map(
    ([key, given, surname, upn, jobTitle, department, factors, roles], i): PersonSpec => ({
      key, id: U(0x40 + i), given, surname, upn, jobTitle, department,
      // Spread creation dates over one to four years ago, deterministically.
      createdDaysAgo: 380 + ((i * 53) % 1050),
      factors, roles,
    }),
  ),
];

/** Fixed ids and names the bot's demo wiring and tests rely on. */
export const DEMO_USERS = Object.fromEntries(
  ['alex', 'megan', 'adele', 'isaiah', 'patti', 'lynne', 'itsupport', 'oliver', 'gareth', 'dana', 'rhys', 'chloe', 'mohammed', 'ella', 'kacper', 'fiona', 'breakglass', 'tenantadmin', 'tomadmin', 'harry', 'zoe', 'priya'].map((k) => {
    const p = PEOPLE.find((x) => x.key === k)!;
    return [k, { id: p.id, upn: upnOf(p), name: displayNameOf(p) }];
  }),
) as Record<
  'alex' | 'megan' | 'adele' | 'isaiah' | 'patti' | 'lynne' | 'itsupport' | 'oliver' | 'gareth' | 'dana' | 'rhys' | 'chloe' | 'mohammed' | 'ella' | 'kacper' | 'fiona' | 'breakglass' | 'tenantadmin' | 'tomadmin' | 'harry' | 'zoe' | 'priya',
  { id: string; upn: string; name: string }
>;

/** The demo's break-glass account: Vigil excludes it when EXCLUDED_ACCOUNTS is not set. */
export const DEMO_EXCLUDED_ACCOUNTS = [`breakglass@${DEMO_INITIAL_DOMAIN}`];

function upnOf(p: PersonSpec): string {
  if (p.guest) return `${p.upn}#EXT#@${DEMO_INITIAL_DOMAIN}`;
  return p.upn.includes('@') ? p.upn : `${p.upn}@${DEMO_DOMAIN}`;
}
function displayNameOf(p: PersonSpec): string {
  return p.displayName ?? `${p.given} ${p.surname}`;
}
/** Guests' real address: the part before #EXT# with the last '_' turned back into '@'. */
function guestMail(p: PersonSpec): string {
  const i = p.upn.lastIndexOf('_');
  return `${p.upn.slice(0, i)}@${p.upn.slice(i + 1)}`;
}

// ---------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------

function buildMethods(p: PersonSpec, now: Date, rnd: () => number): DemoAuthMethod[] {
  const created = (extraDays: number): string => daysBefore(now, Math.max(0, p.createdDaysAgo - extraDays), 10);
  const methods: DemoAuthMethod[] = [
    { '@odata.type': '#microsoft.graph.passwordAuthenticationMethod', id: PASSWORD_METHOD_ID, password: null, createdDateTime: created(0) },
  ];
  for (const f of p.factors) {
    if (f === 'authenticator') {
      const devices = p.authenticatorDevices ?? [pick(['iPhone 14', 'iPhone 15', 'Galaxy S23', 'Pixel 8', 'iPhone 12'], rnd)];
      devices.forEach((device, i) =>
        methods.push({
          '@odata.type': '#microsoft.graph.microsoftAuthenticatorAuthenticationMethod',
          id: guidFrom(`${p.id}/authenticator/${i}`),
          displayName: device,
          deviceTag: 'SoftwareTokenActivated',
          phoneAppVersion: '6.2401.0119',
          createdDateTime: created(2 + i * 200),
        }),
      );
    } else if (f === 'sms') {
      methods.push({
        '@odata.type': '#microsoft.graph.phoneAuthenticationMethod',
        id: MOBILE_PHONE_METHOD_ID,
        phoneNumber: `+44 7700 9${String(100 + Math.floor(rnd() * 899)).padStart(3, '0')}${String(Math.floor(rnd() * 99)).padStart(2, '0')}`,
        phoneType: 'mobile',
        smsSignInState: 'notAllowedByPolicy',
      });
    } else if (f === 'fido2') {
      methods.push({
        '@odata.type': '#microsoft.graph.fido2AuthenticationMethod',
        id: guidFrom(`${p.id}/fido2`),
        displayName: 'YubiKey 5 NFC',
        aaGuid: 'cb69481e-8ff7-4039-93ec-0a2729a154a8',
        model: 'YubiKey 5 Series',
        attestationCertificates: [],
        attestationLevel: 'attested',
        createdDateTime: created(5),
      });
    } else {
      methods.push({
        '@odata.type': '#microsoft.graph.softwareOathAuthenticationMethod',
        id: guidFrom(`${p.id}/oath`),
        secretKey: null,
      });
    }
  }
  return methods;
}

function pick<T>(items: T[], rnd: () => number): T {
  return items[Math.floor(rnd() * items.length)];
}

function buildUser(p: PersonSpec, now: Date, rnd: () => number): DemoUserRecord {
  const upn = upnOf(p);
  const licensed = !p.guest && (p.licensed ?? true);
  const user: DemoUserRecord['user'] = {
    id: p.id,
    displayName: displayNameOf(p),
    givenName: p.given,
    surname: p.surname,
    userPrincipalName: upn,
    mail: p.guest ? guestMail(p) : upn.endsWith(DEMO_DOMAIN) ? upn : null,
    mailNickname: p.guest ? p.upn + '#EXT#' : upn.split('@')[0],
    accountEnabled: p.enabled ?? true,
    userType: p.guest ? 'Guest' : 'Member',
    createdDateTime: daysBefore(now, p.createdDaysAgo, 9),
    jobTitle: p.jobTitle || null,
    department: p.department || null,
    officeLocation: p.guest ? null : 'Bristol',
    businessPhones: [],
    mobilePhone: null,
    preferredLanguage: p.guest ? null : 'en-GB',
    usageLocation: p.guest ? null : 'GB',
    companyName: p.guest ? null : 'Northwind Dental Care',
    assignedLicenses: licensed ? [{ skuId: SKU_BUSINESS_PREMIUM, disabledPlans: [] }] : [],
    creationType: p.guest ? 'Invitation' : null,
    externalUserState: p.guest ? 'Accepted' : null,
  };
  return {
    user,
    hasMailbox: licensed,
    perUserMfaState: p.perUserMfa ?? 'disabled',
    methods: buildMethods(p, now, rnd),
    inboxRules: [],
  };
}

function recipient(name: string, address: string): MG.Recipient {
  return { emailAddress: { name, address } };
}

/** The inbox rules of the story: one malicious, one legitimate, one disabled personal copy. */
function addInboxRules(users: Map<string, DemoUserRecord>): void {
  const rule = (userKey: string, n: number, r: Omit<MG.MessageRule, 'id'>): void => {
    const rec = users.get(userKey)!;
    rec.inboxRules.push({ id: outlookId(`${rec.user.id}/rule/${n}`), hasError: false, isReadOnly: false, exceptions: null, ...r });
  };
  rule('dana', 1, {
    displayName: 'Invoices',
    sequence: 1,
    isEnabled: true,
    conditions: { subjectContains: ['invoice'] },
    actions: { forwardTo: [recipient('accounts.northwinddental', 'accounts.northwinddental@gmail.com')], markAsRead: true, stopProcessingRules: true },
  });
  rule('dana', 2, {
    displayName: 'Supplier statements',
    sequence: 2,
    isEnabled: true,
    conditions: { fromAddresses: [recipient('Henry Schein UK', 'statements@henryschein.co.uk')] },
    actions: { moveToFolder: 'AAMkAGI2TGuLAAA=', stopProcessingRules: false },
  });
  rule('alex', 1, {
    displayName: 'Lab orders to Adele',
    sequence: 1,
    isEnabled: true,
    conditions: { subjectContains: ['lab order'] },
    actions: { forwardTo: [recipient('Adele Vance', `adele.vance@${DEMO_DOMAIN}`)], stopProcessingRules: false },
  });
  rule('isaiah', 1, {
    displayName: 'Personal copy',
    sequence: 1,
    isEnabled: false,
    conditions: {},
    actions: { redirectTo: [recipient('Isaiah Langer', 'isaiah.langer@outlook.com')], stopProcessingRules: false },
  });
  // A name with markdown and template syntax (cards must show it literally), forwarding payroll mail out as attachments.
  rule('harry', 1, {
    displayName: 'Payroll **${month}** [urgent] _copy_',
    sequence: 1,
    isEnabled: true,
    conditions: { subjectContains: ['payroll', 'payslip'] },
    actions: { forwardAsAttachmentTo: [recipient('Harry', 'harry.walker.home@protonmail.com')], stopProcessingRules: false },
  });
  // Forwarding to the tenant's own (initial) domain: inside the organisation, not a finding.
  rule('zoe', 1, {
    displayName: 'Copie à l’équipe d’orthodontie',
    sequence: 1,
    isEnabled: true,
    conditions: { senderContains: ['ortho'] },
    actions: { forwardTo: [recipient('Zoë Ångström', `zoe.angstrom@${DEMO_INITIAL_DOMAIN}`)], stopProcessingRules: false },
  });
  rule('megan', 1, {
    displayName: 'Newsletters',
    sequence: 1,
    isEnabled: true,
    conditions: { senderContains: ['newsletter'] },
    actions: { moveToFolder: 'AAMkAGI2TGuMAAA=', markAsRead: true },
  });
}

function buildRoleDefinitions(): DemoTenantSeed['roleDefinitions'] {
  return (Object.keys(ROLE_TEMPLATE_IDS) as RoleKey[]).map((k) => ({
    id: ROLE_TEMPLATE_IDS[k],
    templateId: ROLE_TEMPLATE_IDS[k],
    displayName: ROLE_NAMES[k][0],
    description: ROLE_NAMES[k][1],
    isBuiltIn: true,
    isEnabled: true,
    resourceScopes: ['/'],
    version: '1',
    rolePermissions: [{ allowedResourceActions: [`microsoft.directory/${k}/allTasks`], condition: null }],
  }));
}

/**
 * Assignment ids look like Graph's: base64url(role definition id) + base64url(principal id) + "-1".
 */
export function roleAssignmentId(roleDefinitionId: string, principalId: string): string {
  const b64 = (guid: string) => Buffer.from(guid.replace(/-/g, ''), 'hex').toString('base64url');
  return `${b64(roleDefinitionId)}${b64(principalId)}-1`;
}

function buildRoleAssignments(people: PersonSpec[]): DemoRoleAssignment[] {
  const out: DemoRoleAssignment[] = [];
  for (const p of people) {
    for (const role of p.roles ?? []) {
      const roleDefinitionId = ROLE_TEMPLATE_IDS[role];
      out.push({ id: roleAssignmentId(roleDefinitionId, p.id), principalId: p.id, roleDefinitionId, directoryScopeId: '/' });
    }
  }
  return out;
}

const GB_LOCATIONS = [
  { city: 'Bristol', state: 'Bristol', countryOrRegion: 'GB', ip: '81.2.69.' },
  { city: 'Bath', state: 'Somerset', countryOrRegion: 'GB', ip: '86.11.40.' },
  { city: 'London', state: 'London', countryOrRegion: 'GB', ip: '51.148.12.' },
  { city: 'Cardiff', state: 'Wales', countryOrRegion: 'GB', ip: '92.40.176.' },
];
const APPS = [
  { name: 'Office 365 Exchange Online', appId: '00000002-0000-0ff1-ce00-000000000000' },
  { name: 'Microsoft Teams', appId: '1fec8e78-bce4-4aaf-ab1b-5451cc387264' },
  { name: 'OfficeHome', appId: '4765445b-32c6-49b0-83e6-1d93765276ca' },
];

interface SignInSpec {
  user: DemoUserRecord;
  at: number;
  loc: { city: string; state: string; countryOrRegion: string; ip: string };
  app?: { name: string; appId: string };
  clientAppUsed?: string;
  errorCode?: number;
  failureReason?: string;
  interactive?: boolean;
}

function signIn(s: SignInSpec, n: number): DemoTenantSeed['signIns'][number] {
  const app = s.app ?? APPS[n % APPS.length];
  const ok = (s.errorCode ?? 0) === 0;
  return {
    id: guidFrom(`signin/${s.user.user.id}/${s.at}/${n}`),
    createdDateTime: new Date(s.at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    userId: s.user.user.id,
    userDisplayName: s.user.user.displayName,
    userPrincipalName: s.user.user.userPrincipalName,
    appId: app.appId,
    appDisplayName: app.name,
    clientAppUsed: s.clientAppUsed ?? 'Browser',
    ipAddress: s.loc.ip + String(10 + (n % 200)),
    location: { city: s.loc.city, state: s.loc.state, countryOrRegion: s.loc.countryOrRegion, geoCoordinates: null },
    status: { errorCode: s.errorCode ?? 0, failureReason: ok ? 'Other.' : s.failureReason ?? 'Invalid username or password or Invalid on-premise username or password.', additionalDetails: null },
    conditionalAccessStatus: 'notApplied', // no enforced policy applies to these sign-ins
    isInteractive: s.interactive ?? true,
    riskDetail: 'none',
    riskLevelAggregated: 'none',
    riskLevelDuringSignIn: 'none',
    riskState: 'none',
    riskEventTypes_v2: [],
    resourceDisplayName: app.name,
    resourceId: app.appId,
    correlationId: guidFrom(`corr/${s.user.user.id}/${s.at}/${n}`),
    deviceDetail: { browser: s.clientAppUsed && s.clientAppUsed !== 'Browser' ? '' : 'Edge 126.0.0', operatingSystem: 'Windows10', displayName: '', deviceId: '', isCompliant: false, isManaged: false, trustType: '' },
    appliedConditionalAccessPolicies: [],
  };
}

function buildSignIns(users: Map<string, DemoUserRecord>, now: Date, rnd: () => number): DemoTenantSeed['signIns'] {
  const specs: SignInSpec[] = [];
  const nowMs = now.getTime();
  // Ordinary working days in the UK for every enabled, licensed member.
  for (const [key, rec] of users) {
    if (!rec.user.accountEnabled || rec.user.userType !== 'Member' || !rec.hasMailbox) continue;
    const created = Date.parse(rec.user.createdDateTime!);
    for (let d = 0; d < 30; d++) {
      if (rnd() < 0.45) continue;
      const at = nowMs - d * DAY_MS - Math.floor(rnd() * 9 * 3600_000) - 60_000;
      if (at < created) continue;
      specs.push({ user: rec, at, loc: key === 'dana' ? GB_LOCATIONS[0] : pick(GB_LOCATIONS, rnd) });
    }
  }
  const dana = users.get('dana')!;
  const lagos = { city: 'Lagos', state: 'Lagos', countryOrRegion: 'NG', ip: '102.89.34.' };
  const moscow = { city: 'Moscow', state: 'Moscow', countryOrRegion: 'RU', ip: '95.165.8.' };
  // The compromise: a failed attempt from Russia, then successful sign-ins from Nigeria.
  specs.push({ user: dana, at: nowMs - 6 * DAY_MS - 3 * 3600_000, loc: moscow, errorCode: 50126, failureReason: 'Error validating credentials due to invalid username or password.' });
  specs.push({ user: dana, at: nowMs - 5 * DAY_MS - 2 * 3600_000, loc: lagos, app: APPS[0] });
  specs.push({ user: dana, at: nowMs - 5 * DAY_MS - 1 * 3600_000, loc: lagos, app: APPS[2] });
  specs.push({ user: dana, at: nowMs - 2 * DAY_MS - 4 * 3600_000, loc: lagos, app: APPS[0] });
  // Legacy authentication: the reception scanner / old mail client on Lynne's account.
  const lynne = users.get('lynne')!;
  for (let d = 1; d < 28; d += 3) {
    specs.push({ user: lynne, at: nowMs - d * DAY_MS - 3600_000, loc: GB_LOCATIONS[0], app: APPS[0], clientAppUsed: 'IMAP4', interactive: false });
    specs.push({ user: lynne, at: nowMs - d * DAY_MS - 2 * 3600_000, loc: GB_LOCATIONS[0], app: APPS[0], clientAppUsed: 'Authenticated SMTP', interactive: false });
  }
  return specs.map((s, i) => signIn(s, i));
}

function buildConditionalAccess(now: Date): DemoTenantSeed['conditionalAccessPolicies'] {
  const base = {
    sessionControls: null,
    templateId: null,
  };
  return [
    {
      ...base,
      id: guidFrom('ca/require-mfa-admins'),
      displayName: 'Require MFA for admins',
      description: null,
      state: 'enabledForReportingButNotEnforced',
      createdDateTime: daysBefore(now, 400),
      modifiedDateTime: daysBefore(now, 380),
      conditions: {
        applications: { includeApplications: ['All'], excludeApplications: [], includeUserActions: [], includeAuthenticationContextClassReferences: [] },
        users: {
          includeUsers: [], excludeUsers: [], includeGroups: [], excludeGroups: [],
          includeRoles: [ROLE_TEMPLATE_IDS.globalAdministrator, ROLE_TEMPLATE_IDS.securityAdministrator, ROLE_TEMPLATE_IDS.exchangeAdministrator],
          excludeRoles: [], includeGuestsOrExternalUsers: null, excludeGuestsOrExternalUsers: null,
        },
        clientAppTypes: ['all'],
        signInRiskLevels: [],
        userRiskLevels: [],
        platforms: null,
        locations: null,
      },
      grantControls: { operator: 'OR', builtInControls: ['mfa'], customAuthenticationFactors: [], termsOfUse: [], authenticationStrength: null },
    },
    {
      ...base,
      id: guidFrom('ca/mfa-high-risk'),
      displayName: 'MFA for risky sign-ins',
      description: null,
      state: 'enabled',
      createdDateTime: daysBefore(now, 700),
      modifiedDateTime: daysBefore(now, 700),
      conditions: {
        applications: { includeApplications: ['All'], excludeApplications: [], includeUserActions: [], includeAuthenticationContextClassReferences: [] },
        users: {
          includeUsers: ['All'], excludeUsers: [DEMO_USERS.itsupport.id], includeGroups: [], excludeGroups: [],
          includeRoles: [], excludeRoles: [], includeGuestsOrExternalUsers: null, excludeGuestsOrExternalUsers: null,
        },
        clientAppTypes: ['browser', 'mobileAppsAndDesktopClients'],
        signInRiskLevels: ['high'],
        userRiskLevels: [],
        platforms: null,
        locations: null,
      },
      grantControls: { operator: 'OR', builtInControls: ['mfa'], customAuthenticationFactors: [], termsOfUse: [], authenticationStrength: null },
    },
  ];
}

/** Secure Score controls: (name, category, max, today's score, title). */
const CONTROLS: [string, string, number, number, string][] = [
  ['AdminMFAV2', 'Identity', 10, 4, 'Ensure multifactor authentication is enabled for all users in administrative roles'],
  ['MFARegistrationV2', 'Identity', 9, 7, 'Ensure all users can complete multifactor authentication'],
  ['BlockLegacyAuthentication', 'Identity', 8, 0, 'Enable Conditional Access policies to block legacy authentication'],
  ['mip_search_auditlog', 'Data', 3, 0, 'Ensure Microsoft 365 audit log search is Enabled'],
  ['OneAdmin', 'Identity', 1, 1, 'Designate more than one global admin'],
  ['aad_admin_accounts_separate_unassigned_cloud_only', 'Identity', 3, 0, 'Ensure administrative accounts are separate, unassigned and cloud-only'],
  ['SelfServicePasswordReset', 'Identity', 1, 1, 'Enable self-service password reset'],
  ['SigninRiskPolicy', 'Identity', 7, 7, 'Turn on sign-in risk policy'],
  ['UserRiskPolicy', 'Identity', 7, 0, 'Turn on user risk policy'],
  ['exo_mailboxaudit', 'Apps', 5, 5, 'Ensure mailbox auditing is enabled for all users'],
  ['mdo_autoforwardingmode', 'Apps', 8, 4, 'Ensure all forms of mail forwarding are blocked and/or disabled'],
  ['PWAgePolicyNew', 'Identity', 8, 8, 'Set the password expiration policy to never expire'],
  ['IntegratedApps', 'Data', 10, 1, 'Do not allow users to grant consent to unreliable applications'],
];
export const SECURE_SCORE_MAX = CONTROLS.reduce((a, c) => a + c[2], 0);
export const SECURE_SCORE_TODAY = CONTROLS.reduce((a, c) => a + c[3], 0);

function buildSecureScores(tenantId: string, now: Date, licensedUsers: number, activeUsers: number): DemoTenantSeed['secureScores'] {
  const out: DemoTenantSeed['secureScores'] = [];
  for (let d = 0; d < 35; d++) {
    // Trending down: a few points higher a month ago (forwarding and admin MFA regressed).
    const drift = Math.min(4, Math.floor(d / 8));
    const controlScores = CONTROLS.map(([name, category, max, today, title], i) => {
      const score = Math.min(max, today + (i === 0 || i === 10 ? Math.ceil(drift / 2) : 0));
      return { controlCategory: category, controlName: name, description: title, score, scoreInPercentage: Math.round((score / max) * 10000) / 100, implementationStatus: '', lastSynced: daysBefore(now, d, 2) };
    });
    const day = new Date(now.getTime() - d * DAY_MS);
    out.push({
      id: `${tenantId}_${day.toISOString().slice(0, 10)}`,
      azureTenantId: tenantId,
      activeUserCount: activeUsers,
      licensedUserCount: licensedUsers,
      createdDateTime: daysBefore(now, d, 2),
      currentScore: controlScores.reduce((a, c) => a + c.score, 0),
      maxScore: SECURE_SCORE_MAX,
      enabledServices: ['HasExchange', 'HasSharePoint', 'HasOD4B', 'HasTeams'],
      averageComparativeScores: [
        { basis: 'AllTenants', averageScore: 41.6 },
        { basis: 'TotalSeats', averageScore: 38.9, seatSizeRangeLowerValue: 26, seatSizeRangeUpperValue: 50 } as MG.AverageComparativeScore,
      ],
      controlScores,
      vendorInformation: { provider: 'SecureScore', providerVersion: null, subProvider: null, vendor: 'Microsoft' },
    });
  }
  return out;
}

function buildControlProfiles(tenantId: string, now: Date): DemoTenantSeed['secureScoreControlProfiles'] {
  return CONTROLS.map(([name, category, max, , title], i) => ({
    id: name,
    azureTenantId: tenantId,
    title,
    controlCategory: category,
    maxScore: max,
    rank: i + 1,
    actionType: 'Config',
    service: category === 'Apps' ? 'EXO' : category === 'Data' ? 'MIP' : 'AzureAD',
    tier: 'Core',
    userImpact: 'Low',
    implementationCost: 'Low',
    threats: ['Account Breach'],
    deprecated: false,
    remediation: `<p>${title}.</p>`,
    remediationImpact: 'Users may be asked to change how they sign in.',
    actionUrl: 'https://security.microsoft.com/securescore',
    lastModifiedDateTime: daysBefore(now, 60),
    controlStateUpdates: [],
    complianceInformation: [],
    vendorInformation: { provider: 'SecureScore', providerVersion: null, subProvider: null, vendor: 'Microsoft' },
  }));
}

/** Build the Northwind Dental Care tenant as of `now`. */
export function defaultSeed(now: Date = new Date()): DemoTenantSeed {
  const rnd = prng(20240611);
  const users = new Map<string, DemoUserRecord>();
  for (const p of PEOPLE) users.set(p.key, buildUser(p, now, rnd));
  addInboxRules(users);

  const members = [...users.values()].filter((r) => r.user.userType === 'Member');
  const groups: DemoGroup[] = [
    { id: DEMO_APPROVER_GROUP_ID, displayName: 'Vigil Security Approvers', description: 'People who can approve Vigil remediations', mailEnabled: false, securityEnabled: true, members: [DEMO_USERS.megan.id, DEMO_PRACTICE_MANAGEMENT_GROUP_ID] },
    { id: DEMO_PRACTICE_MANAGEMENT_GROUP_ID, displayName: 'Practice Management', description: 'Practice management team', mailEnabled: false, securityEnabled: true, members: [DEMO_USERS.patti.id] },
    { id: DEMO_ALL_STAFF_GROUP_ID, displayName: 'All Staff', description: 'Everyone at Northwind Dental Care', mailEnabled: true, securityEnabled: false, members: members.filter((r) => r.user.accountEnabled).map((r) => r.user.id) },
  ];
  const licensed = members.filter((r) => r.user.assignedLicenses!.length > 0).length;

  return {
    tenantId: DEMO_TENANT_ID,
    organization: {
      id: DEMO_TENANT_ID,
      displayName: 'Northwind Dental Care',
      countryLetterCode: 'GB',
      country: null,
      city: 'Bristol',
      street: '12 Whiteladies Road',
      postalCode: 'BS8 1PD',
      state: null,
      preferredLanguage: 'en',
      createdDateTime: daysBefore(now, 1460, 8),
      tenantType: 'AAD',
      businessPhones: ['+44 117 496 0123'],
      technicalNotificationMails: [`itsupport@${DEMO_INITIAL_DOMAIN}`],
      securityComplianceNotificationMails: [],
      marketingNotificationEmails: [],
      onPremisesSyncEnabled: null,
      verifiedDomains: [
        { capabilities: 'Email, OfficeCommunicationsOnline', isDefault: true, isInitial: false, name: DEMO_DOMAIN, type: 'Managed' },
        { capabilities: 'Email, OfficeCommunicationsOnline', isDefault: false, isInitial: true, name: DEMO_INITIAL_DOMAIN, type: 'Managed' },
      ],
      assignedPlans: [],
      provisionedPlans: [],
    },
    domains: [
      { id: DEMO_DOMAIN, authenticationType: 'Managed', availabilityStatus: null, isAdminManaged: true, isDefault: true, isInitial: false, isRoot: true, isVerified: true, passwordNotificationWindowInDays: 14, passwordValidityPeriodInDays: 2147483647, supportedServices: ['Email', 'OfficeCommunicationsOnline'], state: null },
      { id: DEMO_INITIAL_DOMAIN, authenticationType: 'Managed', availabilityStatus: null, isAdminManaged: true, isDefault: false, isInitial: true, isRoot: true, isVerified: true, passwordNotificationWindowInDays: 14, passwordValidityPeriodInDays: 2147483647, supportedServices: ['Email', 'OfficeCommunicationsOnline'], state: null },
    ],
    skus: [
      {
        id: `${DEMO_TENANT_ID}_${SKU_BUSINESS_PREMIUM}`,
        accountId: DEMO_TENANT_ID,
        accountName: 'Northwind Dental Care',
        appliesTo: 'User',
        capabilityStatus: 'Enabled',
        consumedUnits: licensed, // recomputed live by the route
        prepaidUnits: { enabled: 40, suspended: 0, warning: 0, lockedOut: 0 },
        servicePlans: BUSINESS_PREMIUM_PLANS,
        skuId: SKU_BUSINESS_PREMIUM,
        skuPartNumber: 'SPB',
        subscriptionIds: [guidFrom('subscription/spb')],
      },
    ],
    users: [...users.values()],
    groups,
    roleDefinitions: buildRoleDefinitions(),
    roleAssignments: buildRoleAssignments(PEOPLE),
    roleEligibilities: [],
    signIns: buildSignIns(users, now, rnd),
    securityDefaultsEnabled: false,
    conditionalAccessPolicies: buildConditionalAccess(now),
    secureScores: buildSecureScores(DEMO_TENANT_ID, now, licensed, licensed),
    secureScoreControlProfiles: buildControlProfiles(DEMO_TENANT_ID, now),
    riskyUsers: [
      {
        id: DEMO_USERS.dana.id,
        userDisplayName: DEMO_USERS.dana.name,
        userPrincipalName: DEMO_USERS.dana.upn,
        riskLevel: 'high',
        riskState: 'atRisk',
        riskDetail: 'none',
        riskLastUpdatedDateTime: daysBefore(now, 5, 11),
        isDeleted: false,
        isProcessing: false,
      },
      // Flagged last year and remediated (password reset): no longer at risk, not a finding.
      {
        id: DEMO_USERS.adele.id,
        userDisplayName: DEMO_USERS.adele.name,
        userPrincipalName: DEMO_USERS.adele.upn,
        riskLevel: 'none',
        riskState: 'remediated',
        riskDetail: 'userPerformedSecuredPasswordReset',
        riskLastUpdatedDateTime: daysBefore(now, 320, 15),
        isDeleted: false,
        isProcessing: false,
      },
    ],
  };
}
