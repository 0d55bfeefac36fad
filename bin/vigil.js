#!/usr/bin/env node
/**
 * `vigil` — Vigil's command line. From the repository, after `npm install`:
 *   npx vigil audit --demo --format json
 * (npm runs the project's own "bin" entry for `npx vigil`.) In a development checkout the
 * TypeScript sources run through tsx, so the command always matches the code; a production
 * install without dev dependencies runs the compiled dist/ (`npm run build`).
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function loadCli() {
  const source = path.join(root, 'bot', 'cli', 'main.ts');
  const compiled = path.join(root, 'dist', 'bot', 'cli', 'main.js');
  let tsx;
  try {
    tsx = require('tsx/cjs/api');
  } catch {
    tsx = undefined;
  }
  if (tsx && fs.existsSync(source)) {
    tsx.register();
    return require(source);
  }
  if (fs.existsSync(compiled)) return require(compiled);
  process.stderr.write('vigil: run "npm install" first (or "npm run build" for an install without dev dependencies).\n');
  process.exit(2);
}

const { runCli } = loadCli();
runCli({ argv: process.argv.slice(2), env: process.env, cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr }).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`vigil: ${(err && err.stack) || err}\n`);
    process.exit(3);
  },
);
