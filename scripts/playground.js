#!/usr/bin/env node
// `npm run playground`: starts the Microsoft 365 Agents Playground (a local
// Teams simulator) against the bot at http://127.0.0.1:${PORT||3978}/api/messages,
// with the repo's mock tenant (.m365agentsplayground.yml), and prints the URL.
//
//   npm run playground                  Alex Wilber (admin), UI on port 56150
//   npm run playground -- --approver    Megan Bowen (approver), UI on port 56151
//   npm run playground -- --port 57000  another UI port; other unknown flags are
//                                       passed through to agentsplayground
//
// The two instances run side by side but are separate Teams "worlds": each has
// its own connector (serviceUrl http://localhost:<port>/_connector), so the bot
// reaches a person only through the serviceUrl of the instance they use.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');

const INSTANCES = {
  admin: { config: '.m365agentsplayground.yml', port: 56150, log: 'm365agentsplayground.log', who: 'Alex Wilber' },
  approver: { config: '.m365agentsplayground.approver.yml', port: 56151, log: 'm365agentsplayground.approver.log', who: 'Megan Bowen' },
};

const HELP = `Usage: node scripts/playground.js [--approver] [--port N] [agentsplayground flags...]

Starts the Agents Playground for Vigil against http://127.0.0.1:$PORT/api/messages
(PORT defaults to 3978).
  --approver   play Megan Bowen (.m365agentsplayground.approver.yml) on port 56151
  --port N     Playground UI port (default 56150, or 56151 with --approver)
Env: PLAYGROUND_PORT sets the UI port; TEAMSAPPTESTER_BROWSER=none is the default
(set it to another value to let the Playground open a browser itself).`;

/** Splits our own flags from the ones forwarded to agentsplayground. */
function parseArgs(argv) {
  const options = { approver: false, port: undefined, help: false, passThrough: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--approver') options.approver = true;
    else if (arg === '--help' || arg === '-h') options.help = true;
    else if (arg === '--port' || arg === '-p') options.port = Number(argv[++i]);
    else if (arg.startsWith('--port=')) options.port = Number(arg.slice('--port='.length));
    else options.passThrough.push(arg);
  }
  return options;
}

function botEndpoint() {
  return `http://127.0.0.1:${process.env.PORT || 3978}/api/messages`;
}

/** Runs the package's cli.js with this Node rather than the .bin shim (which differs on Windows). */
function playgroundCli() {
  const pkgDir = path.dirname(require.resolve('@microsoft/m365agentsplayground/package.json', { paths: [ROOT] }));
  return path.join(pkgDir, 'cli.js');
}

/**
 * Prints the Playground's log. When its stdout is not a terminal (we pipe it to
 * read the port) the Playground writes console output, errors included, ONLY
 * to this file, which it deletes and recreates on every start.
 */
function printLog(logFile) {
  let text;
  try {
    text = fs.readFileSync(logFile, 'utf8');
  } catch {
    return;
  }
  // "debug" lines are websocket buffering noise; errors are logged as "error ...".
  const lines = text.split('\n').filter((line) => line.trim() && !line.startsWith('debug '));
  if (lines.length > 0) console.error(`\nFrom ${path.relative(ROOT, logFile)}:\n${lines.slice(-15).join('\n')}`);
}

/**
 * Prints the URL once the Playground looks healthy. It says "Listening" before
 * it reads the config file and exits (code 1) a moment later if the file is
 * invalid, so wait briefly rather than send the user to a dead URL.
 */
function announce(child, requestedPort, actualPort) {
  setTimeout(() => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (actualPort !== requestedPort) console.warn(`Port ${requestedPort} was busy; the Playground took ${actualPort} instead.`);
    console.log(`\nOpen http://localhost:${actualPort} (Ctrl+C to stop)\n`);
  }, 1500).unref();
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.help) {
    console.log(HELP);
    return;
  }
  const instance = options.approver ? INSTANCES.approver : INSTANCES.admin;
  const port = options.port || Number(process.env.PLAYGROUND_PORT) || instance.port;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`invalid --port ${options.port}`);
  const configFile = path.join(ROOT, instance.config);
  if (!fs.existsSync(configFile)) throw new Error(`missing ${instance.config}`);
  // Separate log per instance so two instances do not interleave one file.
  const logFile = path.join(ROOT, 'devTools', instance.log);

  const args = [playgroundCli(), '-e', botEndpoint(), '-c', 'msteams', '--disable-telemetry', '-p', String(port), ...options.passThrough];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['inherit', 'pipe', 'inherit'],
    env: {
      ...process.env,
      TEAMSAPPTESTER_BROWSER: process.env.TEAMSAPPTESTER_BROWSER || 'none',
      M365_AGENTS_PLAYGROUND_CONFIG_PATH: configFile,
      M365_AGENTS_PLAYGROUND_LOGFILE: logFile,
    },
  });

  console.log(`Agents Playground as ${instance.who} (${instance.config}) -> bot at ${botEndpoint()}`);
  console.log(`Playground log: ${path.relative(ROOT, logFile)}`);
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    // The Playground silently falls back to a random port when the requested one is busy.
    const match = /Listening on (\d+)/.exec(chunk);
    if (match) announce(child, port, Number(match[1]));
  });

  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (code) {
      console.error(`\nAgents Playground exited with code ${code}.`);
      printLog(logFile);
    }
    process.exitCode = code ?? (signal ? 1 : 0);
  });
}

try {
  main();
} catch (err) {
  console.error(`playground: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
