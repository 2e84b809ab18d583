// Synthetic images for the bench, seeded: stored-size pixel sets for the CNN (no decoding needed),
// PNG files for the decode-and-store run, and drawn frames standing in for camera captures. Each
// class draws a different shape, so transfer learning has something real to tell apart.
import { hashConfig, type TrainConfig } from '../../shared/config';
import { datasetId, fingerprintImages, type ImageDataset } from '../../shared/dataset';
import { STORED_IMAGE_PX, type ImageSet } from '../../shared/image-types';
import type { ImageFileEntry } from '../../shared/protocol';
import { SeededRng } from '../../shared/rng';
import type { CnnSpec } from './image-types';
import type { RunSpec, Workload } from './workload';

const SHAPES = ['circle', 'square', 'triangle', 'bar'] as const;

/** Class-dependent colour plus noise, already at the stored 96 px: costs what real images cost per step. */
function cnnImageSet(spec: CnnSpec, seed: number): ImageSet {
  const rng = SeededRng.fromSeed(seed);
  const per = STORED_IMAGE_PX * STORED_IMAGE_PX * 3;
  const pixels = new Uint8Array(spec.samples * per);
  const labels = new Uint16Array(spec.samples);
  for (let i = 0; i < spec.samples; i++) {
    const cls = i % spec.classes;
    labels[i] = cls;
    for (let k = 0; k < per; k++) pixels[i * per + k] = Math.min(255, Math.floor(rng.next() * 160 + (k % 3 === cls % 3 ? 90 : 0)));
  }
  const classNames = Array.from({ length: spec.classes }, (_, c) => `c${c}`);
  return { size: STORED_IMAGE_PX, channels: 3, pixels, labels, classNames, names: Array.from(labels, (l, i) => `c${l}/${i}`) };
}

/** The CNN preset on `spec`'s synthetic images, as a loop/fit workload (augmentation off: fit cannot augment). */
export async function makeCnnWorkload(spec: CnnSpec, preset: TrainConfig, seed = 42): Promise<Workload<RunSpec>> {
  if (preset.model.kind !== 'cnn') throw new Error('The CNN bench needs a CNN preset.');
  const images = cnnImageSet(spec, seed);
  const fingerprint = await fingerprintImages(images);
  const dataset: ImageDataset = {
    id: datasetId('bench-cnn', fingerprint), name: `bench ${spec.id}`, kind: 'images', fingerprint, createdAt: Date.now(),
    source: 'upload', fileName: null, byteLength: images.pixels.byteLength, rows: spec.samples, notices: [], sampleId: null,
    size: images.size, channels: images.channels, classNames: images.classNames,
    classCounts: images.classNames.map((_, c) => images.labels.filter((l) => l === c).length),
    skipped: [], skippedCount: 0, images,
  };
  const config: TrainConfig = {
    ...preset,
    model: { ...preset.model, augment: { flip: false, shift: 0, brightness: 0 } },
    batchSize: spec.batchSize,
    // Never reached: the budget stops the run.
    epochs: 10_000,
    seed,
  };
  return { spec, dataset, config, configHash: await hashConfig(config) };
}

/** One shape of class `cls` at a random place, size and colour on a random light background. */
export function drawShape(ctx: OffscreenCanvasRenderingContext2D, cls: number, rng: SeededRng, w: number, h: number): void {
  const rgb = (lo: number): string => `rgb(${lo + rng.nextInt(256 - lo)},${lo + rng.nextInt(256 - lo)},${lo + rng.nextInt(256 - lo)})`;
  ctx.fillStyle = rgb(170);
  ctx.fillRect(0, 0, w, h);
  ctx.fillStyle = `rgb(${rng.nextInt(120)},${rng.nextInt(120)},${rng.nextInt(120)})`;
  const side = Math.min(w, h);
  const r = side * (0.15 + 0.15 * rng.next());
  const cx = w / 2 + (rng.next() - 0.5) * (w - 2 * r) * 0.6;
  const cy = h / 2 + (rng.next() - 0.5) * (h - 2 * r) * 0.6;
  ctx.beginPath();
  switch (SHAPES[cls % SHAPES.length]) {
    case 'circle':
      ctx.arc(cx, cy, r, 0, 2 * Math.PI);
      break;
    case 'square':
      ctx.rect(cx - r, cy - r, 2 * r, 2 * r);
      break;
    case 'triangle':
      ctx.moveTo(cx, cy - r);
      ctx.lineTo(cx + r, cy + r);
      ctx.lineTo(cx - r, cy + r);
      ctx.closePath();
      break;
    default:
      ctx.rect(cx - r, cy - r / 4, 2 * r, r / 2);
  }
  ctx.fill();
}

function context(canvas: OffscreenCanvas): OffscreenCanvasRenderingContext2D {
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('This browser has no 2D OffscreenCanvas in workers.');
  return ctx;
}

/** `count` PNG files in class folders (as a dropped folder gives them), round-robin over `classes`. */
export async function pngFolder(count: number, classes: number, width: number, height: number, seed = 7): Promise<ImageFileEntry[]> {
  const rng = SeededRng.fromSeed(seed);
  const canvas = new OffscreenCanvas(width, height);
  const ctx = context(canvas);
  const entries: ImageFileEntry[] = [];
  for (let i = 0; i < count; i++) {
    const cls = i % classes;
    drawShape(ctx, cls, rng, width, height);
    const file = await canvas.convertToBlob({ type: 'image/png' });
    entries.push({ file, path: `shapes/${SHAPES[cls % SHAPES.length]}/${i}.png`, label: null });
  }
  return entries;
}

/** One frame as a camera gives it to the worker: an ImageBitmap (640 × 480). */
export function cameraFrame(cls: number, rng: SeededRng): ImageBitmap {
  const canvas = new OffscreenCanvas(640, 480);
  drawShape(context(canvas), cls, rng, 640, 480);
  return canvas.transferToImageBitmap();
}

export const shapeName = (cls: number): string => SHAPES[cls % SHAPES.length]!;
