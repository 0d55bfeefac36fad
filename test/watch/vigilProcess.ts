/**
 * A whole Vigil process for multi-process tests: starts from its environment exactly like
 * `npm start`, prints READY with its worker id, and stops on SIGTERM.
 */
import { startVigil } from '../../bot/index';

void (async () => {
  const vigil = await startVigil();
  process.stdout.write(`READY ${vigil.url} ${vigil.watchman.worker}\n`);
  process.on('SIGTERM', () => {
    void vigil.stop().then(() => process.exit(0));
  });
})().catch((err) => {
  process.stderr.write(`FAILED ${(err as Error).stack}\n`);
  process.exit(1);
});
