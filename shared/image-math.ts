// Pixel arithmetic that must give the same bytes everywhere: the center crop a decoded image is
// cut to, resizing stored images to a model's size, grey/RGB conversion, and the seeded
// augmentation of training images. Plain TypeScript on byte arrays: unit-tested in Node, used by
// the worker (browsers decode with canvas, but these rules decide what is drawn where).
import { SeededRng } from './rng';
import type { Augmentation } from './image-types';

export interface CropRect {
  sx: number;
  sy: number;
  sw: number;
  sh: number;
}

/**
 * The largest centered square (or `aspect` = width/height rectangle) inside a `width × height`
 * image: what is kept when an image is cropped to fill a square without being stretched.
 */
export function centerCrop(width: number, height: number, aspect = 1): CropRect {
  if (!(width > 0 && height > 0)) throw new Error(`An image of ${width}×${height} px has nothing to crop.`);
  let sw = width;
  let sh = Math.round(width / aspect);
  if (sh > height) {
    sh = height;
    sw = Math.round(height * aspect);
  }
  return { sx: Math.floor((width - sw) / 2), sy: Math.floor((height - sh) / 2), sw, sh };
}

/**
 * Resizes a square image of `from` px to `to` px by area averaging (each output pixel is the
 * mean of the input area it covers; upscaling degenerates to nearest pixel). Deterministic bytes.
 */
export function resizeSquare(src: Uint8Array, from: number, to: number, channels: number): Uint8Array {
  if (from === to) return src.slice();
  const out = new Uint8Array(to * to * channels);
  const scale = from / to;
  // Per output index: the input span it covers, with fractional edge weights.
  const spans: { start: number; end: number; w0: number; w1: number }[] = [];
  for (let o = 0; o < to; o++) {
    const a = o * scale;
    const b = Math.max(a + 1e-9, (o + 1) * scale);
    const start = Math.floor(a);
    const end = Math.min(from - 1, Math.ceil(b) - 1);
    spans.push({ start, end, w0: start + 1 - a, w1: b - end });
  }
  const weight = (s: (typeof spans)[number], i: number): number => {
    if (s.start === s.end) return 1;
    if (i === s.start) return s.w0;
    if (i === s.end) return s.w1;
    return 1;
  };
  for (let oy = 0; oy < to; oy++) {
    const sy = spans[oy]!;
    for (let ox = 0; ox < to; ox++) {
      const sx = spans[ox]!;
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        let total = 0;
        for (let y = sy.start; y <= sy.end; y++) {
          const wy = weight(sy, y);
          for (let x = sx.start; x <= sx.end; x++) {
            const w = wy * weight(sx, x);
            sum += w * src[(y * from + x) * channels + c]!;
            total += w;
          }
        }
        out[(oy * to + ox) * channels + c] = Math.round(sum / total);
      }
    }
  }
  return out;
}

/** RGBA bytes (a canvas's ImageData) to grey (ITU-R BT.601 luma) or RGB bytes. */
export function fromRgba(rgba: Uint8ClampedArray | Uint8Array, channels: 1 | 3): Uint8Array {
  const n = rgba.length / 4;
  const out = new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) {
    const r = rgba[4 * i]!;
    const g = rgba[4 * i + 1]!;
    const b = rgba[4 * i + 2]!;
    if (channels === 1) out[i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    else {
      out[3 * i] = r;
      out[3 * i + 1] = g;
      out[3 * i + 2] = b;
    }
  }
  return out;
}

/** Mixes numbers into one uint32 seed (murmur3's finalizer per step): seed, epoch, batch → a batch's RNG. */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** What augmentation does to one image. */
export interface AugmentDraw {
  flip: boolean;
  /** Shift in whole pixels, right and down. */
  dx: number;
  dy: number;
  /** Pixel values are multiplied by this. */
  gain: number;
}

/** Draws one image's augmentation; always the same number of draws, so the stream never depends on the options. */
export function drawAugment(rng: SeededRng, options: Augmentation, size: number): AugmentDraw {
  const flip = rng.next() < 0.5;
  const maxShift = Math.floor(options.shift * size);
  const dx = rng.nextInt(2 * maxShift + 1) - maxShift;
  const dy = rng.nextInt(2 * maxShift + 1) - maxShift;
  const gain = 1 + (2 * rng.next() - 1) * options.brightness;
  return { flip: options.flip && flip, dx, dy, gain };
}

export function isIdentity(d: AugmentDraw): boolean {
  return !d.flip && d.dx === 0 && d.dy === 0 && d.gain === 1;
}

/**
 * Writes one augmented image (0–255 values as floats) into `out` at `outOffset`: mirrored, then
 * shifted (edge pixels repeat into the gap, as Keras's `fill_mode="nearest"`), then scaled in
 * brightness and clamped to 0–255.
 */
export function augmentInto(
  src: Uint8Array, srcOffset: number, size: number, channels: number, d: AugmentDraw, out: Float32Array, outOffset: number,
): void {
  const clamp = (v: number): number => (v < 0 ? 0 : v >= size ? size - 1 : v);
  for (let y = 0; y < size; y++) {
    const sy = clamp(y - d.dy);
    for (let x = 0; x < size; x++) {
      let sx = clamp(x - d.dx);
      if (d.flip) sx = size - 1 - sx;
      const from = srcOffset + (sy * size + sx) * channels;
      const to = outOffset + (y * size + x) * channels;
      for (let c = 0; c < channels; c++) {
        const v = src[from + c]! * d.gain;
        out[to + c] = v > 255 ? 255 : v;
      }
    }
  }
}

/** The RNG for augmenting batch `batch` of an epoch whose augmentation seed is `epochSeed`. */
export function batchRng(epochSeed: number, batch: number): SeededRng {
  return SeededRng.fromSeed(mixSeed(epochSeed, batch));
}
