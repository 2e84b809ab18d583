// The images section of the bench: what the page asks the bench worker for and what it reports.
// Plain types; bench/image-section.mjs relays them and bench/schema.mjs (IMAGES) documents them.
import type { BackendName } from '../../shared/protocol';
import type { FitResult, LoopResult } from './types';

/** Image files decoded and stored the app's way (workers/images/import-images.ts). */
export interface DecodeSpec {
  images: number;
  /** Size of each generated PNG, in px. */
  width: number;
  height: number;
}

export interface DecodeResult {
  images: number;
  width: number;
  height: number;
  /** Total size of the generated PNG files, in bytes. */
  pngBytes: number;
  /** buildImageSet: read header, createImageBitmap, crop and resize on an OffscreenCanvas, 4 at a time; in ms. */
  decodeMs: number;
  /** Fingerprint (SHA-256 of the pixels) and dataset record, in ms. */
  fingerprintMs: number;
  /** The one IndexedDB transaction that stores the dataset, in ms. */
  storeMs: number;
  storedBytes: number;
  /** images / (decodeMs + fingerprintMs + storeMs) × 1000. */
  imagesPerSec: number;
  /** The baseline: bare createImageBitmap of the same files, 4 at a time, nothing drawn or stored. */
  bitmapOnlyImagesPerSec: number;
}

/** The CNN preset (shared/image-presets.ts) on a synthetic image set, timed like the MLPs. */
export interface CnnSpec {
  id: string;
  /** Images stored at 96 px RGB, as the app stores uploads; the preset resizes them to 32 px. */
  samples: number;
  classes: number;
  batchSize: number;
  budgetMs: number;
  maxMs: number;
}

/** Transfer learning from frames "captured" (drawn, then cropped and resized as camera frames are). */
export interface TransferSpec {
  classes: number;
  perClass: number;
  /** "Usable": the first epoch-end validation accuracy at or above this, as the app shows it. */
  targetAccuracy: number;
  /** Backends this part runs on (quick runs keep it to one). */
  backends: BackendName[];
}

/** The digits sample: the app's recommended config, trained for a fixed number of steps. */
export interface DigitsSpec {
  /** Steps per backend; a backend missing here is not run. */
  steps: Partial<Record<BackendName, number>>;
  /** Validation images scored after the last step (the first ones of the split); null: all. */
  maxValImages: number | null;
}

export interface ImagesRunRequest {
  backend: BackendName;
  cnn: CnnSpec;
  transfer: TransferSpec;
  digits: DigitsSpec;
}

export interface CnnResult {
  supported: boolean;
  reason: string | null;
  params: number | null;
  loop: LoopResult | null;
  fit: FitResult | null;
  imagesPerSec: number | null;
  fitImagesPerSec: number | null;
  loopOverFit: number | null;
}

export interface TransferResult {
  supported: boolean;
  reason: string | null;
  images: number | null;
  /** Building the image set from the captured frames, fingerprint, IndexedDB write; in ms. */
  storeMs: number | null;
  /** Loading the base on this backend (first use) plus running every image through it; in ms. */
  featuresMs: number | null;
  /** From the first head step to the epoch end whose validation accuracy reached the target; in ms. */
  trainMs: number | null;
  /** From the last captured frame to a usable model: store + features + train; in ms. */
  totalMs: number | null;
  epochs: number | null;
  valAccuracy: number | null;
  reached: boolean | null;
}

export interface DigitsResult {
  supported: boolean;
  reason: string | null;
  steps: number | null;
  /** steps / steps per epoch. */
  epochs: number | null;
  /** The session's run for those steps (first-step compile and any epoch-end validation included), in ms. */
  trainMs: number | null;
  imagesPerSec: number | null;
  /** Accuracy on the whole validation split after the last step. */
  valAccuracy: number | null;
  valImages: number | null;
}

export interface ImagesRunResult {
  backend: BackendName;
  available: boolean;
  reason: string | null;
  cnn: CnnResult;
  transfer: TransferResult;
  digits: DigitsResult;
}
