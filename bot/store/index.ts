import { ApprovalStore } from './approvals';
import { AuditLog } from './audit';
import { CardRefStore } from './cardRefs';
import { ChannelStore } from './channels';
import { openDatabase, type Database, type DatabaseOptions } from './db';

export * from './approvals';
export * from './audit';
export * from './cardRefs';
export * from './channels';
export type { Database, Queryable } from './db';

export interface Store {
  db: Database;
  approvals: ApprovalStore;
  audit: AuditLog;
  channels: ChannelStore;
  cardRefs: CardRefStore;
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
    close: () => db.close(),
  };
}
