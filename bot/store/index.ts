import { ApprovalStore } from './approvals';
import { AuditLog } from './audit';
import { CardRefStore } from './cardRefs';
import { ChannelStore } from './channels';
import { openDatabase, type Database, type DatabaseOptions } from './db';
import { DirectoryUserStore } from './directoryUsers';
import { TenantStore } from './tenants';
import { WatchStore } from './watch';

export * from './approvals';
export * from './audit';
export * from './cardRefs';
export * from './channels';
export * from './directoryUsers';
export * from './reportFiles';
export * from './tenants';
export * from './watch';
export type { Database, Queryable } from './db';

export interface Store {
  db: Database;
  approvals: ApprovalStore;
  audit: AuditLog;
  channels: ChannelStore;
  cardRefs: CardRefStore;
  tenants: TenantStore;
  watch: WatchStore;
  /** The delta-synced users snapshot per tenant (scheduled scans read users from it). */
  directoryUsers: DirectoryUserStore;
  close(): Promise<void>;
}

export async function openStore(opts: DatabaseOptions): Promise<Store> {
  const db = await openDatabase(opts);
  return {
    db,
    approvals: new ApprovalStore(db),
    audit: new AuditLog(db),
    channels: new ChannelStore(db),
    cardRefs: new CardRefStore(db),
    tenants: new TenantStore(db),
    watch: new WatchStore(db),
    directoryUsers: new DirectoryUserStore(db),
    close: () => db.close(),
  };
}
