/**
 * What every Vigil process of the chat measurement shares: the environment it starts with and the
 * stand-in for the demo tenant (the simulator runs in its own process).
 */

export function vigilEnv(dataDir: string, databaseUrl?: string): NodeJS.ProcessEnv {
  return {
    PORT: '0',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    // No scheduled scans in the background of the measurements.
    SCAN_POLL_SECONDS: '0',
    // Vigil's own per-person (30/min) and per-tenant (150/min) chat limits would answer most of a
    // 300/s load with "slow down": lifted, so throughput is that of real answers.
    RATE_LIMIT_USER_PER_MINUTE: '1000000',
    RATE_LIMIT_TENANT_PER_MINUTE: '1000000',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  };
}

export { remoteDemo } from './remoteDemo';
