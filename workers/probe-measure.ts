// Measures one backend for the automatic choice: initialise it, run a few identical steps of the
// job's kind of model (their last loss is compared with cpu's by the caller), then time steps for
// a short slice. Runs in the trainer worker, or in a probe worker of its own (probe-remote.ts).
import * as tf from '@tensorflow/tfjs';
import { isTextModel, type TrainConfig } from '../shared/config';
import type { BackendName, BackendProbeResult } from '../shared/protocol';
import { SeededRng } from '../shared/rng';
import { buildModel, buildOptimizer } from './model';

/** Timed steps per backend, after its warmup, in ms. */
export const TIMED_SLICE_MS = 150;
/** Identical steps every backend runs from identical weights; their losses must agree with cpu. */
const AGREEMENT_STEPS = 3;
const PROBE_SEED = 1234;
/** Images per probe step for a CNN: enough to time, small enough for the cpu reference to be quick. */
const CONV_PROBE_BATCH = 4;

export interface ProbeSpec {
  config: TrainConfig;
  numFeatures: number;
  numOutputs: number;
  /** One sample's shape when it is not a flat vector (a CNN's image). */
  inputShape?: number[];
}

/** Makes a backend current; returns a problem, or null when it works. */
export type BackendInit = (b: BackendName) => Promise<string | null>;

/**
 * Initialises `backend` with `init` and measures it. `finalLoss` carries the agreement steps'
 * last loss; whether it agrees with cpu is for the caller to decide.
 */
export async function probeOne(backend: BackendName, spec: ProbeSpec, init: BackendInit, sliceMs = TIMED_SLICE_MS): Promise<BackendProbeResult> {
  const t0 = performance.now();
  const problem = await init(backend);
  if (problem) return { backend, ok: false, samplesPerSec: null, warmupMs: null, reason: problem };
  const batch = Math.min(spec.config.batchSize, spec.inputShape ? CONV_PROBE_BATCH : 256);
  const rng = SeededRng.fromSeed(PROBE_SEED);
  // A text model takes token ids and predicts one at every position; the others take numbers.
  const text = isTextModel(spec.config.model);
  const xData = Float32Array.from({ length: batch * spec.numFeatures }, () => (text ? rng.nextInt(spec.numOutputs) : rng.nextGaussian()));
  const yData = Int32Array.from({ length: text ? batch * spec.numFeatures : batch }, () => rng.nextInt(spec.numOutputs));
  const config = { ...spec.config, seed: PROBE_SEED };
  const model = buildModel(config, { numFeatures: spec.numFeatures, numOutputs: spec.numOutputs, inputShape: spec.inputShape });
  const optimizer = buildOptimizer(config.optimizer, config.learningRate);
  const x = tf.tensor(xData, [batch, ...(spec.inputShape ?? [spec.numFeatures])]);
  const y = tf.tidy(() => {
    const hot = tf.oneHot(tf.tensor1d(yData, 'int32'), spec.numOutputs);
    return text ? hot.reshape([batch, spec.numFeatures, spec.numOutputs]) : hot;
  });
  const loss = (): tf.Scalar =>
    spec.numOutputs > 1
      ? tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor)
      : tf.losses.meanSquaredError(y, model.apply(x) as tf.Tensor);
  try {
    const losses: number[] = [];
    let afterFirst = 0;
    for (let i = 0; i < AGREEMENT_STEPS; i++) {
      const cost = optimizer.minimize(loss, true)!;
      losses.push((await cost.data())[0]!);
      cost.dispose();
      // The first step compiles kernels; the others are ordinary steps, timed from here.
      if (i === 0) afterFirst = performance.now();
    }
    const warmupMs = performance.now() - t0;
    const agreementMs = performance.now() - afterFirst;
    const last = losses[losses.length - 1]!;
    if (losses.some((l) => !Number.isFinite(l)))
      return { backend, ok: false, samplesPerSec: null, warmupMs, reason: `${backend}: the probe's loss became NaN` };
    if (!(last < losses[0]!))
      return { backend, ok: false, samplesPerSec: null, warmupMs, reason: `${backend}: the probe's loss did not go down` };
    // A backend whose ordinary steps already filled a slice (cpu on a medium model takes a
    // quarter of a second a step here) is rated from those: timing more would only spend budget.
    if (agreementMs >= sliceMs)
      return { backend, ok: true, samplesPerSec: ((AGREEMENT_STEPS - 1) * batch * 1000) / agreementMs, warmupMs, reason: null, finalLoss: last };
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
