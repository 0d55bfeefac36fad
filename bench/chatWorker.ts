/**
 * Child process of bench/chat.ts for `--chat-processes=N`: one more whole Vigil (startVigil) on the
 * same PostgreSQL and simulator, as a second instance behind a load balancer would be. It answers
 * on its own port; the chat child spreads the throughput load over all instances and asks each for
 * the CPU it spent.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startVigil, type Vigil } from '../bot/index';
import { paceHost } from '../bot/graph/pacing';
import { parentPeer } from './ipc';
import { remoteDemo, vigilEnv } from './chatVigil';
import type { SimInfo } from './sim';

export interface ChatWorkerStart {
  info: SimInfo;
  databaseUrl: string;
}

let vigil: Vigil | undefined;
let dataDir: string | undefined;
let cpuMark = process.cpuUsage();

const parent = parentPeer();
parent.handle('start', async (arg) => {
  const { info, databaseUrl } = arg as ChatWorkerStart;
  paceHost(new URL(info.baseUrl).hostname);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-worker-'));
  vigil = await startVigil({ env: vigilEnv(dataDir, databaseUrl), demoTenant: remoteDemo(info) });
  return vigil.url;
});
/** CPU (user + system, ms) since the last mark, and a new mark. */
parent.handle('cpu', () => {
  const used = process.cpuUsage(cpuMark);
  cpuMark = process.cpuUsage();
  return (used.user + used.system) / 1000;
});
process.on('exit', () => {
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});
