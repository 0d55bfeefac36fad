/** The cards Vigil sends, each a JSON template plus the code that fills it. */
export { helpCard, type HelpContent } from './help';
export { messageCard, type MessageTone } from './message';
export { mfaRegistrationCard, type MfaCardPerson, type MfaCardView } from './mfaRegistration';
export { checkResultCard, gapLines, type CheckCardRow, type CheckCardView, type GapLine } from './checkResult';
export { approvalCard, type ApprovalCardView } from './approval';
export { render, literal, type Card } from './render';
export { alertCard, type AlertCardView, type AlertItemView } from './alert';
export { tenantsCard, type TenantRowView } from './tenants';
export { postureCard, type PostureCardView, type PostureCheckRow, type PostureTopRow, type PostureStatus } from './posture';
