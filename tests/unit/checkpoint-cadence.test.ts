// The loop's checkpoint cadence on a simulated clock: slow checkpoints are spaced out so they take
// at most MAX_CHECKPOINT_SHARE of the run, cheap ones keep the configured interval, and an
// interval of 0 still checkpoints after every step (tests rely on it). Real training on the cpu
// backend; only time is simulated.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tableDatasetFromMatrix } from '../../shared/dataset';
import { prepareSource } from '../../workers/data-source';
import { buildModel, buildOptimizer } from '../../workers/model';
import { MAX_CHECKPOINT_SHARE, TrainingSession } from '../../workers/session';
import { TEST_CONFIG, xor } from './harness';

/** Simulated ms one training step takes (the clock advances this much per step). */
const STEP_MS = 20;

interface Run {
  checkpoints: number;
  checkpointMs: number;
  totalMs: number;
  steps: number;
}

/** Trains `epochs` of XOR with a checkpoint hook that takes `costMs` of simulated time. */
async function run(costMs: number, intervalMs: number, epochs: number): Promise<Run> {
  let clock = 0;
  let lastStep = 0;
  let session: TrainingSession | null = null;
  // The loop reads the clock several times per step: advance it once per step taken.
  const now = (): number => {
    const step = session?.cursor.globalStep ?? 0;
    if (step !== lastStep) {
      clock += (step - lastStep) * STEP_MS;
      lastStep = step;
    }
    return clock;
  };
  const dataset = tableDatasetFromMatrix(xor(), 'f', 0);
  const config = { ...TEST_CONFIG, epochs };
  const { source, objective } = await prepareSource(dataset, config);
  const model = buildModel(config, { numFeatures: source.inputShape[0]!, numOutputs: source.numOutputs });
  const s = new TrainingSession({
    config, source, objective, model, optimizer: buildOptimizer(config.optimizer, config.learningRate),
    historyEverySteps: 1000, checkpointIntervalMs: intervalMs, now,
  });
  session = s;
  let checkpoints = 0;
  s.setHooks({
    progress: () => undefined,
    checkpoint: async () => {
      checkpoints++;
      now();
      clock += costMs;
    },
  });
  try {
    await s.run();
    return { checkpoints, checkpointMs: checkpoints * costMs, totalMs: now(), steps: s.cursor.globalStep };
  } finally {
    s.dispose();
  }
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('checkpoint cadence', () => {
  it('slow checkpoints are spaced out to keep their share of the run near the bound', async () => {
    // A 1 s interval and 200 ms checkpoints would spend ~17% of the run checkpointing.
    const r = await run(200, 1000, 300);
    expect(r.checkpoints).toBeGreaterThan(2);
    const share = r.checkpointMs / r.totalMs;
    // The first checkpoint's cost is unknown until it ran, so allow that one on top of the bound.
    expect(share).toBeLessThanOrEqual(MAX_CHECKPOINT_SHARE + 200 / r.totalMs);
  });

  it('cheap checkpoints keep the configured interval', async () => {
    const r = await run(1, 1000, 60);
    // Every epoch (3 steps, 60 ms) ends well under the 1 s minimum gap, so the interval rules:
    // about one checkpoint per second of simulated time.
    expect(r.checkpoints).toBeGreaterThanOrEqual(Math.floor(r.totalMs / 1000) - 1);
  });

  it('an interval of 0 checkpoints after every step, however slow a checkpoint is', async () => {
    const epochs = 4;
    const r = await run(200, 0, epochs);
    // Epoch ends follow the 1 s epoch gap instead (tiny epochs), so they are the only steps without one.
    expect(r.checkpoints).toBe(r.steps - epochs);
  });
});
