/** A real Vigil logger (pino, with its redaction) whose lines are kept in memory for a test to read. */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../../bot/log';

export interface MemoryLog {
  log: Logger;
  /** Every line, parsed. */
  lines: Array<Record<string, any>>;
  /** Every line as written. */
  raw: string[];
}

export function memoryLogger(level = 'debug'): MemoryLog {
  const lines: Array<Record<string, any>> = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) {
        if (!line) continue;
        raw.push(line);
        lines.push(JSON.parse(line));
      }
      done();
    },
  });
  return { log: createLogger(level, stream), lines, raw };
}
