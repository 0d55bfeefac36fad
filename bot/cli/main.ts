/**
 * The `vigil` command line (bin/vigil.js runs this). One entry per command in COMMANDS: add a
 * command there and it appears in `vigil --help`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { auditCommand, auditUsage, EXIT, type CliIO } from './audit';
import { doctorCommand } from './doctor';

export type { CliIO, OutStream } from './audit';
export { EXIT } from './audit';

export interface CliCommand {
  /** One line for `vigil --help`. */
  summary: string;
  run(io: CliIO): Promise<number>;
}

export const COMMANDS: Record<string, CliCommand> = {
  audit: { summary: 'Run the security checks and print a table, JSON, CSV or the PDF report', run: auditCommand },
  doctor: { summary: "Check the Graph app's granted permissions (token roles) against what Vigil needs", run: doctorCommand },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return (
    'Usage: vigil <command> [options]\n\nCommands:\n' +
    Object.entries(COMMANDS)
      .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
      .join('\n') +
    '\n\nRun "vigil <command> --help" for a command\'s options. Example: npx vigil audit --demo --format pdf --out report.pdf\n'
  );
}

/** Runs one command; resolves to the process exit code. */
export async function runCli(io: CliIO): Promise<number> {
  const [name, ...rest] = io.argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    (name ? io.stdout : io.stderr).write(usage());
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === '-v' || name === '--version') {
    io.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`vigil: unknown command "${name}"\n\n${usage()}`);
    return EXIT.usage;
  }
  return command.run({ ...io, argv: rest });
}

function version(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    const file = path.join(__dirname, rel);
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'vigil') return pkg.version ?? '0.0.0';
    }
  }
  return '0.0.0';
}

export { auditUsage };
