// Checks the Teams app package (appPackage/) without network access:
// the manifest against the schema bundled in @microsoft/app-manifest, the
// icons' sizes and colours, and Teams' limits on bot commands.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { AppManifestUtils, type AppManifest } from '@microsoft/app-manifest';

const ROOT = path.join(__dirname, '..');
const APP_PACKAGE = path.join(ROOT, 'appPackage');
// The Agents Toolkit resolves ${{...}} at package time; the schema wants GUIDs.
const SAMPLE_IDS: Record<string, string> = {
  TEAMS_APP_ID: '3f2b6c1e-8d4a-4b7e-9c2f-1a5d7e9b0c31',
  BOT_ID: '00000000-0000-4000-8000-0000000000b0',
};
const QUESTIONS = [
  'who lacks MFA?',
  'is MFA enforced?',
  'who are the admins?',
  'any forwarding rules?',
  'how are we doing?',
  'use this channel for approvals',
  'help',
];

interface Command {
  title: string;
  description: string;
}
interface Bot {
  botId: string;
  scopes: string[];
  supportsFiles?: boolean;
  isNotificationOnly?: boolean;
  commandLists: { scopes: string[]; commands: Command[] }[];
}
interface Manifest {
  $schema: string;
  manifestVersion: string;
  icons: { color: string; outline: string };
  bots: Bot[];
}

function readManifestText(): string {
  return fs.readFileSync(path.join(APP_PACKAGE, 'manifest.json'), 'utf8');
}

/** Substitutes the Toolkit placeholders the way `teamsapp package` would. */
function resolvedManifest(): Manifest {
  const text = readManifestText().replace(/\$\{\{(\w+)\}\}/g, (match, name: string) => SAMPLE_IDS[name] ?? match);
  return JSON.parse(text) as Manifest;
}

/** Where @microsoft/app-manifest keeps the schema for a developer.microsoft.com URL. */
function bundledSchemaPath(schemaUrl: string): string {
  const prefix = 'https://developer.microsoft.com/';
  assert.ok(schemaUrl.startsWith(prefix), `unexpected $schema ${schemaUrl}`);
  const packageRoot = path.dirname(require.resolve('@microsoft/app-manifest/package.json'));
  return path.join(packageRoot, 'build', schemaUrl.slice(prefix.length));
}

// ------------------------------------------------------------- PNG decoding

interface Png {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlace: number;
  data: Buffer[]; // IDAT payloads
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function readPng(file: string): Png {
  const buf = fs.readFileSync(file);
  assert.ok(buf.subarray(0, 8).equals(PNG_SIGNATURE), `${file} is not a PNG`);
  // The first chunk must be IHDR: length 13 at offset 8, type at 12, data at 16.
  assert.equal(buf.toString('ascii', 12, 16), 'IHDR', `${file}: first chunk is not IHDR`);
  const png: Png = {
    width: buf.readUInt32BE(16),
    height: buf.readUInt32BE(20),
    bitDepth: buf[24],
    colorType: buf[25],
    interlace: buf[28],
    data: [],
  };
  for (let offset = 8; offset < buf.length; ) {
    const length = buf.readUInt32BE(offset);
    const type = buf.toString('ascii', offset + 4, offset + 8);
    if (type === 'IDAT') png.data.push(buf.subarray(offset + 8, offset + 8 + length));
    offset += 12 + length; // length + type + data + CRC
  }
  return png;
}

/** Decodes an 8-bit, non-interlaced RGBA PNG to raw pixels (undoing all five row filters). */
function decodeRgba(png: Png): Buffer {
  assert.equal(png.bitDepth, 8, 'expected 8-bit samples');
  assert.equal(png.colorType, 6, 'expected RGBA (colour type 6)');
  assert.equal(png.interlace, 0, 'expected no interlacing');
  const raw = zlib.inflateSync(Buffer.concat(png.data));
  const bpp = 4;
  const stride = png.width * bpp;
  const out = Buffer.alloc(stride * png.height);
  for (let y = 0; y < png.height; y++) {
    const filter = raw[y * (stride + 1)];
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? out[y * stride + x - bpp] : 0;
      const b = y > 0 ? out[(y - 1) * stride + x] : 0;
      const c = x >= bpp && y > 0 ? out[(y - 1) * stride + x - bpp] : 0;
      out[y * stride + x] = (row[x] + predictor(filter, a, b, c)) & 0xff;
    }
  }
  return out;
}

function predictor(filter: number, a: number, b: number, c: number): number {
  switch (filter) {
    case 0:
      return 0;
    case 1:
      return a;
    case 2:
      return b;
    case 3:
      return (a + b) >> 1;
    case 4: {
      const p = a + b - c;
      const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
      return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
    default:
      throw new Error(`bad PNG filter type ${filter}`);
  }
}

// -------------------------------------------------------------------- tests

describe('Teams app package (appPackage/)', () => {
  describe('manifest.json', () => {
    it('uses only the Toolkit placeholders BOT_ID and TEAMS_APP_ID', () => {
      const names = [...readManifestText().matchAll(/\$\{\{(\w+)\}\}/g)].map((m) => m[1]);
      assert.deepEqual([...new Set(names)].sort(), ['BOT_ID', 'TEAMS_APP_ID']);
    });

    it('targets manifest schema 1.22 or newer, bundled for offline validation', () => {
      const manifest = resolvedManifest();
      const [major, minor] = manifest.manifestVersion.split('.').map(Number);
      assert.ok(major > 1 || (major === 1 && minor >= 22), `manifestVersion ${manifest.manifestVersion} < 1.22`);
      assert.ok(manifest.$schema.includes(`/v${manifest.manifestVersion}/`), '$schema and manifestVersion disagree');
      // If this file were missing, validateAgainstSchema would silently go to the network.
      assert.ok(fs.existsSync(bundledSchemaPath(manifest.$schema)), `no bundled schema for ${manifest.$schema}`);
    });

    it('passes AppManifestUtils.validateAgainstSchema with zero errors (offline)', async () => {
      const manifest = resolvedManifest();
      // fetchSchema reads the bundled copy: the previous test proved it exists.
      const schema = await AppManifestUtils.fetchSchema(manifest.$schema);
      const errors = await AppManifestUtils.validateAgainstSchema(manifest as unknown as AppManifest, schema);
      assert.deepEqual(errors, []);
    });

    it('fails validation if placeholders are left unresolved (the test really validates)', async () => {
      const raw = JSON.parse(readManifestText()) as Manifest;
      const schema = await AppManifestUtils.fetchSchema(raw.$schema);
      const errors = await AppManifestUtils.validateAgainstSchema(raw as unknown as AppManifest, schema);
      assert.ok(errors.some((e) => e.startsWith('/id ')) && errors.some((e) => e.startsWith('/bots/0/botId ')), errors.join('\n'));
    });

    it('declares a conversational bot for personal, team and groupChat', () => {
      const [bot] = resolvedManifest().bots;
      assert.deepEqual([...bot.scopes].sort(), ['groupChat', 'personal', 'team']);
      // Reports reach personal chats through the file consent flow, which needs supportsFiles.
      assert.equal(bot.supportsFiles, true);
      assert.equal(bot.isNotificationOnly, false);
    });

    it('lists every question for every scope, within Teams limits (title <= 32, description <= 128)', () => {
      const [bot] = resolvedManifest().bots;
      for (const scope of ['personal', 'team', 'groupChat']) {
        const list = bot.commandLists.find((l) => l.scopes.includes(scope));
        assert.ok(list, `no command list for ${scope}`);
        assert.deepEqual(
          list.commands.map((c) => c.title),
          QUESTIONS,
          `${scope} commands`,
        );
      }
      for (const command of bot.commandLists.flatMap((l) => l.commands)) {
        assert.ok(command.title.length <= 32, `title too long (${command.title.length}): ${command.title}`);
        assert.ok(command.description.length <= 128, `description too long (${command.description.length}): ${command.title}`);
      }
    });
  });

  describe('icons', () => {
    const manifest = resolvedManifest();
    const colorFile = path.join(APP_PACKAGE, manifest.icons.color);
    const outlineFile = path.join(APP_PACKAGE, manifest.icons.outline);

    it('color icon is a 192x192 PNG', () => {
      const png = readPng(colorFile);
      assert.deepEqual([png.width, png.height], [192, 192]);
    });

    it('outline icon is a 32x32 PNG', () => {
      const png = readPng(outlineFile);
      assert.deepEqual([png.width, png.height], [32, 32]);
    });

    it('outline icon is white on transparent only', () => {
      const pixels = decodeRgba(readPng(outlineFile));
      let opaque = 0;
      let transparent = 0;
      for (let i = 0; i < pixels.length; i += 4) {
        const [r, g, b, a] = pixels.subarray(i, i + 4);
        if (a === 0) transparent++;
        else assert.ok(r === 255 && g === 255 && b === 255, `pixel ${i / 4} is rgb(${r},${g},${b}) alpha ${a}, not white`);
        if (a === 255) opaque++;
      }
      assert.ok(opaque > 0 && transparent > 0, 'outline needs both drawn and transparent pixels');
    });

    it('matches what scripts/make-icons.js draws (regenerate after changing the script)', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-icons-'));
      try {
        execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'make-icons.js'), dir], { stdio: 'pipe' });
        // Compare pixels, not bytes: deflate output may differ between zlib builds.
        for (const name of ['color.png', 'outline.png']) {
          const fresh = decodeRgba(readPng(path.join(dir, name)));
          assert.ok(fresh.equals(decodeRgba(readPng(path.join(APP_PACKAGE, name)))), `${name} is stale: run node scripts/make-icons.js`);
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
