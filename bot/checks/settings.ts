/**
 * What the posture checks are told by configuration (per tenant): break-glass accounts to leave
 * out, the countries sign-ins are expected from, how far back to read sign-ins, and the optional
 * Exchange Online reader. A check's `read` copies what it needs into its reads, so `evaluate`
 * stays a pure function of them.
 */
import type { VigilConfig } from '../config';
import { createCredential } from '../graph/client';
import { ExchangeAdminClient, type ExchangeReader } from './exchangeReader';
import type { Subject } from './types';

export interface CheckSettings {
  /** UPNs (lower-cased) or object ids: shown as excluded, never as findings. */
  excludedAccounts: string[];
  /** ISO 3166-1 alpha-2, upper case; empty = the tenant's own country. */
  allowedCountries: string[];
  signInLookbackDays: number;
  /** The Exchange Online admin API reader, when configured. */
  exchange?: ExchangeReader;
}

export const DEFAULT_CHECK_SETTINGS: CheckSettings = Object.freeze({
  excludedAccounts: [],
  allowedCountries: [],
  signInLookbackDays: 30,
}) as CheckSettings;

/** Per-tenant settings from configuration. The Exchange reader is built lazily, once per tenant. */
export function checkSettingsFor(config: VigilConfig, demoExcludedAccounts: string[] = []): (tenantId: string) => CheckSettings {
  const excludedAccounts = config.checks.excludedAccounts.length ? config.checks.excludedAccounts : demoExcludedAccounts.map((a) => a.toLowerCase());
  const readers = new Map<string, ExchangeReader>();
  const exchangeFor = (tenantId: string): ExchangeReader | undefined => {
    if (!config.checks.exchange.enabled || !config.graph.credential) return undefined;
    let reader = readers.get(tenantId.toLowerCase());
    if (!reader) {
      const credential = createCredential({ ...config.graph.credential, tenantId });
      reader = new ExchangeAdminClient({ baseUrl: config.checks.exchange.baseUrl, tenantId, credential });
      readers.set(tenantId.toLowerCase(), reader);
    }
    return reader;
  };
  return (tenantId) => ({
    excludedAccounts,
    allowedCountries: config.checks.allowedCountries,
    signInLookbackDays: config.checks.signInLookbackDays,
    exchange: exchangeFor(tenantId),
  });
}

/** Matches a person against EXCLUDED_ACCOUNTS (object id or UPN, case-insensitive). */
export function excludedMatcher(excluded: readonly string[]): (who: { id?: string | null; userPrincipalName?: string | null }) => boolean {
  const set = new Set(excluded.map((e) => e.toLowerCase()));
  return (who) => set.size > 0 && ((!!who.id && set.has(who.id.toLowerCase())) || (!!who.userPrincipalName && set.has(who.userPrincipalName.toLowerCase())));
}

/** The "excluded" list a check's data carries, for its card ("Excluded by configuration: …"). */
export interface ExcludedData {
  excluded?: Subject[];
}
