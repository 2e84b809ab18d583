// Chooses the automatic backend by measurement: a short probe trains the job's kind of model on
// each backend, checks the maths against cpu, and picks the fastest. cpu and WASM are measured in
// the trainer worker; WebGL and WebGPU, whose start-up compiles shaders for seconds on a software
// GPU, each in a probe worker of their own, in parallel (tfjs has one engine per worker). The
// choice is made within PROBE_BUDGET_MS from what has finished by then; a GPU backend still
// compiling is measured to the end in the background and counts from the next job on. The ranking
// is cached per device and model size class, and re-probed when the browser or GPU changes.
import { getSetting, putSetting, type LatheDb } from '../shared/db';
import type { BackendName, BackendProbeResult, ProbeSummary } from '../shared/protocol';
import { probeOne, type BackendInit, type ProbeSpec } from './probe-measure';
import { DEFAULT_CONFIG, isTextModel, type TrainConfig } from '../shared/config';
import type { Dataset } from '../shared/dataset';
import { MAX_ONE_HOT_CATEGORIES } from '../shared/table-types';
import { kernelPlan, registryHas } from './backend-kernels';
import { BASE_FEATURES } from './images/base-model';

export type { ProbeSpec } from './probe-measure';

/** The choice is made this long after the probe starts, from the backends measured by then, in ms. */
export const PROBE_BUDGET_MS = 2000;
/**
 * The budget for convolutional models, in ms: their speeds differ by an order of magnitude between
 * backends (a 28 px digits CNN: about 9 images/s on tfjs's cpu, 230 on WebGL over SwiftShader), so
 * a wrong choice costs far more than a longer probe, and a GPU backend (software or not) must get
 * its turn before the choice.
 */
export const CONV_PROBE_BUDGET_MS = 15_000;
/** A background (late) measurement is given up after this long, in ms. */
export const LATE_PROBE_MAX_MS = 30_000;
/** Relative loss difference tolerated against cpu (float32 reductions differ in order per backend). */
const AGREEMENT_TOLERANCE = 1e-2;

/** Backends measured elsewhere (a probe worker each) when the caller can: the GPU ones. */
const REMOTE: readonly BackendName[] = ['webgl', 'webgpu'];

/** Measures a backend somewhere else (its own worker); resolves with its result, never rejects. */
export type RemoteProbe = (backend: BackendName, spec: ProbeSpec) => Promise<BackendProbeResult>;

export interface ProbeOptions {
  /** Where GPU backends are measured; without it every backend is measured here, one by one. */
  remote?: RemoteProbe;
  /**
   * Every GPU here is a software one (SwiftShader, llvmpipe): start the remote probes only after
   * the local ones, whose CPU their shader compilation would take, and choose without waiting for
   * them. A software GPU is the slowest backend for training; it is still measured (for the
   * record and the cache), in the background.
   */
  softwareGpu?: boolean;
  /**
   * With `softwareGpu`: resolves when the GPU probes may start without competing with training
   * (trainer-idle.ts). Without it they start right after the local probes.
   */
  whenIdle?: () => Promise<void>;
  budgetMs?: number;
}

export interface ProbeRun {
  /** What was known at the deadline; `pending` lists backends still being measured. */
  summary: ProbeSummary;
  /** The complete summary once every pending backend is measured; null when none was pending. */
  late: Promise<ProbeSummary> | null;
}

/** What `backend()` probes for before any job exists: a small MLP like the samples. */
export const DEFAULT_PROBE_SPEC: ProbeSpec = { config: DEFAULT_CONFIG, numFeatures: 4, numOutputs: 3 };

/** The probe's model for a job: the job's config at its dataset's input and output widths. */
export function probeSpecFor(dataset: Dataset, config: TrainConfig): ProbeSpec {
  if (dataset.kind === 'images') {
    const numOutputs = Math.max(2, dataset.classNames.length);
    if (config.model.kind === 'cnn') {
      const side = config.model.imageSize;
      return { config, numFeatures: side * side * dataset.channels, numOutputs, inputShape: [side, side, dataset.channels] };
    }
    return { config, numFeatures: BASE_FEATURES, numOutputs };
  }
  if (dataset.kind === 'text') {
    const L = isTextModel(config.model) ? config.model.sequenceLength : 1;
    return { config, numFeatures: L, numOutputs: dataset.vocabulary.length + 1, inputShape: [L] };
  }
  const plan = config.table ?? dataset.defaultPlan;
  let numFeatures = 0;
  for (const c of dataset.columns) {
    const type = c.name === plan.target ? 'ignored' : plan.columns[c.name];
    if (type === 'numeric') numFeatures += 1;
    else if (type === 'categorical') numFeatures += Math.min(c.distinctCount, MAX_ONE_HOT_CATEGORIES) + (c.distinctCount > MAX_ONE_HOT_CATEGORIES ? 1 : 0);
  }
  const target = dataset.columns.find((c) => c.name === plan.target);
  const numOutputs = plan.task === 'classification' ? Math.max(2, target?.distinctCount ?? 2) : 1;
  return { config, numFeatures: Math.max(1, numFeatures), numOutputs };
}

/** Speed ranking depends on model size: tiny nets are overhead-bound, large ones compute-bound. */
export function sizeClass(spec: ProbeSpec): 'small' | 'medium' | 'large' {
  const m = spec.config.model;
  if (m.kind === 'cnn') {
    // Compute, not parameters, decides for convolutions: multiply-adds per sample.
    const side = spec.inputShape?.[0] ?? m.imageSize;
    let channels = spec.inputShape?.[2] ?? 1;
    let macs = 0;
    m.blocks.forEach((b, i) => {
      const s = side / 2 ** i;
      macs += s * s * b.kernelSize * b.kernelSize * channels * b.filters;
      channels = b.filters;
    });
    return macs < 1_000_000 ? 'small' : macs < 50_000_000 ? 'medium' : 'large';
  }
  if (m.kind === 'rnn') {
    // Recurrent compute per window: four (LSTM) or three (GRU) gates of units × (inputs + units) at each position.
    const gates = m.cell === 'lstm' ? 4 : 3;
    let macs = 0;
    let fanIn = m.embedding;
    for (let i = 0; i < m.layers; i++) {
      macs += gates * m.units * (fanIn + m.units);
      fanIn = m.units;
    }
    macs = (macs + m.units * spec.numOutputs) * m.sequenceLength;
    return macs < 1_000_000 ? 'small' : macs < 50_000_000 ? 'medium' : 'large';
  }
  if (m.kind === 'transformer') {
    // Per position: the q/k/v and output projections, the feed-forward layers, the attention
    // scores and weighted sum over the window (masked, but computed in full), and the logits.
    const L = m.sequenceLength;
    const perPosition = m.blocks * (4 * m.dModel * m.dModel + 2 * m.dModel * m.ffUnits + 2 * L * m.dModel) + m.dModel * spec.numOutputs;
    const macs = perPosition * L;
    return macs < 1_000_000 ? 'small' : macs < 50_000_000 ? 'medium' : 'large';
  }
  const hidden = m.kind === 'mlp' ? m.hidden.map((l) => l.units) : [m.hidden];
  let params = 0;
  let fanIn = spec.numFeatures;
  for (const units of [...hidden, spec.numOutputs]) {
    params += fanIn * units + units;
    fanIn = units;
  }
  return params < 10_000 ? 'small' : params < 1_000_000 ? 'medium' : 'large';
}

/** cpu first (the reference for agreement), then WASM, then the GPU backends. */
export function probeOrder(): BackendName[] {
  return ['cpu', 'wasm', 'webgl', 'webgpu'];
}

function cacheKey(spec: ProbeSpec): string {
  return `backend-probe:${spec.config.model.kind}:${sizeClass(spec)}`;
}

/** A result that passed on its own but whose loss disagrees with cpu's is not ok. */
function checkAgreement(r: BackendProbeResult, reference: number | null): BackendProbeResult {
  if (!r.ok || reference === null || r.backend === 'cpu' || r.finalLoss === undefined) return r;
  if (Math.abs(r.finalLoss - reference) <= AGREEMENT_TOLERANCE * Math.max(Math.abs(reference), 1e-6)) return r;
  return { ...r, ok: false, reason: `${r.backend}: disagrees with cpu (loss ${r.finalLoss} vs ${reference})` };
}

function summarize(results: BackendProbeResult[], spec: ProbeSpec, probeMs: number): ProbeSummary {
  const reference = results.find((r) => r.backend === 'cpu' && r.ok)?.finalLoss ?? null;
  const checked = results.map((r) => checkAgreement(r, reference));
  const ranked = checked.filter((r) => r.ok).sort((a, b) => (b.samplesPerSec ?? 0) - (a.samplesPerSec ?? 0));
  if (ranked.length === 0) throw new Error(`No backend passed the probe: ${checked.map((r) => r.reason).join('; ')}`);
  const pending = checked.filter((r) => r.pending).map((r) => r.backend);
  return { chosen: ranked[0]!.backend, results: checked, sizeClass: sizeClass(spec), probeMs: Math.round(probeMs), cached: false, pending };
}

function pendingResult(backend: BackendName, afterMs: number, deferred: boolean): BackendProbeResult {
  const reason = deferred
    ? `${backend}: a software GPU, measured in the background for the next job, once no job is training`
    : `${backend}: still starting after ${Math.round(afterMs)} ms; measured in the background for the next job`;
  return { backend, ok: false, samplesPerSec: null, warmupMs: null, pending: true, reason };
}

function timedOut(backend: BackendName): BackendProbeResult {
  return { backend, ok: false, samplesPerSec: null, warmupMs: null, reason: `${backend}: no result within ${LATE_PROBE_MAX_MS / 1000} s` };
}

/**
 * Runs the probe and returns the ranking known at the deadline, plus the complete one to come.
 * `init` makes a backend current in this worker (for the local ones).
 */
export async function runProbe(
  spec: ProbeSpec,
  init: BackendInit,
  fullOrder: readonly BackendName[] = probeOrder(),
  options: ProbeOptions = {},
  has: (kernel: string, backend: BackendName) => boolean = registryHas,
): Promise<ProbeRun> {
  const started = performance.now();
  const conv = spec.inputShape !== undefined;
  const budgetMs = options.budgetMs ?? (conv ? CONV_PROBE_BUDGET_MS : PROBE_BUDGET_MS);
  // A convolution on a software GPU still beats cpu many times over: it is measured before the choice.
  options = conv ? { ...options, softwareGpu: false } : options;
  // A backend that misses a kernel the model needs cannot train it at all: not probed.
  const plan = kernelPlan(spec.config.model.kind, fullOrder, has);
  const excluded: BackendProbeResult[] = plan.excluded.map((e) => ({ backend: e.backend, ok: false, samplesPerSec: null, warmupMs: null, reason: e.reason }));
  const order = plan.allowed;
  const remote = options.remote;
  const remoteNames = remote ? order.filter((b) => REMOTE.includes(b)) : [];
  const localNames = order.filter((b) => !remoteNames.includes(b));
  const remoteResults = new Map<BackendName, BackendProbeResult>();
  const measureRemote = (): Promise<void> =>
    Promise.all(
      remoteNames.map(async (b) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const limit = new Promise<BackendProbeResult>((resolve) => (timer = setTimeout(() => resolve(timedOut(b)), LATE_PROBE_MAX_MS)));
        remoteResults.set(b, await Promise.race([remote!(b, spec), limit]));
        clearTimeout(timer);
      }),
    ).then(() => undefined);
  let remoteDone: Promise<void> = Promise.resolve();
  if (!options.softwareGpu) remoteDone = measureRemote();
  const localResults: BackendProbeResult[] = [];
  for (const b of localNames) {
    // Without probe workers the old rule holds: a backend is only started while budget remains.
    if (!remote && performance.now() - started > budgetMs) {
      localResults.push({ backend: b, ok: false, samplesPerSec: null, warmupMs: null, reason: `${b}: not probed, the ${budgetMs} ms budget was used up` });
      continue;
    }
    localResults.push(await probeOne(b, spec, init));
  }
  // A job is about to start: software GPU probes wait until the trainer is idle, or their shader
  // compilation would take its CPU (and the page's) for seconds.
  if (options.softwareGpu && remoteNames.length > 0) remoteDone = (options.whenIdle?.() ?? Promise.resolve()).then(measureRemote);
  const left = options.softwareGpu ? 0 : budgetMs - (performance.now() - started);
  if (remoteNames.length > 0 && left > 0) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([remoteDone, new Promise((r) => (timer = setTimeout(r, left)))]);
    clearTimeout(timer);
  }
  const inOrder = (extra: (b: BackendName) => BackendProbeResult): BackendProbeResult[] =>
    [...excluded, ...order.map((b) => localResults.find((r) => r.backend === b) ?? remoteResults.get(b) ?? extra(b))];
  const probeMs = performance.now() - started;
  const summary = summarize(inOrder((b) => pendingResult(b, probeMs, options.softwareGpu === true)), spec, probeMs);
  if ((summary.pending ?? []).length === 0) return { summary, late: null };
  const late = remoteDone.then(() => ({ ...summarize(inOrder(timedOut), spec, summary.probeMs), probeMs: summary.probeMs }));
  return { summary, late };
}

interface CachedProbe {
  environment: string;
  summary: ProbeSummary;
}

/** Background measurements under way in this worker, by cache key. */
const lateProbes = new Map<string, Promise<ProbeSummary>>();

/**
 * The cached summary when it was measured completely in this same browser and GPU; otherwise a
 * new probe. A probe that left backends pending is stored as it is and replaced by the complete
 * ranking when that arrives. Meanwhile jobs in this worker reuse the partial ranking (no second
 * set of probe workers); a fresh worker, whose background probe died with the old one, probes again.
 */
export async function probeWithCache(
  db: LatheDb,
  spec: ProbeSpec,
  environment: string,
  init: BackendInit,
  order?: readonly BackendName[],
  options?: ProbeOptions,
): Promise<ProbeRun> {
  const key = cacheKey(spec);
  const cached = await getSetting<CachedProbe | null>(db, key, null);
  const complete = (cached?.summary.pending ?? []).length === 0;
  if (cached && cached.environment === environment && (complete || lateProbes.has(key)))
    return { summary: { ...cached.summary, cached: true }, late: lateProbes.get(key) ?? null };
  const run = await runProbe(spec, init, order, options);
  await putSetting(db, key, { environment, summary: run.summary } satisfies CachedProbe);
  if (!run.late) return run;
  const late = run.late
    .then(async (full) => {
      await putSetting(db, key, { environment, summary: full } satisfies CachedProbe);
      return full;
    })
    .finally(() => lateProbes.delete(key));
  lateProbes.set(key, late);
  return { summary: run.summary, late };
}
