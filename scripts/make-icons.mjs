// Draws Lathe's app icons (a spindle between two centres on a dark tile) and writes them as PNGs
// into public/icons/. Node built-ins only (node:zlib for the PNG's deflate stream). Run it after
// changing the design: `node scripts/make-icons.mjs`; the PNGs are committed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const OUT_DIR = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'public', 'icons');

/** Colours as [r, g, b]; the tile matches the manifest's background_color (#1f2937). */
const TILE = [0x1f, 0x29, 0x37];
const WOOD = [0xf5, 0x9e, 0x0b];
const STEEL = [0xe2, 0xe8, 0xf0];
/** Sub-samples per pixel side, for anti-aliased edges. */
const SUPERSAMPLE = 4;

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

/** Encodes RGBA pixels (Uint8Array, width*height*4) as a PNG file. */
export function encodePng(width, height, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // colour type: RGBA
  const rows = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    rows[y * (width * 4 + 1)] = 0; // filter: none
    Buffer.from(rgba.buffer, rgba.byteOffset + y * width * 4, width * 4).copy(rows, y * (width * 4 + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * What colour the design has at (x, y) in unit coordinates (0..1, centre 0.5), or null outside
 * every shape. `scale` shrinks the glyph toward the centre (maskable icons keep it in the safe zone).
 */
function shapeAt(x, y, scale) {
  const u = (x - 0.5) / scale;
  const v = (y - 0.5) / scale;
  // The workpiece: a turned profile, thicker in the middle, between the centres.
  if (Math.abs(u) <= 0.3) {
    const radius = 0.1 + 0.07 * Math.cos((u / 0.3) * Math.PI * 1.5) ** 2;
    if (Math.abs(v) <= radius) return WOOD;
  }
  // Headstock and tailstock centres: triangles pointing at the workpiece.
  const tip = Math.abs(u) - 0.3;
  if (tip >= 0 && tip <= 0.09 && Math.abs(v) <= tip * 0.9) return STEEL;
  // Stocks: blocks beyond the centres.
  if (Math.abs(u) > 0.39 && Math.abs(u) <= 0.45 && Math.abs(v) <= 0.14) return STEEL;
  return null;
}

/** Renders one icon. `rounded` gives the tile rounded corners; a maskable icon fills the square. */
function render(size, { scale, rounded }) {
  const px = new Uint8Array(size * size * 4);
  const corner = rounded ? 0.18 : 0;
  for (let py = 0; py < size; py++) {
    for (let pxX = 0; pxX < size; pxX++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          const x = (pxX + (sx + 0.5) / SUPERSAMPLE) / size;
          const y = (py + (sy + 0.5) / SUPERSAMPLE) / size;
          if (!insideTile(x, y, corner)) continue;
          const colour = shapeAt(x, y, scale) ?? TILE;
          r += colour[0];
          g += colour[1];
          b += colour[2];
          a += 1;
        }
      }
      const i = (py * size + pxX) * 4;
      if (a > 0) {
        px[i] = Math.round(r / a);
        px[i + 1] = Math.round(g / a);
        px[i + 2] = Math.round(b / a);
      }
      px[i + 3] = Math.round((a / SUPERSAMPLE ** 2) * 255);
    }
  }
  return encodePng(size, size, px);
}

function insideTile(x, y, corner) {
  if (corner === 0) return true;
  const dx = Math.max(corner - x, 0, x - (1 - corner));
  const dy = Math.max(corner - y, 0, y - (1 - corner));
  return dx * dx + dy * dy <= corner * corner;
}

/** File name → size in px and style. The maskable glyph fits the central 80% safe zone. */
export const ICONS = {
  'icon-192.png': { size: 192, scale: 1, rounded: true },
  'icon-512.png': { size: 512, scale: 1, rounded: true },
  'icon-maskable-512.png': { size: 512, scale: 0.75, rounded: false },
  'apple-touch-icon-180.png': { size: 180, scale: 0.85, rounded: false },
  'favicon-32.png': { size: 32, scale: 1.1, rounded: true },
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(OUT_DIR, { recursive: true });
  for (const [name, { size, ...style }] of Object.entries(ICONS)) {
    const png = render(size, style);
    writeFileSync(join(OUT_DIR, name), png);
    console.log(`public/icons/${name}: ${size}×${size}, ${png.length} bytes`);
  }
}
