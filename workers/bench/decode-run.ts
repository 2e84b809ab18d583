// Images decoded and stored per second, the app's way: a folder of PNG files goes through
// buildImageSet (header check, createImageBitmap, center crop and resize on an OffscreenCanvas,
// 4 files at a time), imageDataset (fingerprint) and storeDataset (one IndexedDB transaction).
// Baseline: bare createImageBitmap of the same files, 4 at a time, with nothing drawn or stored.
import { browserDecoder } from '../images/decode';
import { buildImageSet, imageDataset } from '../images/import-images';
import { storeDataset } from '../datasets';
import { openBenchDb, resetBenchDbs } from './bench-db';
import { pngFolder } from './image-data';
import type { DecodeResult, DecodeSpec } from './image-types';

const CONCURRENCY = 4;

async function bitmapOnlyMs(files: Blob[]): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  const one = async (): Promise<void> => {
    while (next < files.length) (await createImageBitmap(files[next++]!)).close();
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, one));
  return performance.now() - t0;
}

export async function runDecode(spec: DecodeSpec): Promise<DecodeResult> {
  const entries = await pngFolder(spec.images, 3, spec.width, spec.height);
  const pngBytes = entries.reduce((n, e) => n + e.file.size, 0);
  // Warm the decoder once (first-use costs are not per image), then the baseline, then the app.
  await bitmapOnlyMs(entries.slice(0, CONCURRENCY).map((e) => e.file));
  const bareMs = await bitmapOnlyMs(entries.map((e) => e.file));
  await resetBenchDbs();
  const database = await openBenchDb();
  try {
    const t0 = performance.now();
    const { set, skipped } = await buildImageSet(entries, null, { decoder: browserDecoder, now: () => performance.now() });
    const t1 = performance.now();
    const dataset = await imageDataset(set, { name: 'bench folder', sourceId: 'images', source: 'upload', fileName: null, skipped, now: Date.now() });
    const t2 = performance.now();
    await storeDataset({ database: () => Promise.resolve(database), now: () => Date.now(), sampleFile: () => Promise.reject(new Error('no samples here')) }, dataset);
    const t3 = performance.now();
    if (skipped.length > 0) throw new Error(`The decode bench skipped ${skipped.length} of its own PNGs: ${skipped[0]!.name}: ${skipped[0]!.reason}`);
    return {
      images: set.labels.length, width: spec.width, height: spec.height, pngBytes,
      decodeMs: t1 - t0, fingerprintMs: t2 - t1, storeMs: t3 - t2, storedBytes: dataset.byteLength,
      imagesPerSec: (set.labels.length * 1000) / (t3 - t0),
      bitmapOnlyImagesPerSec: (entries.length * 1000) / bareMs,
    };
  } finally {
    database.close();
    await resetBenchDbs();
  }
}
