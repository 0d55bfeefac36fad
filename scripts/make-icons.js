#!/usr/bin/env node
// Generates the Teams app icons in appPackage/:
//   color.png   192x192, full colour: white shield with a watchful eye on Vigil blue
//   outline.png  32x32, white on transparent (Teams requires only white + alpha)
// The PNG encoder is hand-written on node:zlib so the project needs no image
// dependency. Output is deterministic, so re-running it only changes the files
// when the drawing code changes. Usage: node scripts/make-icons.js [outDir]
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

// ---------------------------------------------------------------- PNG encoder

// CRC-32 (ISO 3309) table; zlib.crc32 only exists from Node 20.15/22.2.
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([len, typeAndData, crc]);
}

/** Encodes 8-bit RGBA pixels (row-major, 4 bytes each) as a PNG. */
function encodePng(width, height, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type: truecolour with alpha
  ihdr[10] = 0; // compression: deflate
  ihdr[11] = 0; // filter method 0
  ihdr[12] = 0; // no interlace
  // Every scanline is prefixed with filter type 0 (None): simple and the
  // icons are tiny, so better filtering would gain nothing worth the code.
  const stride = width * 4;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0;
    rgba.copy(raw, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ------------------------------------------------------------------ geometry
// Shapes are predicates over unit coordinates (0..1, y down) so one drawing
// serves both sizes; anti-aliasing comes from supersampling each pixel.

const SHIELD = { top: 0.16, shoulder: 0.52, tip: 0.86, halfWidth: 0.3, corner: 0.06 };

/** Inside a heater-style shield: straight sides, then curving to a point. */
function inShield(x, y, inset = 0) {
  const top = SHIELD.top + inset;
  const tip = SHIELD.tip - inset * 1.6; // the point needs a larger inset to look even
  const maxHalf = SHIELD.halfWidth - inset;
  if (y < top || y > tip || maxHalf <= 0) return false;
  let half = maxHalf;
  if (y > SHIELD.shoulder) {
    const t = (y - SHIELD.shoulder) / (tip - SHIELD.shoulder);
    half = maxHalf * Math.cos((t * Math.PI) / 2);
  }
  const dx = Math.abs(x - 0.5);
  if (dx > half) return false;
  // Round the two top corners.
  const r = Math.max(SHIELD.corner - inset / 2, 0.01);
  const cx = maxHalf - r;
  const cy = top + r;
  if (dx > cx && y < cy) return (dx - cx) ** 2 + (y - cy) ** 2 <= r * r;
  return true;
}

// The eye is a lens: the intersection of two circles offset vertically.
const EYE = { cx: 0.5, cy: 0.47, halfWidth: 0.19, halfHeight: 0.105 };

function inEye(x, y) {
  const { cx, cy, halfWidth: a, halfHeight: h } = EYE;
  const r = (a * a + h * h) / (2 * h); // circle radius giving that lens
  const d = r - h; // centre offset from the lens middle
  return (x - cx) ** 2 + (y - (cy + d)) ** 2 <= r * r && (x - cx) ** 2 + (y - (cy - d)) ** 2 <= r * r;
}

function inCircle(x, y, cx, cy, r) {
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

// ------------------------------------------------------------------- drawing

const BLUE = [0x1f, 0x4e, 0x79]; // matches accentColor in manifest.json
const WHITE = [0xff, 0xff, 0xff];
const TEAL = [0x2b, 0xb3, 0xa3];
const NAVY = [0x0b, 0x22, 0x38];

/** Colour of the full-colour icon at a unit-space point (opaque everywhere). */
function colorAt(x, y) {
  if (!inShield(x, y)) return BLUE;
  if (inCircle(x, y, EYE.cx + 0.035, EYE.cy - 0.035, 0.018)) return WHITE; // glint
  if (inCircle(x, y, EYE.cx, EYE.cy, 0.035)) return NAVY; // pupil
  if (inCircle(x, y, EYE.cx, EYE.cy, 0.075) && inEye(x, y)) return TEAL; // iris
  if (inEye(x, y)) return BLUE;
  return WHITE;
}

/** Coverage (0..1) of the outline icon: shield stroke plus a solid eye with a hollow pupil. */
function outlineAt(x, y) {
  const stroke = inShield(x, y) && !inShield(x, y, 0.07);
  const eye = inEye(x, y) && !inCircle(x, y, EYE.cx, EYE.cy, 0.06);
  return stroke || eye ? 1 : 0;
}

/** Renders by averaging samples x samples sub-pixel points per pixel. */
function render(size, samples, shade) {
  const rgba = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const acc = [0, 0, 0, 0];
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const [r, g, b, a] = shade((px + (sx + 0.5) / samples) / size, (py + (sy + 0.5) / samples) / size);
          acc[0] += r * a;
          acc[1] += g * a;
          acc[2] += b * a;
          acc[3] += a;
        }
      }
      const o = (py * size + px) * 4;
      const alpha = acc[3] / (samples * samples);
      // Colour is alpha-weighted so edges do not darken towards transparent black.
      for (let i = 0; i < 3; i++) rgba[o + i] = acc[3] > 0 ? Math.round(acc[i] / acc[3]) : 255;
      rgba[o + 3] = Math.round(alpha * 255);
    }
  }
  return rgba;
}

function main() {
  const outDir = path.resolve(process.argv[2] || path.join(__dirname, '..', 'appPackage'));
  fs.mkdirSync(outDir, { recursive: true });
  const color = render(192, 4, (x, y) => [...colorAt(x, y), 1]);
  // Outline: every pixel is pure white, only alpha varies (Teams rejects other colours).
  const outline = render(32, 8, (x, y) => [...WHITE, outlineAt(x, y)]);
  fs.writeFileSync(path.join(outDir, 'color.png'), encodePng(192, 192, color));
  fs.writeFileSync(path.join(outDir, 'outline.png'), encodePng(32, 32, outline));
  console.log(`wrote ${path.join(outDir, 'color.png')} and ${path.join(outDir, 'outline.png')}`);
}

if (require.main === module) main();

module.exports = { encodePng, crc32 };
