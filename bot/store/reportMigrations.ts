/** Generated report files, so any Vigil process can serve a link another one made. Versions 401+. */
export const REPORT_MIGRATIONS: Array<{ version: number; sql: string }> = [
  {
    version: 401,
    sql: `
      CREATE TABLE report_files (
        id            text PRIMARY KEY,
        tenant_id     text NOT NULL,
        owner_id      text,
        name          text NOT NULL,
        content_type  text NOT NULL,
        bytes         bytea NOT NULL,
        created_at    timestamptz NOT NULL,
        expires_at    timestamptz NOT NULL
      );
      CREATE INDEX report_files_expiry ON report_files (expires_at);

      CREATE TABLE app_keys (
        name        text PRIMARY KEY,
        key         text NOT NULL,
        created_at  timestamptz NOT NULL
      );
    `,
  },
];
