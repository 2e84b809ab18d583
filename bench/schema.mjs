// @ts-check
// The shape of bench/results/<date>.json, written once as data, and a checker for it. A type is
// 'number' | 'string' | 'boolean' | 'any', with a trailing '?' for "or null"; an object spec lists
// its fields; a one-element array spec types every element. Bump SCHEMA_VERSION on any change.

import { IMAGES_SCHEMA } from './image-section.mjs';
import { TEXT_SCHEMA } from './text-section.mjs';

/**
 * 3: `ui.csvImport` and `ui.syncAToB`; 4: `images` (decode and store, CNN loop vs fit, transfer
 * learning, the digits sample); 5: `text` (the recurrent preset's loop vs fit in characters/s,
 * generation, training while generating).
 */
export const SCHEMA_VERSION = 5;

const WINDOW = { fromStep: 'number', steps: 'number', samples: 'number', ms: 'number', samplesPerSec: 'number' };

const MODEL_RESULT = {
  id: 'string',
  params: 'number',
  threads: 'number?',
  loop: {
    firstStepMs: 'number',
    warmupMs: 'number',
    afterFirstEpoch: 'boolean',
    steady: WINDOW,
    progressEvents: 'number',
    checkpoints: { count: 'number', totalMs: 'number', encodeMs: 'number', writeMs: 'number', deviceWaitMs: 'number', runMs: 'number', share: 'number' },
    capped: 'boolean',
  },
  fit: { warmupMs: 'number', steady: WINDOW },
  loopOverFit: 'number',
  memory: {
    perEpoch: [{ epoch: 'number', step: 'number', numTensors: 'number', numBytes: 'number' }],
    flat: 'boolean?',
    tensorsBefore: 'number',
    leakedTensors: 'number',
  },
  checkpoint: {
    bytes: 'number',
    encodeMs: 'number',
    writeMs: 'number',
    writeMBps: 'number',
    rawPutMs: 'number',
    rawPutMBps: 'number',
    ratio: 'number',
    restore: { readMs: 'number', verifyMs: 'number', restoreMs: 'number', totalMs: 'number' },
    rawGetMs: 'number',
  },
};

const BACKEND_RESULT = {
  backend: 'string',
  available: 'boolean',
  reason: 'string?',
  initMs: 'number?',
  cadence: 'any',
  wallMs: 'number?',
  progressEventsReceived: 'number?',
  models: [MODEL_RESULT],
};

/** WASM with 1 thread and with every core on one model (version 2); `loop` is a LoopResult or null. */
const WASM_THREADS = {
  model: 'string',
  hardwareConcurrency: 'number',
  runs: [{ threadsRequested: 'number', threadsInUse: 'number?', build: 'string', reason: 'string?', loop: 'any' }],
  ratio: 'number?',
};

const LATENCY = { samplesMs: ['number'], medianMs: 'number?', maxMs: 'number?' };

const WATCH = {
  ms: 'number',
  longTasks: 'number',
  longestTaskMs: 'number',
  longTaskList: [{ atMs: 'number', ms: 'number' }],
  clicks: 'number',
  inputToPaint: { p50Ms: 'number?', p95Ms: 'number?', maxMs: 'number?' },
  eventTiming: { p95Ms: 'number?', maxMs: 'number?', reported: 'number' },
};

const FILES = { bytes: 'number', gzipBytes: 'number', files: [{ url: 'string', bytes: 'number', gzipBytes: 'number' }] };

/** One parser's passes over the generated CSV in bench.html's workers (version 3). */
const CSV_PASSES = { runsMBps: ['number'], MBps: 'number?', rows: 'number' };

/** CSV import (version 3): bare papaparse against the app's reader, then the real app's import. */
const CSV_IMPORT = {
  file: { bytes: 'number', rows: 'number' },
  parse: { bare: CSV_PASSES, app: CSV_PASSES, ratio: 'number?' },
  ui: {
    readMs: 'number?',
    readMBps: 'number?',
    importMs: 'number',
    importMBps: 'number',
    longTaskSupported: 'boolean',
    longTasks: 'number',
    longestTaskMs: 'number',
    longTaskList: [{ atMs: 'number', ms: 'number' }],
    ratioToBare: 'number?',
  },
  workerMemory: {
    method: 'string',
    workerUrl: 'string',
    samples: 'number',
    baselineBytes: 'number',
    peakBytes: 'number',
    peakHeapBytes: 'number',
    peakBackingBytes: 'number',
    peakOverFile: 'number',
  },
};

const DELAYS = { p50Ms: 'number?', p95Ms: 'number?', maxMs: 'number?' };

/** Device A's state change to device B's page over the sync server (version 3). */
const SYNC_A_TO_B = {
  method: 'string',
  changes: [{ state: 'string', madeToShownOnBMs: 'number', shownOnAToBMs: 'number' }],
  ...DELAYS,
  fromPageA: DELAYS,
};

const SUMMARY_ROW = {
  group: 'string',
  figure: 'string',
  value: 'number?',
  unit: 'string',
  baseline: 'number?',
  baselineLabel: 'string',
  ratio: 'number?',
  target: 'string?',
  met: 'boolean?',
  note: 'string?',
};

export const RESULT_SCHEMA = {
  schemaVersion: 'number',
  mode: 'string',
  startedAt: 'string',
  durationMs: 'number',
  machine: {
    cores: 'number',
    cpuModel: 'string',
    totalMemBytes: 'number',
    loadAverage: { start: ['number'], end: ['number'] },
    platform: 'string',
    nodeVersion: 'string',
    chromiumVersion: 'string',
    userAgent: 'string',
    hardwareConcurrency: 'number',
    pageCrossOriginIsolated: 'boolean',
    workerCrossOriginIsolated: 'boolean',
    webgpuAdapter: 'any',
    webglRenderer: 'string?',
    wasm: { threads: 'number?', simd: 'boolean?', multithread: 'boolean?', sharedArrayBuffer: 'boolean', reason: 'string?' },
  },
  config: 'any',
  backends: [BACKEND_RESULT],
  wasmThreads: WASM_THREADS,
  ui: {
    latency: {
      backend: 'string',
      cancel: LATENCY,
      pause: LATENCY,
      resumeInMemory: LATENCY,
      selectJob: LATENCY,
      resumeAfterReload: {
        checkpointStep: 'number',
        firstStepShown: 'number?',
        loadToInteractiveMs: 'number?',
        clickToFirstStepMs: 'number',
        totalMs: 'number?',
      },
    },
    mainThread: {
      backend: 'string',
      longTaskSupported: 'boolean',
      eventTimingSupported: 'boolean',
      idle: WATCH,
      training: { ...WATCH, stillRunning: 'boolean', stepsDuringWatch: 'number' },
      heap: { startBytes: 'number', endBytes: 'number' },
    },
    load: { bundle: { mainJs: FILES, css: FILES, workerJs: FILES }, tti: { coldMs: 'number', warmMs: 'number?', warmSamplesMs: ['number'] } },
    backendChoice: [{ comparedWith: 'string', job: 'string', chosen: 'string', reason: 'string?', msToChoice: 'number', probeMs: 'number?', completeReason: 'string?', msToComplete: 'number?' }],
    csvImport: CSV_IMPORT,
    syncAToB: SYNC_A_TO_B,
  },
  images: IMAGES_SCHEMA,
  text: TEXT_SCHEMA,
  summary: [SUMMARY_ROW],
  errors: [{ section: 'string', message: 'string' }],
};

/** A run of the text section alone (`node bench/run.mjs --only text`): bench/results/text-<date>.json. */
export const TEXT_ONLY_SCHEMA = {
  schemaVersion: 'number',
  mode: 'string',
  only: 'string',
  startedAt: 'string',
  durationMs: 'number',
  machine: RESULT_SCHEMA.machine,
  text: TEXT_SCHEMA,
  summary: [SUMMARY_ROW],
  errors: [{ section: 'string', message: 'string' }],
};

/**
 * @param {unknown} value
 * @param {string} type
 */
function matches(value, type) {
  const nullable = type.endsWith('?');
  const base = nullable ? type.slice(0, -1) : type;
  if (value === null) return nullable || base === 'any';
  if (base === 'any') return value !== undefined;
  if (base === 'number') return typeof value === 'number' && !Number.isNaN(value);
  return typeof value === base;
}

/**
 * Every problem with `value` against `spec`, as "path: what"; empty means it conforms. Extra
 * fields are allowed (later versions may add some); missing or mistyped ones are not.
 * @param {unknown} value
 * @param {unknown} [spec]
 * @param {string} [path]
 * @returns {string[]}
 */
export function validateResult(value, spec = RESULT_SCHEMA, path = '$') {
  if (typeof spec === 'string') return matches(value, spec) ? [] : [`${path}: expected ${spec}, got ${describe(value)}`];
  if (Array.isArray(spec)) {
    if (!Array.isArray(value)) return [`${path}: expected an array, got ${describe(value)}`];
    return value.flatMap((item, i) => validateResult(item, spec[0], `${path}[${i}]`));
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected an object, got ${describe(value)}`];
  const record = /** @type {Record<string, unknown>} */ (value);
  return Object.entries(/** @type {Record<string, unknown>} */ (spec)).flatMap(([key, sub]) =>
    key in record ? validateResult(record[key], sub, `${path}.${key}`) : [`${path}.${key}: missing`],
  );
}

/** @param {unknown} v */
function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' && Number.isNaN(v)) return 'NaN';
  return typeof v;
}
