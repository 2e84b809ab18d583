// File formats Lathe exports and imports: the resumable training package (`.lathe`, a zip with a
// manifest), the TensorFlow.js layers model with Lathe metadata, the result types the worker
// returns, and validation that turns a malformed manifest into an error naming the field.
// Plain TypeScript (page and worker): no tfjs, no DOM.
import { version } from '../package.json';
import type { TrainConfig } from './config';
import type { DatasetSummary, TableDatasetInput, TableTask } from './dataset';
import type { CheckpointRecord } from './db';
import type { Breakpoint, JobRecord } from './jobs';
import type { ServerJobClaim } from './protocol';
import type { TableEncoding } from './table-types';

export const APP_VERSION: string = version;

export const PACKAGE_FORMAT = 'lathe-package';
/**
 * The package format this version writes and the newest it reads. Bump on any incompatible change.
 * 1: the dataset as a numeric matrix (features.bin, targets.bin). 2: the dataset as columns
 * (columns.json, numbers.bin, codes.bin) with its summary as `dataset.meta`; later also images,
 * and texts (text.txt), each its own `dataset.meta.kind`. Both are read. Adding a dataset kind
 * needs no new version: a reader that lacks the kind refuses it by name (`dataset.meta.kind`).
 */
export const PACKAGE_FORMAT_VERSION = 2;
export const PACKAGE_EXTENSION = '.lathe';
/** For downloads and the PWA manifest's `file_handlers`; the bytes are a plain zip. */
export const PACKAGE_MIME_TYPE = 'application/x-lathe-package';
export const PACKAGE_PATHS = {
  manifest: 'manifest.json',
  weights: 'checkpoint/weights.bin',
  optimizer: 'checkpoint/optimizer.bin',
  /** Format 1 datasets. */
  features: 'dataset/features.bin',
  targets: 'dataset/targets.bin',
  /** Format 2 datasets. */
  columns: 'dataset/columns.json',
  numbers: 'dataset/numbers.bin',
  codes: 'dataset/codes.bin',
  /** Image datasets (format 2 too): shape and names as JSON, labels (u16) and pixels (u8). */
  images: 'dataset/images.json',
  labels: 'dataset/labels.bin',
  pixels: 'dataset/pixels.bin',
  /**
   * Text datasets (format 2 too): the text itself as UTF-8 ("\n" line ends, as stored); its
   * vocabulary (the tokenizer) and character count are in `dataset.meta`, checked against it.
   */
  text: 'dataset/text.txt',
} as const;

export const MODEL_JSON_FILE = 'model.json';
/** One shard: Lathe's models are small, and one file is easiest to download and share. */
export const MODEL_WEIGHTS_FILE = 'group1-shard1of1.bin';
/** Key under `userDefinedMetadata` in model.json. */
export const LATHE_METADATA_KEY = 'lathe';
export const MODEL_METADATA_VERSION = 1;
/** Largest total unzipped size accepted, in bytes; guards the worker against zip bombs. */
export const MAX_UNZIPPED_BYTES = 1024 * 1024 * 1024;

/** A file going to the page (download, share). Binary data is little-endian, as on every browser. */
export interface ExportedFile {
  name: string;
  bytes: Uint8Array;
  type: string;
}

export type ModelExport = { kind: 'files'; files: ExportedFile[] } | { kind: 'zip'; file: ExportedFile };

/** A file the user picked, dropped, or sent through the share target. */
export interface InputFile {
  name: string;
  bytes: Uint8Array;
}

/** A checkpoint without its two buffers (those are separate files in the package). */
export type CheckpointMeta = Omit<CheckpointRecord, 'weightData' | 'optimizer'> & {
  optimizer: Omit<CheckpointRecord['optimizer'], 'data'>;
};
/** Format 1's dataset description: a numeric matrix's shape and names. */
export type MatrixMeta = Omit<TableDatasetInput, 'features' | 'targets'> & { fingerprint: string; createdAt: number };
/** Format 2's: the dataset's summary. */
export type DatasetMeta = DatasetSummary;

export interface PackageFileEntry {
  path: string;
  byteLength: number;
  sha256: string;
}

export interface PackageManifest {
  format: typeof PACKAGE_FORMAT;
  formatVersion: number;
  appVersion: string;
  createdAt: number;
  /** The job as it was at export; `history` is left empty because `checkpoint.history` holds it. */
  job: JobRecord;
  config: TrainConfig;
  configHash: string;
  checkpoint: CheckpointMeta;
  dataset: { included: boolean; meta: DatasetMeta | MatrixMeta };
  /** Every other file in the zip, with its size and SHA-256. */
  files: PackageFileEntry[];
}

/** `userDefinedMetadata.lathe` in an exported model.json: what a program needs to use the model. */
export interface LatheModelMetadata {
  metadataVersion: number;
  appVersion: string;
  jobName: string;
  task: TableTask;
  featureNames: string[];
  targetName: string;
  /** Class names by output index; empty for regression. */
  labels: string[];
  /** Inputs are `(x - mean) / std` per feature (one-hot inputs: mean 0, std 1). */
  normalization: { mean: number[]; std: number[] } | null;
  /**
   * Regression models predict a standardized target: the value is `output × std + mean`. Null for
   * classifiers; absent in metadata from before targets were standardized (outputs are values).
   */
  targetNormalization?: { mean: number; std: number } | null;
  /**
   * A table model's whole input transform (shared/table-types.ts `TableEncoding`): each original
   * column, its type, statistics and categories, so raw rows can be encoded anywhere.
   */
  table?: TableEncoding;
  /**
   * Character models: token i + 1 is `vocabulary[i]` (one Unicode code point each) and token 0 is
   * a character the training text never had. Null for tables and images.
   */
  vocabulary: string[] | null;
  /**
   * Character models: input is a [1, n] tensor of token ids (the last `sequenceLength` characters
   * at most); the output's last position holds the logits of the next character.
   */
  text?: { sequenceLength: number; unknownToken: 0 };
  /**
   * Models with Lathe's custom layers (the text transformer): `file` ships beside model.json and
   * defines `classes`; `howToLoad` says how (register them on your tf before `tf.loadLayersModel`).
   */
  customLayers?: { file: string; classes: string[]; howToLoad: string };
  /**
   * Image classifiers: the model takes `size × size × channels` images (center-cropped squares)
   * as `pixel × scale + offset` (pixels 0–255; RGB order, or grey). `base` names the pretrained
   * base inside a transfer-learning model; `labels` are the class names by output index.
   */
  image?: { size: number; channels: 1 | 3; scale: number; offset: number; base: 'mobilenet-v2' | null };
  config: TrainConfig;
  /** `logits`: apply softmax for probabilities. `value`: the regression prediction itself. */
  output: 'logits' | 'value';
  step: number;
  epoch: number;
  datasetFingerprint: string;
  exportedAt: number;
}

export interface ImportOptions {
  /** The CSV a package exported without its dataset was trained on; it must have the same fingerprint. */
  datasetFile?: Blob;
  /**
   * A checkpoint claimed from the server's queue: the job takes the server's id (replacing an older
   * local copy and its checkpoints), its name as it is, the link, and the submission's breakpoint
   * (dropped when the run starts if the checkpoint is past it).
   */
  serverJob?: ServerJobClaim & { name: string; breakpoint: Breakpoint | null };
}

/** What the user must supply to import a package that was exported without its dataset. */
export interface NeededDataset {
  name: string;
  /** The file it was read from, when known. */
  fileName: string | null;
  rows: number;
  columns: string[];
  fingerprint: string;
}

export interface ImportedModelInfo {
  fileName: string;
  numInputs: number;
  numOutputs: number;
  layers: { name: string; className: string; units: number | null; activation: string | null }[];
  numParams: number;
  lathe: LatheModelMetadata | null;
  /** Whether `fineTuneImportedModel` accepts it, and why not. */
  fineTune: { ok: true } | { ok: false; reason: string };
}

export type ImportResult =
  | { kind: 'package'; job: JobRecord; dataset: 'included' | 'supplied' | 'already-stored' }
  | { kind: 'needs-dataset'; fileName: string; jobName: string; dataset: NeededDataset; message: string }
  | { kind: 'model'; model: ImportedModelInfo };

export interface Prediction {
  /** Raw model outputs per row (logits for Lathe classifiers). */
  outputs: number[][];
  /** Softmax of logits, or the outputs of a softmax layer; null for regression. */
  probabilities: number[][] | null;
  /** Label (or class index when unnamed) for classification, the value (in the target's units) for regression. */
  predicted: (string | number)[];
  /** Whether the rows were normalized with statistics stored with the model. */
  normalized: boolean;
}

export interface FineTuneRequest {
  name: string;
  /** A stored dataset (see the Datasets panel); numeric columns only feed a Dense MLP. */
  datasetId: string;
  /** Training settings (and the table plan); the layers always come from the imported model. */
  config?: Partial<Omit<TrainConfig, 'model'>>;
}

/** A file that cannot be imported; the message names the file and the problem. */
export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportError';
  }
}

export function newerFormatMessage(formatVersion: number): string {
  return `This package was made by a newer version of Lathe (format ${formatVersion}); this version reads format ${PACKAGE_FORMAT_VERSION}. Update Lathe to open it.`;
}

export type SniffedType = 'zip' | 'json' | 'png' | 'jpeg' | 'gif' | 'pdf' | 'csv' | 'text' | 'empty' | 'binary';

/** Recognises a file by its first bytes; names and extensions are not trusted. */
export function sniffFileType(bytes: Uint8Array): SniffedType {
  const b = (i: number): number => bytes[i] ?? -1;
  if (bytes.byteLength === 0) return 'empty';
  if (b(0) === 0x50 && b(1) === 0x4b && (b(2) === 3 || b(2) === 5) && (b(3) === 4 || b(3) === 6)) return 'zip';
  if (b(0) === 0x89 && b(1) === 0x50 && b(2) === 0x4e && b(3) === 0x47) return 'png';
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'jpeg';
  if (b(0) === 0x47 && b(1) === 0x49 && b(2) === 0x46) return 'gif';
  if (b(0) === 0x25 && b(1) === 0x50 && b(2) === 0x44 && b(3) === 0x46) return 'pdf';
  const head = bytes.subarray(0, 4096);
  // Text has no control bytes other than tab, newline and carriage return.
  if (head.some((c) => c < 9 || (c > 13 && c < 32) || c === 11 || c === 12)) return 'binary';
  const text = new TextDecoder().decode(head).replace(/^\uFEFF/, '').trimStart();
  if (text.startsWith('{')) return 'json';
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  return firstLine.includes(',') || firstLine.includes(';') ? 'csv' : 'text';
}

const WHAT_IT_IS: Partial<Record<SniffedType, string>> = {
  png: 'a PNG image',
  jpeg: 'a JPEG image',
  gif: 'a GIF image',
  pdf: 'a PDF document',
  csv: 'a CSV table',
  text: 'a text file',
  binary: 'a binary file of an unknown kind',
};

export function wrongTypeMessage(fileName: string, type: SniffedType): string {
  if (type === 'empty') return `“${fileName}” is empty.`;
  const what = WHAT_IT_IS[type] ?? 'not a file Lathe can import';
  const hint = type === 'csv' ? ' To train on a table, add it as a dataset instead.' : '';
  return `“${fileName}” is ${what}, not a Lathe training package (.lathe) or a TensorFlow.js model (model.json with its weight files, or a .zip of them).${hint}`;
}

// ---- Validation: each check names the offending field. ----

type Obj = Record<string, unknown>;

class Checker {
  constructor(readonly file: string) {}
  fail(at: string, problem: string): never {
    throw new ImportError(`${this.file}: “${at}” ${problem}.`);
  }
  obj(v: unknown, at: string): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(at, 'must be an object');
    return v as Obj;
  }
  str(v: unknown, at: string): string {
    if (typeof v !== 'string') this.fail(at, 'must be text');
    return v;
  }
  num(v: unknown, at: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(at, 'must be a finite number');
    return v;
  }
  count(v: unknown, at: string): number {
    if (!Number.isInteger(v) || (v as number) < 0) this.fail(at, 'must be a whole number, 0 or more');
    return v as number;
  }
  arr(v: unknown, at: string): unknown[] {
    if (!Array.isArray(v)) this.fail(at, 'must be a list');
    return v;
  }
  strs(v: unknown, at: string): string[] {
    return this.arr(v, at).map((x, i) => this.str(x, `${at}[${i}]`));
  }
  nums(v: unknown, at: string): number[] {
    return this.arr(v, at).map((x, i) => this.num(x, `${at}[${i}]`));
  }
  oneOf<T extends string>(v: unknown, at: string, options: readonly T[]): T {
    if (!options.includes(v as T)) this.fail(at, `must be one of ${options.join(', ')}`);
    return v as T;
  }
  specs(v: unknown, at: string): void {
    this.arr(v, at).forEach((s, i) => {
      const o = this.obj(s, `${at}[${i}]`);
      this.str(o.name, `${at}[${i}].name`);
      this.arr(o.shape, `${at}[${i}].shape`).forEach((d, j) => this.count(d, `${at}[${i}].shape[${j}]`));
      this.oneOf(o.dtype, `${at}[${i}].dtype`, ['float32', 'int32', 'bool']);
    });
  }
  rng(v: unknown, at: string): void {
    const s = this.arr(v, at);
    if (s.length !== 4 || s.some((x) => !Number.isInteger(x) || (x as number) < 0 || (x as number) > 0xffffffff))
      this.fail(at, 'must be 4 unsigned 32-bit integers');
  }
  normalization(v: unknown, at: string): void {
    if (v === null) return;
    const n = this.obj(v, at);
    this.nums(n.mean, `${at}.mean`);
    this.nums(n.std, `${at}.std`);
  }
}

/** Checks a parsed manifest.json; the format version first, since a newer one may differ in any field. */
export function parsePackageManifest(value: unknown): PackageManifest {
  const c = new Checker('manifest.json');
  const m = c.obj(value, '(top level)');
  if (m.format !== PACKAGE_FORMAT)
    throw new ImportError(`manifest.json does not describe a Lathe package (its “format” is ${JSON.stringify(m.format ?? null)}, expected "${PACKAGE_FORMAT}").`);
  const formatVersion = c.count(m.formatVersion, 'formatVersion');
  if (formatVersion > PACKAGE_FORMAT_VERSION) throw new ImportError(newerFormatMessage(formatVersion));
  if (formatVersion < 1) c.fail('formatVersion', 'must be 1 or more');
  c.str(m.appVersion, 'appVersion');
  c.num(m.createdAt, 'createdAt');
  c.str(m.configHash, 'configHash');
  const config = c.obj(m.config, 'config');
  const model = c.obj(config.model, 'config.model');
  // Configs from before model kinds existed are MLPs; the other kinds are checked by validateConfig.
  if (model.kind === undefined || model.kind === 'mlp') c.arr(model.hidden, 'config.model.hidden');
  const job = c.obj(m.job, 'job');
  c.str(job.name, 'job.name');
  c.str(job.configHash, 'job.configHash');
  c.num(job.durationMs, 'job.durationMs');
  const k = c.obj(m.checkpoint, 'checkpoint');
  c.count(k.seq, 'checkpoint.seq');
  c.str(k.jobId, 'checkpoint.jobId');
  c.str(k.configHash, 'checkpoint.configHash');
  c.str(k.datasetFingerprint, 'checkpoint.datasetFingerprint');
  c.str(k.checksum, 'checkpoint.checksum');
  const cursor = c.obj(k.cursor, 'checkpoint.cursor');
  for (const f of ['epoch', 'batch', 'globalStep']) c.count(cursor[f], `checkpoint.cursor.${f}`);
  const rng = c.obj(k.rng, 'checkpoint.rng');
  c.rng(rng.epochStart, 'checkpoint.rng.epochStart');
  c.rng(rng.current, 'checkpoint.rng.current');
  c.specs(k.weightSpecs, 'checkpoint.weightSpecs');
  const opt = c.obj(k.optimizer, 'checkpoint.optimizer');
  c.str(opt.name, 'checkpoint.optimizer.name');
  c.specs(opt.specs, 'checkpoint.optimizer.specs');
  Object.entries(c.obj(opt.scalars, 'checkpoint.optimizer.scalars')).forEach(([key, v]) => c.num(v, `checkpoint.optimizer.scalars.${key}`));
  Object.entries(c.obj(k.epochAccumulators, 'checkpoint.epochAccumulators')).forEach(([key, v]) => c.num(v, `checkpoint.epochAccumulators.${key}`));
  c.arr(k.history, 'checkpoint.history');
  c.normalization(k.normalization, 'checkpoint.normalization');
  const ds = c.obj(m.dataset, 'dataset');
  if (typeof ds.included !== 'boolean') c.fail('dataset.included', 'must be true or false');
  const meta = c.obj(ds.meta, 'dataset.meta');
  for (const f of ['id', 'name', 'fingerprint']) c.str(meta[f], `dataset.meta.${f}`);
  c.oneOf(meta.kind, 'dataset.meta.kind', formatVersion === 1 ? ['table'] : ['table', 'images', 'text']);
  if (meta.kind === 'text') {
    c.count(meta.rows, 'dataset.meta.rows');
    c.count(meta.characters, 'dataset.meta.characters');
    c.strs(meta.vocabulary, 'dataset.meta.vocabulary');
  } else if (meta.kind === 'images') {
    c.count(meta.rows, 'dataset.meta.rows');
    c.count(meta.size, 'dataset.meta.size');
    if (meta.channels !== 1 && meta.channels !== 3) c.fail('dataset.meta.channels', 'must be 1 or 3');
    c.strs(meta.classNames, 'dataset.meta.classNames');
  } else if (formatVersion === 1) {
    c.str(meta.targetName, 'dataset.meta.targetName');
    c.oneOf(meta.task, 'dataset.meta.task', ['classification', 'regression']);
    c.strs(meta.featureNames, 'dataset.meta.featureNames');
    c.strs(meta.classNames, 'dataset.meta.classNames');
    c.count(meta.numSamples, 'dataset.meta.numSamples');
    c.count(meta.numFeatures, 'dataset.meta.numFeatures');
  } else {
    c.count(meta.rows, 'dataset.meta.rows');
    c.arr(meta.columns, 'dataset.meta.columns').forEach((col, i) => c.str(c.obj(col, `dataset.meta.columns[${i}]`).name, `dataset.meta.columns[${i}].name`));
    const plan = c.obj(meta.defaultPlan, 'dataset.meta.defaultPlan');
    c.str(plan.target, 'dataset.meta.defaultPlan.target');
    c.oneOf(plan.task, 'dataset.meta.defaultPlan.task', ['classification', 'regression']);
    c.obj(plan.columns, 'dataset.meta.defaultPlan.columns');
    c.oneOf(plan.missing, 'dataset.meta.defaultPlan.missing', ['drop', 'impute']);
  }
  c.arr(m.files, 'files').forEach((f, i) => {
    const e = c.obj(f, `files[${i}]`);
    c.str(e.path, `files[${i}].path`);
    c.count(e.byteLength, `files[${i}].byteLength`);
    c.str(e.sha256, `files[${i}].sha256`);
  });
  return m as unknown as PackageManifest;
}

/** Checks `userDefinedMetadata.lathe` of a model.json; null when the model carries none. */
export function parseLatheMetadata(value: unknown, file = 'model.json'): LatheModelMetadata | null {
  if (value === undefined || value === null) return null;
  const c = new Checker(file);
  const at = `userDefinedMetadata.${LATHE_METADATA_KEY}`;
  const m = c.obj(value, at);
  c.count(m.metadataVersion, `${at}.metadataVersion`);
  c.oneOf(m.task, `${at}.task`, ['classification', 'regression']);
  const features = c.strs(m.featureNames, `${at}.featureNames`);
  c.strs(m.labels, `${at}.labels`);
  c.oneOf(m.output, `${at}.output`, ['logits', 'value']);
  c.normalization(m.normalization, `${at}.normalization`);
  const norm = m.normalization as LatheModelMetadata['normalization'];
  if (norm && (norm.mean.length !== features.length || norm.std.length !== features.length))
    c.fail(`${at}.normalization`, `must have one mean and one std for each of the ${features.length} features`);
  if (norm && norm.std.some((s) => s <= 0)) c.fail(`${at}.normalization.std`, 'must be above 0');
  return m as unknown as LatheModelMetadata;
}
