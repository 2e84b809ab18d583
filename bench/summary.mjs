// @ts-check
// Turns a bench result into summary rows (each figure with its in-run baseline, the ratio, the
// target and whether it is met) and prints them as a table. Pure functions, unit-tested.
import { imageRows } from './image-section.mjs';
import { textRows } from './text-section.mjs';
import { round } from './stats.mjs';

/**
 * @typedef {object} Row
 * @property {string} group
 * @property {string} figure
 * @property {number | null} value
 * @property {string} unit
 * @property {number | null} baseline
 * @property {string} baselineLabel what the baseline is
 * @property {number | null} ratio value / baseline
 * @property {string | null} target a condition on the ratio (or on the value, when it says so)
 * @property {boolean | null} met null when there is no target or nothing was measured
 * @property {string | null} note
 */

/**
 * @param {Partial<Row> & { group: string, figure: string, unit: string }} r
 * @returns {Row}
 */
function row(r) {
  const value = round(r.value ?? null, 2);
  const baseline = round(r.baseline ?? null, 2);
  const ratio = r.ratio !== undefined ? round(r.ratio, 3) : value !== null && baseline ? round(value / baseline, 3) : null;
  return { baselineLabel: '—', target: null, met: null, note: null, ...r, value, baseline, ratio };
}

/** @param {number | null} v @param {number} limit */
const atLeast = (v, limit) => (v === null ? null : v >= limit);
/** @param {number | null} v @param {number} limit */
const atMost = (v, limit) => (v === null ? null : v <= limit);

/** @param {any} result */
function workerRows(result) {
  /** @type {Row[]} */
  const rows = [];
  const ran = result.backends.filter((/** @type {any} */ b) => b.models.length > 0);
  for (const b of result.backends.filter((/** @type {any} */ x) => x.models.length === 0)) {
    rows.push(row({ group: 'throughput', figure: `${b.backend}: not measured`, unit: '', note: b.reason }));
  }
  const modelIds = [...new Set(ran.flatMap((/** @type {any} */ b) => b.models.map((/** @type {any} */ m) => m.id)))];
  for (const id of modelIds) {
    const runs = ran.flatMap((/** @type {any} */ b) => b.models.filter((/** @type {any} */ m) => m.id === id).map((/** @type {any} */ m) => ({ b: b.backend, m })));
    const best = runs.reduce((/** @type {any} */ a, /** @type {any} */ x) => (x.m.loop.steady.samplesPerSec > a.m.loop.steady.samplesPerSec ? x : a));
    for (const { b, m } of runs) {
      const steady = m.loop.steady.samplesPerSec;
      const batch = result.config.models.find((/** @type {any} */ s) => s.id === id)?.batchSize ?? 1;
      rows.push(row({ group: 'throughput', figure: `${id} ${b} samples/s (steady)`, value: steady, unit: 'samples/s', baseline: best.m.loop.steady.samplesPerSec, baselineLabel: `best backend (${best.b})`, note: m.threads ? `${m.threads} thread(s), as the app gives this model` : null }));
      rows.push(row({ group: 'throughput', figure: `${id} ${b} first step`, value: m.loop.firstStepMs, unit: 'ms', baseline: (batch * 1000) / steady, baselineLabel: 'one steady step' }));
      rows.push(row({ group: 'loop overhead', figure: `${id} ${b} app loop vs bare fit`, value: steady, unit: 'samples/s', baseline: m.fit.steady.samplesPerSec, baselineLabel: 'bare model.fit', ratio: m.loopOverFit, target: '≥ 0.95', met: atLeast(m.loopOverFit, 0.95), note: `${m.loop.steady.steps} steps from step ${m.loop.steady.fromStep}` }));
      const c = m.checkpoint;
      rows.push(row({ group: 'checkpoints', figure: `${id} ${b} write (${(c.bytes / 1024).toFixed(0)} KiB)`, value: c.writeMBps, unit: 'MB/s', baseline: c.rawPutMBps, baselineLabel: 'raw IndexedDB put', ratio: c.ratio, target: '≥ 0.8', met: atLeast(c.ratio, 0.8), note: `write ${c.writeMs.toFixed(1)} ms, encode ${c.encodeMs.toFixed(1)} ms` }));
      const share = m.loop.checkpoints;
      rows.push(row({ group: 'checkpoints', figure: `${id} ${b} time checkpointing (${share.count}×)`, value: share.totalMs, unit: 'ms', baseline: share.runMs, baselineLabel: 'training run', ratio: share.share, target: '≤ 0.02', met: atMost(share.share, 0.02), note: `encode ${share.encodeMs.toFixed(0)} + write ${share.writeMs.toFixed(0)} ms; ${share.deviceWaitMs.toFixed(0)} ms waiting for queued steps not counted` }));
      rows.push(row({ group: 'checkpoints', figure: `${id} ${b} restore`, value: c.restore.totalMs, unit: 'ms', baseline: c.rawGetMs, baselineLabel: 'raw IndexedDB get', note: `read ${c.restore.readMs.toFixed(1)}, verify ${c.restore.verifyMs.toFixed(1)}, restoreInto ${c.restore.restoreMs.toFixed(1)} ms` }));
      const readings = m.memory.perEpoch;
      const last = readings.at(-1)?.numTensors ?? null;
      const second = readings[1]?.numTensors ?? null;
      rows.push(row({ group: 'memory', figure: `${id} ${b} tensors at last epoch`, value: last, unit: 'tensors', baseline: second, baselineLabel: 'after epoch 2', target: 'flat', met: m.memory.flat, note: `${readings.map((/** @type {any} */ r) => r.numTensors).join(', ')} at epochs ${readings.map((/** @type {any} */ r) => r.epoch).join(', ')}; ${m.memory.leakedTensors} left after dispose` }));
    }
  }
  return rows;
}

/** @param {any} result */
function uiRows(result) {
  const ui = result.ui;
  /** @type {Row[]} */
  const rows = [];
  const lat = ui.latency;
  if (lat) {
    const base = lat.selectJob.medianMs;
    const label = 'click → job shown (no worker hop)';
    rows.push(row({ group: 'latency', figure: 'cancel: click → cancelled (median)', value: lat.cancel.medianMs, unit: 'ms', baseline: base, baselineLabel: label }));
    rows.push(row({ group: 'latency', figure: 'pause: click → paused (median)', value: lat.pause.medianMs, unit: 'ms', baseline: base, baselineLabel: label }));
    rows.push(row({ group: 'latency', figure: 'resume in memory: click → running', value: lat.resumeInMemory.medianMs, unit: 'ms', baseline: base, baselineLabel: label }));
    const r = lat.resumeAfterReload;
    rows.push(row({ group: 'latency', figure: 'resume after reload: load → first new step', value: r.totalMs, unit: 'ms', baseline: ui.load?.tti.warmMs ?? null, baselineLabel: 'warm load → interactive', note: `load → interactive ${r.loadToInteractiveMs?.toFixed(0)} ms + Resume click → step ${r.firstStepShown} ${r.clickToFirstStepMs.toFixed(0)} ms` }));
  }
  const mt = ui.mainThread;
  if (mt) {
    const secs = `${(mt.training.ms / 1000).toFixed(0)} s training`;
    rows.push(row({ group: 'main thread', figure: `long tasks > 50 ms (${secs})`, value: mt.training.longTasks, unit: 'tasks', baseline: mt.idle.longTasks, baselineLabel: 'idle page', ratio: null, target: 'value = 0', met: mt.training.longTasks === 0 }));
    rows.push(row({ group: 'main thread', figure: `longest long task (${secs})`, value: mt.training.longestTaskMs, unit: 'ms', baseline: mt.idle.longestTaskMs, baselineLabel: 'idle page', ratio: null, note: mt.training.longTasks === 0 ? 'none over 50 ms' : `at ${mt.training.longTaskList.map((/** @type {any} */ t) => `${(t.atMs / 1000).toFixed(1)} s (${t.ms} ms)`).join(', ')}` }));
    rows.push(row({ group: 'main thread', figure: `job-list click → next paint p95 (${mt.training.clicks} clicks)`, value: mt.training.inputToPaint.p95Ms, unit: 'ms', baseline: mt.idle.inputToPaint.p95Ms, baselineLabel: 'idle page', target: 'value ≤ 50', met: atMost(mt.training.inputToPaint.p95Ms, 50) }));
    rows.push(row({ group: 'main thread', figure: 'job-list click Event Timing p95', value: mt.training.eventTiming.p95Ms, unit: 'ms', baseline: mt.idle.eventTiming.p95Ms, baselineLabel: 'idle page', target: 'value ≤ 50', met: atMost(mt.training.eventTiming.p95Ms, 50), note: `${mt.training.eventTiming.reported} of ${mt.training.clicks} clicks ≥ 16 ms` }));
    rows.push(row({ group: 'memory', figure: 'page JS heap at end of training watch', value: mt.heap.endBytes / 1048576, unit: 'MB', baseline: mt.heap.startBytes / 1048576, baselineLabel: 'at start of watch' }));
  }
  const load = ui.load;
  if (load) {
    rows.push(row({ group: 'load', figure: `main-thread JS, gzip (${load.bundle.mainJs.files.length} files)`, value: load.bundle.mainJs.gzipBytes / 1024, unit: 'KiB', baseline: load.bundle.workerJs.gzipBytes / 1024, baselineLabel: 'training worker JS, gzip' }));
    rows.push(row({ group: 'load', figure: 'time to interactive, warm cache', value: load.tti.warmMs, unit: 'ms', baseline: load.tti.coldMs, baselineLabel: 'cold cache' }));
  }
  const w = result.machine.wasm;
  rows.push(row({ group: 'backend', figure: 'WASM threads', value: w.threads, unit: 'threads', baseline: result.machine.cores, baselineLabel: 'cores', note: `crossOriginIsolated ${result.machine.pageCrossOriginIsolated}, SharedArrayBuffer ${w.sharedArrayBuffer}, multithreading ${w.multithread ? 'on' : 'off'}, SIMD ${w.simd}` }));
  rows.push(...threadRows(result));
  rows.push(...choiceRows(result));
  rows.push(...csvRows(result));
  rows.push(...syncRows(result));
  return rows;
}

/**
 * CSV import: the app's reader against bare papaparse on the same file in the same run, then the
 * real app's import of that file (main-thread tasks, the trainer worker's peak memory).
 * @param {any} result
 */
function csvRows(result) {
  const c = result.ui.csvImport;
  if (!c) return [];
  const mb = `${(c.file.bytes / 1e6).toFixed(c.file.bytes < 1e7 ? 1 : 0)} MB`;
  const bare = c.parse.bare.MBps;
  const runs = (/** @type {number[]} */ xs) => xs.map((x) => x.toFixed(1)).join(', ');
  const u = c.ui;
  const m = c.workerMemory;
  return [
    row({ group: 'csv import', figure: `app reader, file → worker → typed columns (${mb})`, value: c.parse.app.MBps, unit: 'MB/s', baseline: bare, baselineLabel: 'bare papaparse, same file', ratio: c.parse.ratio, target: '≥ 0.8', met: atLeast(c.parse.ratio, 0.8), note: `median of ${c.parse.app.runsMBps.length} pass(es) each, in fresh workers: app ${runs(c.parse.app.runsMBps)}; papaparse ${runs(c.parse.bare.runsMBps)} MB/s; ${c.file.rows} rows` }),
    row({ group: 'csv import', figure: `in the app: file chosen → every byte read (${mb})`, value: u.readMBps, unit: 'MB/s', baseline: bare, baselineLabel: 'bare papaparse, same file', note: `${u.readMs === null ? '—' : (u.readMs / 1000).toFixed(1)} s to the full progress bar; ${(u.importMs / 1000).toFixed(1)} s to "Added" (${u.importMBps.toFixed(1)} MB/s: also fingerprinted, stored, the column table shown)` }),
    row({ group: 'csv import', figure: `in the app: longest main-thread task while importing (${mb})`, value: u.longestTaskMs, unit: 'ms', baseline: null, ratio: null, target: 'value < 50', met: u.longTaskSupported ? u.longestTaskMs < 50 : null, note: u.longTasks === 0 ? 'no task over 50 ms' : `${u.longTasks} over 50 ms: ${u.longTaskList.map((/** @type {any} */ t) => `${(t.atMs / 1000).toFixed(1)} s (${t.ms} ms)`).join(', ')}` }),
    row({ group: 'csv import', figure: `in the app: trainer worker's peak memory (${mb})`, value: m.peakBytes / 1e6, unit: 'MB', baseline: c.file.bytes / 1e6, baselineLabel: 'file size', ratio: m.peakOverFile, target: '≤ 3', met: atMost(m.peakOverFile, 3), note: `over its ${(m.baselineBytes / 1e6).toFixed(1)} MB after a GC before the import; peak JS heap ${(m.peakHeapBytes / 1e6).toFixed(1)} MB, array buffers ${(m.peakBackingBytes / 1e6).toFixed(1)} MB; ${m.samples} CDP samples` }),
  ];
}

/**
 * Device A's state changes to device B's page, over the sync server.
 * @param {any} result
 */
function syncRows(result) {
  const s = result.ui.syncAToB;
  if (!s) return [];
  const n = s.changes.length;
  return [
    row({ group: 'sync', figure: `device A's change → B's page p50 (${n} pauses/resumes)`, value: s.p50Ms, unit: 'ms', baseline: s.fromPageA.p50Ms, baselineLabel: "from A's own page showing it", ratio: null, note: 'from the job-log line A\'s worker wrote with the change to B\'s remote job row showing the state' }),
    row({ group: 'sync', figure: `device A's change → B's page p95 (${n} pauses/resumes)`, value: s.p95Ms, unit: 'ms', baseline: s.fromPageA.p95Ms, baselineLabel: "from A's own page showing it", ratio: null, note: `max ${s.maxMs} ms` }),
  ];
}

/**
 * WASM with every core against WASM with one thread, on the same model in the same run.
 * @param {any} result
 */
function threadRows(result) {
  const t = result.wasmThreads;
  if (!t) return [];
  const [one, many] = t.runs;
  const rate = (/** @type {any} */ r) => r?.loop?.steady?.samplesPerSec ?? null;
  const describe = (/** @type {any} */ r) => (r ? `${r.threadsInUse ?? '?'} thread(s), ${r.build}${r.reason ? ` (${r.reason})` : ''}` : 'not run');
  return [
    row({ group: 'threads', figure: `${t.model} wasm, ${many?.threadsInUse ?? '?'} threads vs 1 thread`, value: rate(many), unit: 'samples/s', baseline: rate(one), baselineLabel: '1 thread', ratio: t.ratio, target: '≥ 1.6 (2 threads)', met: atLeast(t.ratio, 1.6), note: `all: ${describe(many)}; one: ${describe(one)}; hardwareConcurrency ${t.hardwareConcurrency}` }),
  ];
}

/**
 * The app's automatic choice for each size class against the best backend in this run's
 * throughput table for the bench model of that class.
 * @param {any} result
 */
function choiceRows(result) {
  const choices = result.ui.backendChoice ?? [];
  const ran = result.backends.filter((/** @type {any} */ b) => b.models.length > 0);
  const rows = choices.map((/** @type {any} */ choice) => {
    const rate = (/** @type {string} */ name) =>
      ran.find((/** @type {any} */ b) => b.backend === name)?.models.find((/** @type {any} */ m) => m.id === choice.comparedWith)?.loop.steady.samplesPerSec ?? null;
    const best = ran.map((/** @type {any} */ b) => ({ name: b.backend, r: rate(b.backend) ?? 0 })).sort((/** @type {any} */ a, /** @type {any} */ b) => b.r - a.r)[0];
    const chosen = rate(choice.chosen);
    const ratio = chosen !== null && best ? chosen / best.r : null;
    return row({ group: 'backend', figure: `app's choice for ${choice.job}: ${choice.chosen}, on ${choice.comparedWith}`, value: chosen, unit: 'samples/s', baseline: best?.r ?? null, baselineLabel: `best backend (${best?.name ?? '?'})`, ratio, target: '≥ 0.9', met: atLeast(ratio, 0.9), note: chosen === null ? `${choice.chosen} was not measured in this run` : `the app says: ${choice.reason}` });
  });
  const probes = choices.map((/** @type {any} */ choice) =>
    row({ group: 'backend', figure: `backend probe for ${choice.job}`, value: choice.probeMs ?? null, unit: 'ms', baseline: choice.msToChoice, baselineLabel: 'Train click → backend shown', ratio: null, target: 'value ≤ 2000', met: choice.probeMs === null || choice.probeMs === undefined ? null : choice.probeMs <= 2000, note: choice.completeReason ? `complete ranking ${(choice.msToComplete / 1000).toFixed(1)} s after the click: ${choice.completeReason}` : 'no background measurement recorded' }),
  );
  return [...rows, ...probes];
}

/** @param {any} result @returns {Row[]} */
export function summarize(result) {
  return [...workerRows(result), ...uiRows(result), ...imageRows(result, row), ...textRows(result, row)];
}

/**
 * The rows of a run of the text section alone (`--only text`).
 * @param {any} result
 */
export function summarizeText(result) {
  return textRows(result, row);
}

/** @param {number | null} v */
function fmt(v) {
  if (v === null) return '—';
  const abs = Math.abs(v);
  return abs >= 100 ? v.toFixed(0) : abs >= 10 ? v.toFixed(1) : v.toFixed(abs >= 1 ? 2 : 3);
}

/** @param {Row[]} rows @returns {string} */
export function formatTable(rows) {
  const head = ['figure', 'value', 'baseline', 'ratio', 'target', 'met'];
  const body = rows.map((r) => [
    `[${r.group}] ${r.figure}`,
    r.value === null ? '—' : `${fmt(r.value)} ${r.unit}`.trim(),
    r.baseline === null ? '—' : `${fmt(r.baseline)} (${r.baselineLabel})`,
    fmt(r.ratio),
    r.target ?? '—',
    r.met === null ? '—' : r.met ? 'met' : 'NOT met',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((cells) => (cells[i] ?? '').length)));
  const line = (/** @type {string[]} */ cells) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ').trimEnd();
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.figure}: ${r.note}`);
  return [line(head), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line), '', 'Notes:', ...notes].join('\n');
}
