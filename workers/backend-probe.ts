// Chooses the automatic backend by measurement: a short probe trains the job's kind of model on
// each backend, checks the maths against cpu, and picks the fastest. The choice is cached per
// device and model size class, and re-probed when the browser or GPU changes.
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_CONFIG, type TrainConfig } from '../shared/config';
import type { Dataset } from '../shared/dataset';
import { MAX_ONE_HOT_CATEGORIES } from '../shared/table-types';
import { getSetting, putSetting, type LatheDb } from '../shared/db';
import { type BackendName, type BackendProbeResult, type ProbeSummary } from '../shared/protocol';
import { SeededRng } from '../shared/rng';
import { kernelPlan, registryHas } from './backend-kernels';
import { BASE_FEATURES } from './images/base-model';
import { buildModel, buildOptimizer } from './model';

/** Whole-probe budget: a backend is only started while budget remains. */
export const PROBE_BUDGET_MS = 2000;
/**
 * The budget for convolutional models, in ms: their speeds differ by an order of magnitude between
 * backends (a 28 px digits CNN: about 9 images/s on tfjs's cpu, 230 on WebGL over SwiftShader), so
 * a wrong choice costs far more than a longer probe, and a GPU backend must get its turn.
 */
export const CONV_PROBE_BUDGET_MS = 15_000;
/** Images per probe step for a CNN: enough to time, small enough for the cpu reference to be quick. */
const CONV_PROBE_BATCH = 4;
/** Timed steps per backend, after its warmup. */
const TIMED_SLICE_MS = 150;
/** Identical steps every backend runs from identical weights; their losses must agree with cpu. */
const AGREEMENT_STEPS = 3;
/** Relative loss difference tolerated against cpu (float32 reductions differ in order per backend). */
const AGREEMENT_TOLERANCE = 1e-2;
const PROBE_SEED = 1234;

export interface ProbeSpec {
  config: TrainConfig;
  numFeatures: number;
  numOutputs: number;
  /** One sample's shape when it is not a flat vector (a CNN's image). */
  inputShape?: number[];
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
  const hidden = m.kind === 'mlp' ? m.hidden.map((l) => l.units) : [m.hidden];
  let params = 0;
  let fanIn = spec.numFeatures;
  for (const units of [...hidden, spec.numOutputs]) {
    params += fanIn * units + units;
    fanIn = units;
  }
  return params < 10_000 ? 'small' : params < 1_000_000 ? 'medium' : 'large';
}

/**
 * cpu first (the reference for agreement) and cheap-to-start backends next. A software WebGPU
 * adapter (SwiftShader) compiles shaders for seconds, so it goes last and is measured only if the
 * budget allows; a hardware one goes before WebGL.
 */
export function probeOrder(softwareGpu: boolean): BackendName[] {
  return ['cpu', 'wasm', ...(softwareGpu ? (['webgl', 'webgpu'] as const) : (['webgpu', 'webgl'] as const))];
}

function cacheKey(spec: ProbeSpec): string {
  return `backend-probe:${spec.config.model.kind}:${sizeClass(spec)}`;
}

interface CachedProbe {
  environment: string;
  summary: ProbeSummary;
}

async function probeOne(
  backend: BackendName,
  spec: ProbeSpec,
  sliceMs: number,
  init: (b: BackendName) => Promise<string | null>,
  reference: number | null,
): Promise<BackendProbeResult> {
  const t0 = performance.now();
  const problem = await init(backend);
  if (problem) return { backend, ok: false, samplesPerSec: null, warmupMs: null, reason: problem };
  const batch = Math.min(spec.config.batchSize, spec.inputShape ? CONV_PROBE_BATCH : 256);
  const rng = SeededRng.fromSeed(PROBE_SEED);
  const xData = Float32Array.from({ length: batch * spec.numFeatures }, () => rng.nextGaussian());
  const yData = Int32Array.from({ length: batch }, () => rng.nextInt(spec.numOutputs));
  const config = { ...spec.config, seed: PROBE_SEED };
  const model = buildModel(config, { numFeatures: spec.numFeatures, numOutputs: spec.numOutputs, inputShape: spec.inputShape });
  const optimizer = buildOptimizer(config.optimizer, config.learningRate);
  const x = tf.tensor(xData, [batch, ...(spec.inputShape ?? [spec.numFeatures])]);
  const y = tf.oneHot(tf.tensor1d(yData, 'int32'), spec.numOutputs);
  const loss = (): tf.Scalar =>
    spec.numOutputs > 1
      ? tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor)
      : tf.losses.meanSquaredError(y, model.apply(x) as tf.Tensor);
  try {
    const losses: number[] = [];
    for (let i = 0; i < AGREEMENT_STEPS; i++) {
      const cost = optimizer.minimize(loss, true)!;
      losses.push((await cost.data())[0]!);
      cost.dispose();
    }
    const warmupMs = performance.now() - t0;
    const last = losses[losses.length - 1]!;
    if (losses.some((l) => !Number.isFinite(l)))
      return { backend, ok: false, samplesPerSec: null, warmupMs, reason: `${backend}: the probe's loss became NaN` };
    if (!(last < losses[0]!))
      return { backend, ok: false, samplesPerSec: null, warmupMs, reason: `${backend}: the probe's loss did not go down` };
    if (reference !== null && Math.abs(last - reference) > AGREEMENT_TOLERANCE * Math.max(Math.abs(reference), 1e-6))
      return { backend, ok: false, samplesPerSec: null, warmupMs, reason: `${backend}: disagrees with cpu (loss ${last} vs ${reference})` };
    const start = performance.now();
    let steps = 0;
    let cost: tf.Scalar | null = null;
    while (performance.now() - start < sliceMs || steps < 2) {
      cost?.dispose();
      cost = optimizer.minimize(loss, true)!;
      steps++;
      // Backends queue work asynchronously; sync now and then so the clock measures real work.
      if (steps % 8 === 0) await cost.data();
    }
    await cost!.data();
    cost!.dispose();
    const elapsed = performance.now() - start;
    return { backend, ok: true, samplesPerSec: (steps * batch * 1000) / elapsed, warmupMs, reason: null, finalLoss: last };
  } catch (err) {
    return { backend, ok: false, samplesPerSec: null, warmupMs: null, reason: `${backend}: ${err instanceof Error ? err.message : String(err)}` };
  } finally {
    tf.dispose([x, y]);
    model.dispose();
    optimizer.dispose();
  }
}

/**
 * Runs the probe (cpu first, as the reference) and returns the ranking; the fastest sane
 * backend wins. `init` makes a backend current and returns a problem, or null when it works.
 */
export async function runProbe(
  spec: ProbeSpec,
  init: (b: BackendName) => Promise<string | null>,
  order: readonly BackendName[] = probeOrder(false),
  has: (kernel: string, backend: BackendName) => boolean = registryHas,
): Promise<ProbeSummary> {
  const started = performance.now();
  const sliceMs = TIMED_SLICE_MS;
  const budgetMs = spec.inputShape ? CONV_PROBE_BUDGET_MS : PROBE_BUDGET_MS;
  const results: BackendProbeResult[] = [];
  let reference: number | null = null;
  // A backend that misses a kernel the model needs cannot train it at all: not probed.
  const plan = kernelPlan(spec.config.model.kind, order, has);
  for (const e of plan.excluded) results.push({ backend: e.backend, ok: false, samplesPerSec: null, warmupMs: null, reason: e.reason });
  for (const backend of plan.allowed) {
    if (performance.now() - started > budgetMs) {
      results.push({ backend, ok: false, samplesPerSec: null, warmupMs: null, reason: `${backend}: not probed, the ${budgetMs} ms budget was used up` });
      continue;
    }
    const r = await probeOne(backend, spec, sliceMs, init, reference);
    if (backend === 'cpu' && r.ok) reference = r.finalLoss ?? null;
    results.push(r);
  }
  const ranked = results.filter((r) => r.ok).sort((a, b) => (b.samplesPerSec ?? 0) - (a.samplesPerSec ?? 0));
  if (ranked.length === 0) throw new Error(`No backend passed the probe: ${results.map((r) => r.reason).join('; ')}`);
  return { chosen: ranked[0]!.backend, results, sizeClass: sizeClass(spec), probeMs: Math.round(performance.now() - started), cached: false };
}

/** The cached summary when it was measured in this same browser and GPU; otherwise a new probe. */
export async function probeWithCache(
  db: LatheDb,
  spec: ProbeSpec,
  environment: string,
  init: (b: BackendName) => Promise<string | null>,
  order?: readonly BackendName[],
): Promise<ProbeSummary> {
  const key = cacheKey(spec);
  const cached = await getSetting<CachedProbe | null>(db, key, null);
  if (cached && cached.environment === environment) return { ...cached.summary, cached: true };
  const summary = await runProbe(spec, init, order);
  await putSetting(db, key, { environment, summary } satisfies CachedProbe);
  return summary;
}
