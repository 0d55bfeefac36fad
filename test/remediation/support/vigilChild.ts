/**
 * One Vigil bot process for the multi-process tests: `startVigil` from the environment it is
 * given (a real-tenant configuration pointing at the test's demo tenant over HTTPS, a shared
 * PostgreSQL database). Prints {"url": …} when listening; stops cleanly on SIGTERM.
 *
 *   VIGIL_TEST_CLOCK_OFFSET_MS  run with a clock this far ahead (e.g. past a crashed process's lease)
 *   VIGIL_TEST_CRASH_AFTER_WRITE=1  die (SIGKILL, no clean-up) right after the Graph write, before
 *                                   the result is stored: the crash the restart test recovers from
 */
import { startVigil } from '../../../bot/index';

async function main(): Promise<void> {
  const offset = Number(process.env.VIGIL_TEST_CLOCK_OFFSET_MS ?? 0);
  const crash = process.env.VIGIL_TEST_CRASH_AFTER_WRITE === '1';
  const vigil = await startVigil({
    now: offset ? () => new Date(Date.now() + offset) : undefined,
    afterWrite: crash
      ? async () => {
          process.kill(process.pid, 'SIGKILL');
          await new Promise(() => undefined);
        }
      : undefined,
  });
  process.stdout.write(`${JSON.stringify({ url: vigil.url, pid: process.pid })}\n`);
  process.once('SIGTERM', () => {
    void vigil.stop().finally(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
