/** Every check Vigil runs, by id. Adding a check: one file here, one card, one test. */
import { mfaRegistration } from './mfaRegistration';
import type { Check } from './types';

export const CHECKS: Check[] = [mfaRegistration as Check];

export function findCheck(id: string): Check | undefined {
  return CHECKS.find((c) => c.id === id);
}

export { CheckRunner } from './runner';
export type * from './types';
