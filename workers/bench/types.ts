// The bench worker's contract: what one backend run is asked to do and what it reports. Plain
// types; the page relays them as JSON to bench/run.mjs, whose schema.mjs documents the same shape.
import type { BackendName } from '../../shared/protocol';
import type { CsvParseRequest, CsvParseResult } from './csv-parse';

/** One MLP workload: a synthetic classification table and how to train on it. */
export interface ModelSpec {
  /** Key in the results, e.g. "iris" or "mlp784". */
  id: string;
  features: number;
  hidden: number[];
  classes: number;
  samples: number;
  batchSize: number;
  epochs: number;
  learningRate: number;
  validationSplit: number;
  /**
   * Length of the steady-state window, in ms. Steady state starts once the first epoch is over
   * (every kernel, the partial last batch and validation included, has compiled by then).
   */
  budgetMs: number;
  /** Cap on one run, warm-up included, in ms: warm-up ends by `maxMs - budgetMs` at the latest. */
  maxMs: number;
}

export interface BackendRunRequest {
  backend: BackendName;
  models: ModelSpec[];
  /** Repetitions of the isolated checkpoint encode/write/raw-put measurement. */
  checkpointReps: number;
  /** Epochs of the memory run (short epochs of the same model, see memory-run.ts). */
  memoryEpochs: number;
}

/** The loop's cadence: always the app's defaults (shared/settings.ts, workers/session.ts). */
export interface Cadence {
  checkpointIntervalMs: number;
  minEpochCheckpointGapMs: number;
  progressIntervalMs: number;
  historyEverySteps: number;
}

export interface MemoryReading {
  epoch: number;
  step: number;
  numTensors: number;
  numBytes: number;
}

/** A measured window of training: from `fromStep` to `steps`, in `ms`. */
export interface Window {
  fromStep: number;
  steps: number;
  samples: number;
  ms: number;
  samplesPerSec: number;
}

export interface LoopResult {
  /** First step of a fresh session on a fresh backend, to its first progress event: kernel compile + read-back, in ms. */
  firstStepMs: number;
  /** From the start to the steady window (the first epoch, or `maxMs - budgetMs` if that is shorter), in ms. */
  warmupMs: number;
  /** Whether the warm-up ran a whole epoch (false: the time cap ended it, e.g. WebGPU on SwiftShader). */
  afterFirstEpoch: boolean;
  steady: Window;
  progressEvents: number;
  /**
   * Checkpoints written by the loop at the default cadence, over the whole run. `totalMs` (encode
   * + write) excludes `deviceWaitMs`, the wait for steps the GPU had queued; share = totalMs / runMs.
   */
  checkpoints: { count: number; totalMs: number; encodeMs: number; writeMs: number; deviceWaitMs: number; runMs: number; share: number };
  /** Whether the run stopped at `budgetMs`/`maxMs` before finishing its epochs. */
  capped: boolean;
}

export interface FitResult {
  /** From the start of `fit` to the same step the loop's steady window starts at, in ms. */
  warmupMs: number;
  steady: Window;
}

export interface MemoryResult {
  /** tf.memory() at rest at every epoch end of the memory run (short epochs, same model). */
  perEpoch: MemoryReading[];
  /** Whether numTensors was the same at every reading after the first; null with < 3 readings. */
  flat: boolean | null;
  tensorsBefore: number;
  /** Tensors left after the session was disposed, minus `tensorsBefore` (0 = nothing leaked). */
  leakedTensors: number;
}

export interface CheckpointResult {
  /** Weights + optimizer state, the part of the record that scales with the model. */
  bytes: number;
  encodeMs: number;
  writeMs: number;
  writeMBps: number;
  rawPutMs: number;
  rawPutMBps: number;
  /** writeMBps / rawPutMBps. */
  ratio: number;
  /** Reading the newest checkpoint, checking its checksum, and loading it into a fresh model. */
  restore: { readMs: number; verifyMs: number; restoreMs: number; totalMs: number };
  /** A raw IndexedDB get of the same bytes: the baseline for `restore.readMs`. */
  rawGetMs: number;
}

export interface ModelResult {
  id: string;
  params: number;
  /** Threads the backend computed with for this model (WASM); null for the others. */
  threads: number | null;
  loop: LoopResult;
  fit: FitResult;
  /** loop.steady.samplesPerSec / fit.steady.samplesPerSec: the loop overhead figure. */
  loopOverFit: number;
  memory: MemoryResult;
  checkpoint: CheckpointResult;
}

export interface BackendRunResult {
  backend: BackendName;
  available: boolean;
  /** Why the backend was skipped or failed; null when it ran. */
  reason: string | null;
  initMs: number | null;
  cadence: Cadence;
  models: ModelResult[];
}

export interface WorkerEnvironment {
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  userAgent: string;
  webgpuAdapter: { vendor: string; architecture: string; device: string; description: string } | null;
  webglRenderer: string | null;
  /**
   * As the app configures WASM (workers/backend.ts may turn multithreading off on purpose);
   * `sharedArrayBuffer` says whether threads would be possible here at all.
   */
  wasm: {
    threads: number | null;
    simd: boolean | null;
    multithread: boolean | null;
    sharedArrayBuffer: boolean;
    reason: string | null;
  };
}

/** One WASM run of the app's loop with a given thread count (the threads section of the bench). */
export interface ThreadsRunRequest {
  model: ModelSpec;
  /** Threads asked for; the backend may use fewer (cores, pool size, isolation). */
  threads: number;
}

export interface ThreadsRunResult {
  threadsRequested: number;
  /** XNNPACK's pool size as the running backend reports it; null if WASM did not start. */
  threadsInUse: number | null;
  /** The WASM build that ran: `threaded-simd`, `simd` (one thread), or `plain`. */
  build: string;
  /** Why the run is missing; null when it ran. */
  reason: string | null;
  loop: LoopResult | null;
}

/** Exact resume with the current backend (see resume-check.ts). */
export interface ResumeCheckRequest {
  model: ModelSpec;
  /** Global step after which the interrupted run checkpoints and restarts from the checkpoint. */
  interruptAt: number;
  /** WASM threads to use (wasm only); null = one per logical core. */
  threads: number | null;
  backend: BackendName;
}

export interface ResumeCheckResult {
  backend: BackendName;
  threadsInUse: number | null;
  totalSteps: number;
  checkpointStep: number;
  weights: number;
  maxAbsDiff: number;
  /** Largest elementwise |resumed − straight| / max(|resumed|, |straight|). */
  maxRelDiff: number;
  identical: boolean;
  /** The same figure against a run with another seed: large, so the comparison can fail. */
  controlMaxRelDiff: number;
}

/** What bench.worker.ts exposes through Comlink. */
export interface BenchWorkerApi {
  environment(): Promise<WorkerEnvironment>;
  /** `listener` gets the progress events the trainer would send the page (a Comlink proxy). */
  runBackend(request: BackendRunRequest, listener?: (event: unknown) => unknown): Promise<BackendRunResult>;
  /** The app's loop on WASM with `threads` threads, in a fresh worker (one thread count per worker). */
  runThreads(request: ThreadsRunRequest): Promise<ThreadsRunResult>;
  resumeCheck(request: ResumeCheckRequest): Promise<ResumeCheckResult>;
  /** One pass over a CSV File: the bare parser or the app's reader (workers/bench/csv-parse.ts). */
  csvParse(request: CsvParseRequest): Promise<CsvParseResult>;
}
