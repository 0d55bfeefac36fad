/**
 * Why a fix did not happen, in words an approver can act on: the Graph error code, and for a
 * missing permission or licence exactly which one to add.
 */
import { GraphRequestError } from '../graph/errors';
import type { RemediationAction } from './types';

/** Which part of a fix failed: the checks before it, the write itself, or the read-back after. */
export type Step = 'check' | 'write' | 'read-back';

export function explainFailure(err: unknown, action: RemediationAction, step: Step): { message: string; errorCode?: string } {
  if (err instanceof GraphRequestError) {
    const permission = step === 'write' ? action.permission : action.readPermission;
    if (err.isMissingPermission) {
      return {
        message:
          `Graph refused (${err.status} ${err.code}): Vigil's app lacks the application permission ${permission}. ` +
          `Add it in Entra (App registrations → Vigil → API permissions → Microsoft Graph → Application permissions), grant admin consent, and ask again.`,
        errorCode: err.code,
      };
    }
    if (err.isMissingLicence) {
      return { message: `Graph refused (${err.status} ${err.code}): the tenant lacks the licence this needs${action.licence ? ` (${action.licence})` : ''}.`, errorCode: err.code };
    }
    return { message: `Graph answered ${err.status} ${err.code}: ${err.message}`, errorCode: err.code };
  }
  return { message: err instanceof Error ? err.message : String(err) };
}
