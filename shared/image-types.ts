// The shapes of an image dataset as Lathe stores it: every image decoded once (in the worker),
// center-cropped and resized to one square size, kept as compact 0–255 bytes with a class index.
// Plain TypeScript with no imports, so the page, the worker and stored records share it.

/** Side, in px, that uploaded and camera images are stored at: big enough for the CNN presets
 * (32 or 64 px, resized from this) and for the transfer base (run at this size), small enough
 * that 2,000 colour images take about 55 MB of IndexedDB. */
export const STORED_IMAGE_PX = 96;
/** Images larger than this many pixels (width × height) are refused before decoding: a 100 MP
 * image takes 400 MB as RGBA, which a worker on a phone cannot hold. */
export const MAX_DECODE_PIXELS = 100_000_000;
/** Either side above this, in px, is refused too (canvases and bitmaps have side limits). */
export const MAX_DECODE_SIDE_PX = 16_384;
/** Skipped files listed by name in a summary; the rest are only counted. */
export const MAX_LISTED_SKIPPED = 50;

/** The bulk half of an image dataset: pixels and labels. */
export interface ImageSet {
  /** Every image is `size × size` pixels. */
  size: number;
  /** 1 (grey) or 3 (RGB). */
  channels: 1 | 3;
  /** `count × size × size × channels` bytes, row-major, 0–255. */
  pixels: Uint8Array;
  /** Class index per image, into `classNames`. */
  labels: Uint16Array;
  classNames: string[];
  /** Where each image came from ("circle/a.png", "camera 12"), for evaluation and error messages. */
  names: string[];
}

/** A file Lathe could not use, and why ("not an image", "could not be decoded"). */
export interface SkippedFile {
  name: string;
  reason: string;
}

/** What a summary says about an image dataset (no pixels). */
export interface ImageFacts {
  size: number;
  channels: 1 | 3;
  classNames: string[];
  /** Images per class, parallel to `classNames`. */
  classCounts: number[];
  /** Files that were skipped while reading, at most MAX_LISTED_SKIPPED named. */
  skipped: SkippedFile[];
  skippedCount: number;
}

/** Seeded data augmentation of a CNN's training images; each is off at 0. */
export interface Augmentation {
  /** Mirror left-right with probability 1/2. */
  flip: boolean;
  /** Largest shift, as a fraction of the side (0–0.25), in each direction. */
  shift: number;
  /** Largest brightness change, as a fraction (0–0.5): pixels × (1 ± this). */
  brightness: number;
}

export const NO_AUGMENTATION: Augmentation = { flip: false, shift: 0, brightness: 0 };

export function bytesPerImage(set: Pick<ImageSet, 'size' | 'channels'>): number {
  return set.size * set.size * set.channels;
}

export function imageCount(set: ImageSet): number {
  return set.labels.length;
}
