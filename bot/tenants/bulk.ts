/**
 * Registering tenants without chat: a JSON file for bulk set-up (TENANTS_FILE), and the demo's
 * extra customer tenants (DEMO_TENANTS > 1).
 */
import * as fs from 'node:fs';
import { z } from 'zod';
import type { TenantDirectory } from './directory';

const guid = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

const TenantsFileSchema = z.array(
  z.object({
    tenantId: z.string().regex(guid, 'must be a GUID'),
    displayName: z.string().min(1).max(80),
    approverIds: z.array(z.string().regex(guid, 'must be a GUID')).optional(),
    approverGroupId: z.string().regex(guid, 'must be a GUID').optional(),
    excludedAccounts: z.array(z.string().min(3)).optional(),
    scanIntervalMinutes: z.number().int().positive().optional(),
  }),
);

export type TenantsFile = z.infer<typeof TenantsFileSchema>;

/** Read and validate the file; one line per problem, naming the entry. */
export function readTenantsFile(path: string): TenantsFile {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`TENANTS_FILE: cannot read ${path}: ${(err as Error).message}`);
  }
  const parsed = TenantsFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`TENANTS_FILE: ${parsed.error.issues.map((i) => `[${i.path.join('.')}] ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

export async function registerTenants(directory: TenantDirectory, entries: TenantsFile, by: string, now: Date): Promise<string[]> {
  const problems: string[] = [];
  for (const e of entries) {
    if (directory.isHome(e.tenantId)) continue;
    const outcome = await directory.add({
      tenantId: e.tenantId,
      displayName: e.displayName,
      settings: { approverIds: e.approverIds, approverGroupId: e.approverGroupId, excludedAccounts: e.excludedAccounts, scanIntervalMinutes: e.scanIntervalMinutes },
      addedBy: by,
      now,
    });
    if (outcome === 'name-taken') problems.push(`${e.displayName}: another tenant already has that name`);
  }
  return problems;
}
