// @ts-check
// Sizes and repetitions of a bench run: the full run (`npm run bench`) and the quick one
// (`--quick`, ≤ 1 minute, the same JSON fields). Plain data; everything else reads it.

/** @typedef {'webgpu' | 'webgl' | 'wasm' | 'cpu'} BackendName */

/** The tfjs backends the app can run on, in the app's automatic order. */
export const BACKENDS = /** @type {const} */ (['webgpu', 'webgl', 'wasm', 'cpu']);

/**
 * One MLP workload (see workers/bench/types.ts ModelSpec).
 * @typedef {object} ModelSpec
 * @property {string} id
 * @property {number} features
 * @property {number[]} hidden
 * @property {number} classes
 * @property {number} samples
 * @property {number} batchSize
 * @property {number} epochs
 * @property {number} learningRate
 * @property {number} validationSplit
 * @property {number} budgetMs length of the steady-state window after the first epoch
 * @property {number} maxMs hard cap on one run, warm-up included
 */

/**
 * @typedef {object} BenchConfig
 * @property {'full' | 'quick'} mode
 * @property {BackendName[]} backends backends the worker benches run on
 * @property {Partial<Record<BackendName, string>>} skip backends recorded as skipped, with why
 * @property {ModelSpec[]} models
 * @property {number} checkpointReps
 * @property {number} memoryEpochs epochs of the memory run (short epochs of the same model)
 * @property {number} backendTimeoutMs one backend's whole worker bench
 * @property {number} latencyReps cancel and pause clicks, each
 * @property {number} idleWatchMs main thread watched with nothing training (the baseline)
 * @property {number} trainingWatchMs main thread watched while a job trains
 * @property {number} clickIntervalMs between clicks on the job list while watching
 * @property {number} longJobEpochs epochs of the XOR jobs the UI benches start (long enough to outlast them)
 * @property {number} choiceJobs how many size classes the app's backend choice is checked for (backend-choice.mjs)
 * @property {{ model: string }} threads the model WASM runs with 1 thread and with every core
 * @property {{ megabytes: number, runs: number }} csvImport size of the generated CSV, and passes of each parser (bench/ui-csv-import.mjs)
 * @property {number} syncChanges state changes (alternately pause and resume) device A makes for device B to see (bench/ui-sync-delay.mjs)
 */

/** Iris-sized: 4 → 16 → 16 → 3 on 150 rows, the Iris sample's recommended settings. */
const IRIS = {
  id: 'iris',
  features: 4,
  hidden: [16, 16],
  classes: 3,
  samples: 150,
  batchSize: 16,
  epochs: 300,
  learningRate: 0.01,
  validationSplit: 0.2,
  budgetMs: 5_000,
  maxMs: 30_000,
};

/** The larger MLP: 784 → 256 → 256 → 10 on 10,000 rows, batch 128. */
const MLP784 = {
  id: 'mlp784',
  features: 784,
  hidden: [256, 256],
  classes: 10,
  samples: 10_000,
  batchSize: 128,
  epochs: 20,
  learningRate: 0.001,
  validationSplit: 0.2,
  budgetMs: 10_000,
  // The cpu backend and WebGL on SwiftShader need 20-30 s for the first epoch. WebGPU on
  // SwiftShader cannot finish one here (~60 samples/s), so it is measured from its first step.
  maxMs: 45_000,
};

/** @type {BenchConfig} */
export const FULL = {
  mode: 'full',
  backends: [...BACKENDS],
  skip: {},
  models: [IRIS, MLP784],
  checkpointReps: 8,
  memoryEpochs: 4,
  backendTimeoutMs: 600_000,
  latencyReps: 3,
  idleWatchMs: 5_000,
  trainingWatchMs: 30_000,
  clickIntervalMs: 500,
  longJobEpochs: 20_000,
  choiceJobs: 2,
  threads: { model: 'mlp784' },
  csvImport: { megabytes: 50, runs: 3 },
  syncChanges: 24,
};

const QUICK_SKIP = 'skipped by --quick: shader compilation on a software GPU takes longer than the quick budget';

/** @type {BenchConfig} */
export const QUICK = {
  mode: 'quick',
  backends: ['wasm', 'cpu'],
  skip: { webgpu: QUICK_SKIP, webgl: QUICK_SKIP },
  models: [
    { ...IRIS, epochs: 40, budgetMs: 500, maxMs: 3_000 },
    // Same input and output width, small hidden layers and few rows: every code path, little work.
    { ...MLP784, hidden: [32, 32], samples: 640, batchSize: 64, epochs: 6, budgetMs: 600, maxMs: 4_000 },
  ],
  checkpointReps: 2,
  memoryEpochs: 4,
  backendTimeoutMs: 60_000,
  latencyReps: 1,
  idleWatchMs: 1_000,
  trainingWatchMs: 3_000,
  clickIntervalMs: 400,
  longJobEpochs: 20_000,
  choiceJobs: 1,
  threads: { model: 'mlp784' },
  csvImport: { megabytes: 1.5, runs: 1 },
  syncChanges: 4,
};
