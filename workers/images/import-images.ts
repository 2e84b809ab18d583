// Image files (a dropped or picked folder, or files given a class) and camera frames become one
// stored image dataset: each file's class is decided first (shared/image-labels.ts), every image
// is decoded and resized in the worker, unreadable files are skipped and listed, and a dataset
// that cannot train (one class, a class with no readable image) is refused before anything is
// stored. Progress every PROGRESS_INTERVAL_MS; cancellable between files.
import { datasetId, fingerprintImages, type ImageDataset } from '../../shared/dataset';
import { isImageName, labelsFromAssigned, labelsFromPaths, readImageHeader, tooLargeReason } from '../../shared/image-labels';
import { MAX_LISTED_SKIPPED, STORED_IMAGE_PX, type ImageSet, type SkippedFile } from '../../shared/image-types';
import type { ImageFileEntry } from '../../shared/protocol';
import { TableError } from '../../shared/table';
import type { CaptureBuffer } from './capture';
import { DecodeError, type ImageDecoder } from './decode';

/** Progress is reported at most this often, in ms. */
const PROGRESS_INTERVAL_MS = 50;
/** Files decoded at once: createImageBitmap decodes off the worker's thread, so a few overlap. */
const DECODE_CONCURRENCY = 4;
/** Bytes read to find an image's format and size before decoding it (JPEG frame headers come early). */
const HEADER_BYTES = 65_536;

export interface ImageImportOptions {
  decoder: ImageDecoder;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  now: () => number;
}

interface Planned {
  entry: ImageFileEntry;
  className: string;
}

/** Which class each entry goes to: its own label, else its folder. Non-images and loose files are skipped. */
export function planEntries(entries: ImageFileEntry[]): { planned: Planned[]; skipped: SkippedFile[] } {
  const assigned = entries.filter((e) => e.label !== null && e.label.trim() !== '');
  const byFolder = entries.filter((e) => e.label === null || e.label.trim() === '');
  const planned: Planned[] = [];
  const skipped: SkippedFile[] = [];
  for (const e of assigned) {
    if (!isImageName(e.path) && !e.file.type.startsWith('image/')) skipped.push({ name: e.path, reason: 'not an image file (by its name)' });
    else planned.push({ entry: e, className: e.label!.trim() });
  }
  const folders = labelsFromPaths(byFolder.map((e) => e.path));
  skipped.push(...folders.skipped);
  for (const item of folders.items) planned.push({ entry: byFolder[item.index]!, className: folders.classNames[item.label]! });
  return { planned, skipped };
}

function abortError(): Error {
  const err = new Error('The image import was cancelled; nothing was stored.');
  err.name = 'AbortError';
  return err;
}

async function decodeOne(p: Planned, decoder: ImageDecoder): Promise<Uint8Array> {
  const head = readImageHeader(new Uint8Array(await p.entry.file.slice(0, HEADER_BYTES).arrayBuffer()));
  if (head.width !== null && head.height !== null) {
    const tooLarge = tooLargeReason(head.width, head.height);
    if (tooLarge) throw new DecodeError(tooLarge);
  }
  if (p.entry.file.size === 0) throw new DecodeError('is empty');
  return decoder.decodeFile(p.entry.file, STORED_IMAGE_PX, 3);
}

/** Why a set of classes cannot train, naming them; null when it can. */
export function classProblems(classNames: string[], counts: number[], skipped: SkippedFile[]): string | null {
  const empty = classNames.filter((_, i) => counts[i] === 0);
  if (empty.length > 0) {
    const why = skipped.slice(0, 3).map((s) => `${s.name}: ${s.reason}`).join('; ');
    return `The class${empty.length > 1 ? 'es' : ''} ${empty.map((c) => `“${c}”`).join(', ')} ha${empty.length > 1 ? 've' : 's'} no readable image${why ? ` (${why})` : ''}. Nothing was stored.`;
  }
  const used = classNames.filter((_, i) => counts[i]! > 0);
  if (used.length === 0) return `None of the files is an image Lathe can read${skipped.length ? ` (${skipped.slice(0, 3).map((s) => `${s.name}: ${s.reason}`).join('; ')})` : ''}. Nothing was stored.`;
  if (used.length < 2)
    return `A classifier needs at least 2 classes, but there is only “${used[0]}”. Put each class's images in its own subfolder (for example cats/ and dogs/), or add a second class. Nothing was stored.`;
  return null;
}

/** Decodes the entries and the captured frames into one image set (nothing is stored here). */
export async function buildImageSet(
  entries: ImageFileEntry[], capture: CaptureBuffer | null, o: ImageImportOptions,
): Promise<{ set: ImageSet; skipped: SkippedFile[] }> {
  const { planned, skipped: unplanned } = planEntries(entries);
  // Decoding finishes out of order: failures are listed in the order the files were given.
  const failed: { at: number; file: SkippedFile }[] = [];
  const frames = capture?.entries() ?? [];
  const classNames = labelsFromAssigned([...planned.map((p) => p.className), ...frames.map(([label]) => label)]).classNames;
  const index = new Map(classNames.map((c, i) => [c, i]));
  const decoded: (Uint8Array | null)[] = new Array<Uint8Array | null>(planned.length).fill(null);
  let done = 0;
  let next = 0;
  let lastProgress = -Infinity;
  const total = planned.length;
  const worker = async (): Promise<void> => {
    while (next < planned.length) {
      if (o.signal?.aborted) throw abortError();
      const i = next++;
      const p = planned[i]!;
      try {
        decoded[i] = await decodeOne(p, o.decoder);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        failed.push({ at: i, file: { name: p.entry.path, reason: err.message } });
      }
      done++;
      if (o.now() - lastProgress >= PROGRESS_INTERVAL_MS || done === total) {
        lastProgress = o.now();
        o.onProgress?.(done, total);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(DECODE_CONCURRENCY, Math.max(1, planned.length)) }, worker));
  if (o.signal?.aborted) throw abortError();
  const skipped = [...unplanned, ...failed.sort((a, b) => a.at - b.at).map((f) => f.file)];
  const images: { pixels: Uint8Array; label: number; name: string }[] = [];
  planned.forEach((p, i) => {
    const px = decoded[i];
    if (px) images.push({ pixels: px, label: index.get(p.className)!, name: p.entry.path });
  });
  for (const [label, list] of frames) list.forEach((px, i) => images.push({ pixels: px, label: index.get(label)!, name: `camera/${label}/${i + 1}` }));
  const counts = classNames.map(() => 0);
  for (const im of images) counts[im.label]!++;
  const problem = classProblems(classNames, counts, skipped);
  if (problem) throw new TableError(problem);
  const per = STORED_IMAGE_PX * STORED_IMAGE_PX * 3;
  const pixels = new Uint8Array(images.length * per);
  images.forEach((im, i) => pixels.set(im.pixels, i * per));
  return {
    set: { size: STORED_IMAGE_PX, channels: 3, pixels, labels: Uint16Array.from(images, (im) => im.label), classNames, names: images.map((im) => im.name) },
    skipped,
  };
}

/** An image set as a dataset, fingerprinted, ready to store. */
export async function imageDataset(
  set: ImageSet, opts: { name: string; sourceId: string; source: ImageDataset['source']; fileName: string | null; skipped: SkippedFile[]; now: number; sampleId?: string },
): Promise<ImageDataset> {
  const fingerprint = await fingerprintImages(set);
  const classCounts = set.classNames.map(() => 0);
  for (const l of set.labels) classCounts[l]!++;
  return {
    id: datasetId(opts.sourceId, fingerprint),
    name: opts.name,
    kind: 'images',
    fingerprint,
    createdAt: opts.now,
    source: opts.source,
    fileName: opts.fileName,
    byteLength: set.pixels.byteLength + set.labels.byteLength,
    rows: set.labels.length,
    notices: opts.skipped.length > 0 ? [`${opts.skipped.length} file${opts.skipped.length > 1 ? 's were' : ' was'} skipped (listed below).`] : [],
    sampleId: opts.sampleId ?? null,
    size: set.size,
    channels: set.channels,
    classNames: [...set.classNames],
    classCounts,
    skipped: opts.skipped.slice(0, MAX_LISTED_SKIPPED),
    skippedCount: opts.skipped.length,
    images: set,
  };
}
