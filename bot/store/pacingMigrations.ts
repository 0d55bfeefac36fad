/** Graph budgets shared by every Vigil process on one PostgreSQL (bot/graph/pacing.ts). Versions 301+. */
export const PACING_MIGRATIONS: Array<{ version: number; sql: string }> = [];
