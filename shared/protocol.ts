// The contract between the page and the training worker, and between tabs.
// The worker implements `TrainerApi`; the page's TrainerClient is its only caller.
import type { TrainConfig } from './config';
import type { DatasetInput, DatasetSummary } from './dataset';
import type { SampleId } from './samples';
import type { Evaluation } from './evaluation';
import type { TablePlan } from './table-types';
import type { QueueActivity, RemoteJobSummary, RunnerStatus, SyncStatus } from './sync-types';
import type { SkippedFile } from './image-types';
import type { GenerateRequest, GenerateResult, NextCharacters } from './text-generation';
import type { Breakpoint, JobProgress, JobRecord, JobState, MetricPoint, ServerJobLink } from './jobs';
import type {
  ExportedFile, FineTuneRequest, ImportOptions, ImportResult, InputFile, ModelExport, Prediction,
} from './package-format';

export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export function isBackendName(v: unknown): v is BackendName {
  return typeof v === 'string' && (BACKENDS as readonly string[]).includes(v);
}

export interface BackendAttempt {
  backend: BackendName;
  ok: boolean;
  /** Why it was skipped or failed, e.g. "WebGPU: no adapter". */
  reason: string | null;
}

/** One backend's figures from the automatic choice's probe. */
export interface BackendProbeResult {
  backend: BackendName;
  ok: boolean;
  /** Steady-state training samples per second, measured after warmup. */
  samplesPerSec: number | null;
  /** Initialisation plus the first (compiling) steps, in ms. */
  warmupMs: number | null;
  reason: string | null;
  /** Loss after the agreement steps (compared with cpu's). */
  finalLoss?: number;
  /** Still being measured when the choice was made (in the background, for the next job). */
  pending?: boolean;
}

export interface ProbeSummary {
  chosen: BackendName;
  results: BackendProbeResult[];
  /** The model size class the probe ran for: choices differ for tiny and large nets. */
  sizeClass: 'small' | 'medium' | 'large';
  probeMs: number;
  /** True when reused from an earlier probe in this same browser and GPU. */
  cached: boolean;
  /**
   * Backends still being measured when the choice was made, within the probe's 2 s budget; their
   * figures count from the next job on. Absent in summaries cached by older versions.
   */
  pending?: BackendName[];
}

export interface BackendInfo {
  backend: BackendName;
  /** Why this one runs: "preferred", "chosen in settings", or why the ones before it failed. */
  reason: string;
  attempts: BackendAttempt[];
  /** e.g. "google swiftshader" for WebGPU, when known. */
  adapter: string | null;
  /** The measurements behind an automatic choice; null when a backend was forced. */
  probe: ProbeSummary | null;
  /** Threads the backend computes with: WASM's thread pool; null for the other backends. */
  threads: number | null;
}

export interface WorkerSettings {
  /** Forced backend (URL `?backend=` or settings); null means automatic. */
  backend: BackendName | null;
  /** Time-based checkpoint cadence, in seconds; a checkpoint is also written at every epoch end. */
  checkpointIntervalSec: number;
  /** A step-history point is recorded every this many steps (epochs are always recorded). */
  historyEverySteps: number;
  /**
   * WASM threads wanted (AppSettings.wasmThreads); null or absent = one per logical core. A change
   * applies from the next job on.
   */
  wasmThreads?: number | null;
}

/** A server job this device's runner claimed: the server's job id and the claim's lease generation. */
export interface ServerJobClaim extends ServerJobLink {
  id: string;
}

export type SubmitRequest = {
  name: string;
  /** For a table, `config.table` says how its columns are used (its dataset's suggestion by default). */
  config: TrainConfig;
  /** Pause by itself at this point (see `Breakpoint`); none by default. */
  breakpoint?: Breakpoint | null;
  /** A job claimed from the server's queue: it takes the server's id (replacing an older local copy) and is marked. */
  serverJob?: ServerJobClaim;
} & (
  | { /** A stored dataset (a sample made with `sample`, or an uploaded file). */ datasetId: string }
  | { /** Data handed in as arrays (programs, tests); stored first, once. */ dataset: DatasetInput }
);

/** A table file added as a dataset. */
export interface TableImport {
  dataset: DatasetSummary;
  /** The same content was already stored, so nothing new was written. */
  reused: boolean;
}

/** A file for an image dataset: where it was (its folder names its class) or the class it was given. */
export interface ImageFileEntry {
  file: Blob;
  /** Relative path, e.g. "shapes/circle/a.png" (webkitRelativePath, or the dropped folder's entries). */
  path: string;
  /** A class chosen for it; null: its folder decides (shared/image-labels.ts). */
  label: string | null;
}

export interface ImageImportRequest {
  name: string;
  files: ImageFileEntry[];
  /** Also the camera frames recorded so far (forgotten once the dataset is stored). */
  useCapture: boolean;
}

/** Image files (and frames) added as a dataset. */
export interface ImageImport extends TableImport {
  /** Files that were skipped, at most MAX_LISTED_SKIPPED named. */
  skipped: SkippedFile[];
  skippedCount: number;
}

/** Camera frames recorded so far, per class. */
export type CaptureCounts = Record<string, number>;

/** A plan checked against its table's rows. */
export interface PlanCheck {
  problems: string[];
  /** Rows the plan trains and validates on. */
  rows: number;
  /** Rows left out: a missing target, or (with 'drop') a missing input. */
  dropped: number;
  /** Input cells filled in (with 'impute'). */
  imputed: number;
}

/** What deleting a dataset did, or why it waits for a confirmation. */
export interface DatasetDeleteOutcome {
  deleted: boolean;
  /** Jobs that could still resume with it: listed (and nothing deleted) unless forced. */
  resumable: { id: string; name: string; state: JobState }[];
  /** Completed jobs that lose their predictions, evaluation and exports. */
  finished: number;
}

/** Progress as sent on the wire: at most 10 a second per job. */
export interface ProgressEvent extends JobProgress {
  jobId: string;
  state: JobState;
}

/** Everything the worker tells the page, as one discriminated union. */
export type WorkerEvent =
  | { type: 'progress'; progress: ProgressEvent; points: MetricPoint[] }
  | { type: 'job'; job: JobRecord }
  | { type: 'backend'; info: BackendInfo };

export type WorkerEventListener = (event: WorkerEvent) => void;

export interface TensorMemory {
  numTensors: number;
  numBytes: number;
}

/** The one API the worker exposes through Comlink. */
export interface TrainerApi {
  /** Must be called first; the listener is a Comlink proxy, released by the client. Cheap: no backend yet. */
  init(settings: WorkerSettings, listener: WorkerEventListener): Promise<void>;
  /** Selects the backend on first call (also done by the first `start`), then returns the choice. */
  backend(): Promise<BackendInfo>;
  updateSettings(settings: WorkerSettings): Promise<void>;
  /** Validates, fingerprints and stores the dataset, then stores a queued job, in one transaction. */
  submit(request: SubmitRequest): Promise<JobRecord>;
  /**
   * Starts a queued or paused job (from its newest good checkpoint, if any) and resolves once it
   * runs. A job still marked `running` is taken as a crash recovery. Problems with the job itself
   * (config or dataset mismatch, no usable checkpoint) do not throw: the job is marked failed
   * with a readable error and returned.
   */
  start(jobId: string): Promise<JobRecord>;
  /** Pauses within one step, writes a checkpoint, and keeps the model in memory. */
  pause(jobId: string): Promise<JobRecord>;
  /** Continues a job paused in this worker. Returns null when it is not in memory (load from checkpoint). */
  resume(jobId: string): Promise<JobRecord | null>;
  /** Stops within one step; the job becomes cancelled; its last checkpoint stays. */
  cancel(jobId: string): Promise<JobRecord>;
  /**
   * Sets or clears where a job pauses by itself. A running job takes it from its next step on;
   * one the run has already passed is refused with the current step named.
   */
  setBreakpoint(jobId: string, breakpoint: Breakpoint | null): Promise<JobRecord>;
  /** A built-in sample as a stored dataset (made and stored the first time). */
  sample(id: SampleId): Promise<TableImport>;
  /**
   * Reads a CSV/TSV file as it streams in and stores it as a dataset, unless the same content is
   * stored already. `onProgress` (a Comlink proxy) gets bytes read of total. Rejects with a
   * readable error naming the line and column; nothing is stored then.
   */
  importTable(file: Blob, onProgress?: (bytesRead: number, totalBytes: number) => void): Promise<TableImport>;
  /** Stops a running `importTable` within one slice of the file; it rejects with an AbortError. */
  cancelImport(): Promise<void>;
  listDatasets(): Promise<DatasetSummary[]>;
  renameDataset(id: string, name: string): Promise<DatasetSummary>;
  /** Deletes a dataset; with resumable jobs still needing it, only when `force` (the page asks first). */
  deleteDataset(id: string, options: { force: boolean }): Promise<DatasetDeleteOutcome>;
  /** What a plan would train on: the problems that block it (naming line and column), and the rows it keeps. */
  checkPlan(datasetId: string, plan: TablePlan): Promise<PlanCheck>;
  /** Evaluation on the validation split: confusion matrix and per-class figures, or predicted against actual. */
  evaluate(jobId: string): Promise<Evaluation>;
  /**
   * Predictions for rows of raw values keyed by original column name, from the live model while
   * the job is in this worker (between steps, without stopping it), else from its newest checkpoint.
   */
  predictRecords(jobId: string, records: Record<string, string>[]): Promise<Prediction>;
  /** A CSV with the same columns, returned with the prediction (and class probabilities) appended. */
  predictFile(jobId: string, file: Blob): Promise<ExportedFile>;
  /**
   * Decodes image files (folder = class, or an explicit class) and the recorded camera frames in
   * the worker and stores them as one dataset, unless the same content is stored already.
   * `onProgress` gets files done of total. Rejects with a readable error (one class, a class with
   * no readable image …); nothing is stored then.
   */
  importImages(request: ImageImportRequest, onProgress?: (done: number, total: number) => void): Promise<ImageImport>;
  /** Stops a running `importImages` before its next file; it rejects with an AbortError. */
  cancelImageImport(): Promise<void>;
  /** Crops and resizes one camera frame (transferred) into the recording of class `label`. */
  captureFrame(label: string, frame: ImageBitmap | Blob): Promise<CaptureCounts>;
  /** Forgets the recorded frames of one class, or of all (null). */
  clearCapture(label: string | null): Promise<CaptureCounts>;
  /**
   * Class probabilities for one image (a file, or a transferred camera frame) from an image job's
   * live model while this worker holds it (between steps), else from its newest checkpoint.
   */
  predictImage(jobId: string, image: Blob | ImageBitmap): Promise<Prediction>;
  // ---- Text (issue 10): workers/text/ ----
  /**
   * A .txt file (UTF-8, or Windows-1252 with a notice) or pasted text, checked and stored as a text
   * dataset unless the same text is stored already. Rejects with a readable error (empty, binary,
   * too many distinct characters, naming them); nothing is stored then.
   */
  importText(input: { file: Blob } | { text: string; name: string }): Promise<TableImport>;
  /**
   * Writes `request.length` characters after the prompt, calling `onChars` (a Comlink proxy) with
   * each. While the job trains in this worker, characters come from its live weights between
   * training steps (the job keeps running); else from its newest checkpoint, or its initial weights.
   */
  generateText(jobId: string, request: GenerateRequest, onChars?: (chars: string) => void): Promise<GenerateResult>;
  /** The same from an imported Lathe character model (its exported model.json and weights). */
  generateImportedText(files: InputFile[], request: GenerateRequest, onChars?: (chars: string) => void): Promise<GenerateResult>;
  /** Stops every running `generateText` after its current character; each resolves with what it wrote. */
  stopGeneration(): Promise<void>;
  /** The job's next-character probabilities after a prompt (what its exported model gives). */
  nextCharacters(jobId: string, prompt: string): Promise<NextCharacters>;
  /** Which job this worker holds in memory (running or paused), if any. */
  activeJob(): Promise<{ jobId: string; state: JobState } | null>;
  memory(): Promise<TensorMemory>;
  ping(): Promise<number>;

  // ---- Export and import (issue 4): workers/export/, formats in shared/package-format.ts ----
  /** The job's newest good checkpoint as a TensorFlow.js layers model: model.json + weights, or one zip. */
  exportModel(jobId: string, options: { zip: boolean }): Promise<ModelExport>;
  /** A resumable `.lathe` package of the job's newest good checkpoint, with its dataset if asked. */
  exportPackage(jobId: string, options: { includeDataset: boolean }): Promise<ExportedFile>;
  /**
   * Validates what the user gave: a package is stored (job, checkpoint, dataset in one transaction)
   * or reported as needing its dataset; a model is only described. Bad files reject with an
   * ImportError whose message names the problem, and nothing stored changes.
   */
  importFiles(files: InputFile[], options?: ImportOptions): Promise<ImportResult>;
  /** Predictions of an imported model (the files `importFiles` described) for raw feature rows. */
  predictImportedModel(files: InputFile[], rows: number[][]): Promise<Prediction>;
  /** A new queued job training an imported Dense MLP on a dataset, starting from its weights. */
  fineTuneImportedModel(files: InputFile[], request: FineTuneRequest): Promise<JobRecord>;
}

/** Messages between tabs on the BroadcastChannel. Only the leader tab trains. */
export type TabMessage =
  | { type: 'job'; job: JobRecord }
  | { type: 'progress'; progress: ProgressEvent; points: MetricPoint[] }
  | { type: 'backend'; info: BackendInfo }
  | { type: 'queue-changed' }
  | { type: 'command'; command: 'pause' | 'resume' | 'cancel'; jobId: string }
  | { type: 'set-breakpoint'; jobId: string; breakpoint: Breakpoint | null }
  | { type: 'datasets-changed' }
  /** The leader tab's sync stream: other devices' jobs and the sync status, for follower tabs. */
  | { type: 'sync-remote'; remote: RemoteJobSummary[]; status: SyncStatus }
  /** The leader tab's runner: what it is doing and the server queue's recent state changes, for follower tabs. */
  | { type: 'runner-status'; status: RunnerStatus; activity: QueueActivity[] };

export const TAB_CHANNEL_NAME = 'lathe-jobs';
export const TRAINER_LOCK_NAME = 'lathe-trainer';
