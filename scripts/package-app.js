#!/usr/bin/env node
// `npm run package [-- --env dev]`: builds the Teams app package the way the Agents Toolkit's
// teamsApp/zipAppPackage does, without the Toolkit and offline:
//   1. reads env/.env.<env> and env/.env.<env>.user (the .user file wins; it holds the secrets),
//   2. resolves every ${{NAME}} placeholder in appPackage/manifest.json (an unset or empty one is an error),
//   3. validates the result against the manifest schema bundled in @microsoft/app-manifest (no network),
//   4. writes appPackage/build/manifest.<env>.json and appPackage/build/appPackage.<env>.zip
//      (manifest.json + the two icons at the root of the zip, as Teams wants).
//
// Options: --env <name> (default dev), --env-folder <dir> (default ./env), --out <dir> (default
// appPackage/build), --app-package <dir> (default appPackage). Exit code 1 on any problem.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { parseArgs, parseEnv } = require('node:util');

const ROOT = path.resolve(__dirname, '..');
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function readEnv(folder, env) {
  const values = {};
  const files = [path.join(folder, `.env.${env}`), path.join(folder, `.env.${env}.user`)];
  if (!fs.existsSync(files[0])) throw new Error(`no ${path.relative(ROOT, files[0]) || files[0]}: environments are files env/.env.<name>`);
  for (const file of files) {
    if (fs.existsSync(file)) Object.assign(values, parseEnv(fs.readFileSync(file, 'utf8')));
  }
  return values;
}

/** Replace ${{NAME}} placeholders; returns the text and the names that had no value. */
function resolvePlaceholders(text, values) {
  const missing = new Set();
  const out = text.replace(/\$\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (match, name) => {
    const value = values[name];
    if (value === undefined || value === '') {
      missing.add(name);
      return match;
    }
    // The value lands inside a JSON string: escape it as JSON would.
    return JSON.stringify(String(value)).slice(1, -1);
  });
  return { text: out, missing: [...missing] };
}

/** Schema validation with the copy bundled in @microsoft/app-manifest; never fetches. */
async function validateManifest(manifest) {
  let lib;
  try {
    lib = require('@microsoft/app-manifest');
  } catch {
    return ['@microsoft/app-manifest is not installed (npm install): cannot validate the manifest'];
  }
  const prefix = 'https://developer.microsoft.com/';
  if (typeof manifest.$schema !== 'string' || !manifest.$schema.startsWith(prefix)) return [`unexpected $schema ${manifest.$schema}`];
  const bundled = path.join(path.dirname(require.resolve('@microsoft/app-manifest/package.json')), 'build', manifest.$schema.slice(prefix.length));
  if (!fs.existsSync(bundled)) return [`no bundled schema for ${manifest.$schema} (refusing to download it)`];
  const schema = JSON.parse(fs.readFileSync(bundled, 'utf8'));
  return lib.AppManifestUtils.validateAgainstSchema(manifest, schema);
}

async function buildPackage(options) {
  const env = options.env || 'dev';
  if (!/^[A-Za-z0-9_-]+$/.test(env)) throw new Error(`invalid environment name "${env}"`);
  const envFolder = path.resolve(options.envFolder || path.join(ROOT, 'env'));
  const appDir = path.resolve(options.appPackage || path.join(ROOT, 'appPackage'));
  const outDir = path.resolve(options.out || path.join(appDir, 'build'));
  const values = { TEAMSFX_ENV: env, ...readEnv(envFolder, env) };

  const { text, missing } = resolvePlaceholders(fs.readFileSync(path.join(appDir, 'manifest.json'), 'utf8'), values);
  if (missing.length) throw new Error(`${missing.join(', ')} not set in env/.env.${env} (run "atk provision --env ${env}" or set them by hand)`);
  const manifest = JSON.parse(text);

  const problems = [];
  if (!GUID.test(manifest.id ?? '')) problems.push(`id "${manifest.id}" is not a GUID (TEAMS_APP_ID)`);
  for (const [i, bot] of (manifest.bots ?? []).entries()) if (!GUID.test(bot.botId ?? '')) problems.push(`bots[${i}].botId "${bot.botId}" is not a GUID (BOT_ID)`);
  const icons = [manifest.icons?.color, manifest.icons?.outline];
  for (const icon of icons) if (!icon || !fs.existsSync(path.join(appDir, icon))) problems.push(`icon ${icon} not found in ${path.relative(ROOT, appDir)}`);
  problems.push(...(await validateManifest(manifest)));
  if (problems.length) throw new Error(`the manifest is not valid:\n  - ${problems.join('\n  - ')}`);

  let AdmZip;
  try {
    AdmZip = require('adm-zip');
  } catch {
    throw new Error('adm-zip is not installed (npm install)');
  }
  fs.mkdirSync(outDir, { recursive: true });
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  const manifestOut = path.join(outDir, `manifest.${env}.json`);
  fs.writeFileSync(manifestOut, manifestText);
  const zip = new AdmZip();
  zip.addFile('manifest.json', Buffer.from(manifestText, 'utf8'));
  for (const icon of [...new Set(icons)]) zip.addFile(path.basename(icon), fs.readFileSync(path.join(appDir, icon)));
  const zipOut = path.join(outDir, `appPackage.${env}.zip`);
  zip.writeZip(zipOut);
  return { zip: zipOut, manifest: manifestOut };
}

async function main() {
  const { values } = parseArgs({
    options: {
      env: { type: 'string', default: 'dev' },
      'env-folder': { type: 'string' },
      out: { type: 'string' },
      'app-package': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log('Usage: npm run package -- [--env dev] [--env-folder env] [--out appPackage/build] [--app-package appPackage]');
    return;
  }
  const result = await buildPackage({ env: values.env, envFolder: values['env-folder'], out: values.out, appPackage: values['app-package'] });
  console.log(`Teams app package: ${path.relative(process.cwd(), result.zip)} (manifest: ${path.relative(process.cwd(), result.manifest)})`);
  console.log('Upload it in Teams (Apps > Manage your apps > Upload an app) or in the Teams admin center.');
}

module.exports = { buildPackage, resolvePlaceholders, readEnv };

if (require.main === module) {
  main().catch((err) => {
    console.error(`package: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
