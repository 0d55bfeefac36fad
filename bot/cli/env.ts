/**
 * The command line reads the same configuration as the bot: the environment, plus a `.env` file in
 * the current directory (as `npm start` does). Variables already set in the environment win.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseEnv } from 'node:util';

export function environmentWithDotEnv(cwd: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const file = path.join(cwd, '.env');
  if (!fs.existsSync(file)) return env;
  const fromFile = parseEnv(fs.readFileSync(file, 'utf8'));
  const merged: NodeJS.ProcessEnv = { ...fromFile };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) merged[k] = v;
  return merged;
}
