// The bench's result shape, its summary (targets met or not), and the startup-asset reading of
// index.html, on hand-made inputs: no browser.
import { describe, expect, it } from 'vitest';
import { probeMsFromReason } from '../../bench/backend-choice.mjs';
import { startupAssets } from '../../bench/load.mjs';
import { RESULT_SCHEMA, validateResult } from '../../bench/schema.mjs';
import { formatTable, summarize } from '../../bench/summary.mjs';

/** A value that conforms to `spec`: numbers 1, strings "x", one element per array. */
function example(spec: unknown): unknown {
  if (typeof spec === 'string') {
    const base = spec.replace(/\?$/, '');
    return base === 'number' ? 1 : base === 'string' ? 'x' : base === 'boolean' ? true : {};
  }
  if (Array.isArray(spec)) return [example(spec[0])];
  return Object.fromEntries(Object.entries(spec as Record<string, unknown>).map(([k, v]) => [k, example(v)]));
}

type Path = (string | number)[];

/** Sets (or, with `undefined`, deletes) the value at `path` inside a plain JSON-like object. */
function put(root: unknown, path: Path, value: unknown): void {
  let node = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (value === undefined) delete node[last];
  else node[last] = value;
}

describe('bench result schema', () => {
  it('accepts a result with every field, and nulls where a field may be unmeasured', () => {
    const result = example(RESULT_SCHEMA) as { machine: { wasm: { threads: number | null } } };
    expect(validateResult(result)).toEqual([]);
    result.machine.wasm.threads = null;
    expect(validateResult(result)).toEqual([]);
  });

  it('names the path of every missing or mistyped field', () => {
    const result = example(RESULT_SCHEMA);
    put(result, ['ui', 'mainThread', 'training', 'longTasks'], undefined);
    put(result, ['backends', 0, 'models', 0, 'loop', 'steady', 'samplesPerSec'], 'fast');
    put(result, ['backends', 0, 'models', 0, 'checkpoint', 'ratio'], Number.NaN);
    put(result, ['ui', 'load'], null);
    expect(validateResult(result)).toEqual([
      '$.backends[0].models[0].loop.steady.samplesPerSec: expected number, got string',
      '$.backends[0].models[0].checkpoint.ratio: expected number, got NaN',
      '$.ui.mainThread.training.longTasks: missing',
      '$.ui.load: expected an object, got null',
    ]);
  });
});

function modelResult(id: string, samplesPerSec: number, fitPerSec: number, ratio: number, share: number) {
  const window = (rate: number) => ({ fromStep: 10, steps: 100, samples: 1600, ms: 1000, samplesPerSec: rate });
  return {
    id,
    params: 403,
    loop: {
      firstStepMs: 80,
      warmupMs: 200,
      afterFirstEpoch: true,
      steady: window(samplesPerSec),
      progressEvents: 10,
      checkpoints: { count: 2, totalMs: share * 1000, encodeMs: 1, writeMs: 1, deviceWaitMs: 0, runMs: 1000, share },
      capped: true,
    },
    fit: { warmupMs: 150, steady: window(fitPerSec) },
    loopOverFit: samplesPerSec / fitPerSec,
    memory: {
      perEpoch: [20, 26, 26, 26].map((n, i) => ({ epoch: i + 1, step: 4 * (i + 1), numTensors: n, numBytes: 100 })),
      flat: true,
      tensorsBefore: 0,
      leakedTensors: 0,
    },
    checkpoint: {
      bytes: 4096,
      encodeMs: 2,
      writeMs: 5,
      writeMBps: 0.8 * ratio,
      rawPutMs: 4,
      rawPutMBps: 0.8,
      ratio,
      restore: { readMs: 1, verifyMs: 1, restoreMs: 1, totalMs: 3 },
      rawGetMs: 1,
    },
  };
}

function syntheticResult() {
  const base = example(RESULT_SCHEMA);
  put(base, ['config'], { models: [{ id: 'iris', batchSize: 16 }] });
  put(base, ['backends'], [
    { backend: 'webgpu', available: false, reason: 'no adapter', initMs: null, cadence: null, wallMs: null, progressEventsReceived: null, models: [] },
    { backend: 'wasm', available: true, reason: null, initMs: 5, cadence: {}, wallMs: 10, progressEventsReceived: 3, models: [modelResult('iris', 4000, 4100, 0.9, 0.01)] },
    { backend: 'cpu', available: true, reason: null, initMs: 1, cadence: {}, wallMs: 10, progressEventsReceived: 3, models: [modelResult('iris', 2000, 1900, 0.5, 0.05)] },
  ]);
  const threadsRun = (threads: number, rate: number) => ({ threadsRequested: threads, threadsInUse: threads, build: threads > 1 ? 'threaded-simd' : 'simd', reason: null, loop: { steady: { samplesPerSec: rate } } });
  put(base, ['wasmThreads'], { model: 'mlp784', hardwareConcurrency: 2, runs: [threadsRun(1, 1000), threadsRun(2, 1700)], ratio: 1.7 });
  put(base, ['ui', 'backendChoice'], [{ comparedWith: 'iris', job: 'XOR', chosen: 'cpu', reason: 'measured in a 2500 ms probe', msToChoice: 3000, probeMs: 2500, completeReason: null, msToComplete: null }]);
  put(base, ['ui', 'mainThread', 'training', 'longTasks'], 0);
  put(base, ['ui', 'mainThread', 'training', 'inputToPaint', 'p95Ms'], 70);
  return base;
}

describe('bench summary', () => {
  const rows = summarize(syntheticResult());
  const find = (figure: string) => rows.find((r) => r.figure.startsWith(figure))!;

  it('compares each backend with the best one measured in the same run', () => {
    expect(find('iris cpu samples/s')).toMatchObject({ value: 2000, baseline: 4000, ratio: 0.5, baselineLabel: 'best backend (wasm)' });
    expect(find('webgpu: not measured').note).toBe('no adapter');
  });

  it('marks each target met or not met from the ratio against its baseline', () => {
    expect(find('iris wasm app loop vs bare fit')).toMatchObject({ target: '≥ 0.95', met: true });
    expect(find('iris wasm write')).toMatchObject({ ratio: 0.9, met: true });
    expect(find('iris cpu write')).toMatchObject({ ratio: 0.5, met: false });
    expect(find('iris cpu time checkpointing')).toMatchObject({ ratio: 0.05, target: '≤ 0.02', met: false });
    expect(find('iris wasm tensors at last epoch')).toMatchObject({ value: 26, baseline: 26, met: true });
    expect(find('long tasks')).toMatchObject({ value: 0, met: true });
    expect(find('job-list click → next paint')).toMatchObject({ value: 70, met: false });
  });

  it('compares WASM on every core with WASM on one thread, against the 1.6× target', () => {
    expect(find('mlp784 wasm, 2 threads vs 1 thread')).toMatchObject({ value: 1700, baseline: 1000, ratio: 1.7, met: true });
    const slow = syntheticResult();
    put(slow, ['wasmThreads', 'ratio'], 1.2);
    expect(summarize(slow).find((r) => r.group === 'threads')).toMatchObject({ ratio: 1.2, met: false });
  });

  it("checks the app's automatic backend against the fastest one", () => {
    expect(find("app's choice for XOR: cpu, on iris")).toMatchObject({ ratio: 0.5, target: '≥ 0.9', met: false });
  });

  it('checks the backend probe against its 2 s budget, read from the reason the app shows', () => {
    expect(find('backend probe for XOR')).toMatchObject({ value: 2500, target: 'value ≤ 2000', met: false });
    expect(probeMsFromReason('fastest for small models (measured in a 862 ms probe): wasm 5,746/s')).toBe(862);
    expect(probeMsFromReason('fastest for small models (measured earlier on this device): wasm')).toBeNull();
  });

  it('checks CSV import against bare papaparse on the same file, the 50 ms task budget and 3× the file in memory', () => {
    const csv = syntheticResult();
    put(csv, ['ui', 'csvImport', 'file', 'bytes'], 50e6);
    put(csv, ['ui', 'csvImport', 'parse'], { bare: { runsMBps: [20], MBps: 20, rows: 10 }, app: { runsMBps: [15], MBps: 15, rows: 9 }, ratio: 0.75 });
    put(csv, ['ui', 'csvImport', 'ui', 'longestTaskMs'], 62);
    put(csv, ['ui', 'csvImport', 'workerMemory', 'peakBytes'], 100e6);
    put(csv, ['ui', 'csvImport', 'workerMemory', 'peakOverFile'], 2);
    const csvRows = summarize(csv).filter((r) => r.group === 'csv import');
    const get = (figure: string) => csvRows.find((r) => r.figure.startsWith(figure))!;
    expect(get('app reader')).toMatchObject({ value: 15, baseline: 20, ratio: 0.75, target: '≥ 0.8', met: false });
    expect(get('in the app: longest main-thread task')).toMatchObject({ value: 62, target: 'value < 50', met: false });
    expect(get("in the app: trainer worker's peak memory")).toMatchObject({ value: 100, baseline: 50, ratio: 2, met: true });
  });

  it("reports device A's change to device B's page as p50 and p95", () => {
    const sync = syntheticResult();
    put(sync, ['ui', 'syncAToB', 'p50Ms'], 240);
    put(sync, ['ui', 'syncAToB', 'p95Ms'], 610);
    const syncRows = summarize(sync).filter((r) => r.group === 'sync');
    expect(syncRows.map((r) => [r.figure.slice(0, 30), r.value])).toEqual([
      ["device A's change → B's page p", 240],
      ["device A's change → B's page p", 610],
    ]);
  });

  it('prints one table line per figure, with NOT met where a target is missed', () => {
    const table = formatTable(rows);
    expect(table.split('\n').filter((l) => l.startsWith('['))).toHaveLength(rows.length);
    expect(table).toContain('NOT met');
  });
});

describe('load bench', () => {
  it("counts the entry script and its modulepreloads as the main thread's startup JavaScript", () => {
    const html = `<script type="module" crossorigin src="/assets/main-1.js"></script>
      <link rel="modulepreload" crossorigin href="/assets/comlink-2.js">
      <link rel="stylesheet" crossorigin href="/assets/main-3.css">
      <link rel="icon" href="/favicon.svg">`;
    expect(startupAssets(html)).toEqual({ js: ['/assets/main-1.js', '/assets/comlink-2.js'], css: ['/assets/main-3.css'] });
  });
});
