/** Incremental reads: the delta-synced users snapshot and its delta link (bot/graph/usersDelta.ts). Versions 201+. */
export const DELTA_MIGRATIONS: Array<{ version: number; sql: string }> = [];
