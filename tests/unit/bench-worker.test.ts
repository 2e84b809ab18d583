// The bench's worker side, run for real in Node on the tfjs cpu backend with fake-indexeddb: the
// app's loop against bare fit, checkpoints through the app's transaction, memory at every epoch.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { BackendName } from '../../shared/protocol';
import { runBackend } from '../../workers/bench/suite';
import type { ModelSpec } from '../../workers/bench/types';
import { samplesForSteps } from '../../workers/bench/workload';

const TINY: ModelSpec = {
  id: 'tiny',
  features: 4,
  hidden: [8, 8],
  classes: 3,
  samples: 100,
  batchSize: 16,
  epochs: 6,
  learningRate: 0.01,
  validationSplit: 0.2,
  budgetMs: 300,
  maxMs: 5_000,
};

/** Only cpu exists in Node; the others say why, as a browser without them would. */
async function cpuOnly(b: BackendName): Promise<string | null> {
  if (b !== 'cpu') return `${b}: not available in Node`;
  await tf.setBackend('cpu');
  return null;
}

const deps = { useBackend: cpuOnly, listener: null };

describe('bench worker suite', () => {
  it('measures the loop and the bare-fit baseline over the same steps, and finds no tensor leak', async () => {
    const result = await runBackend({ backend: 'cpu', models: [TINY], checkpointReps: 2, memoryEpochs: 4 }, deps);
    expect(result).toMatchObject({ backend: 'cpu', available: true, reason: null });
    expect(result.cadence.checkpointIntervalMs).toBe(10_000);
    const [m] = result.models;
    expect(m!.params).toBe(4 * 8 + 8 + 8 * 8 + 8 + 8 * 3 + 3);
    const { loop, fit } = m!;
    expect(loop.steady.steps).toBeGreaterThan(0);
    expect(fit.steady).toMatchObject({ fromStep: loop.steady.fromStep, steps: loop.steady.steps, samples: loop.steady.samples });
    expect(m!.loopOverFit).toBeCloseTo(loop.steady.samplesPerSec / fit.steady.samplesPerSec, 9);
    // Adam keeps two moments per weight: the checkpoint holds three copies of the parameters.
    expect(m!.checkpoint.bytes).toBeGreaterThanOrEqual(3 * 4 * m!.params);
    expect(m!.checkpoint.restore.totalMs).toBeGreaterThan(0);
    expect(m!.memory.perEpoch.map((r) => r.epoch)).toEqual([1, 2, 3, 4]);
    expect(m!.memory.flat).toBe(true);
    expect(m!.memory.leakedTensors).toBe(0);
  });

  it('says why a backend it cannot use was skipped, instead of benching another one', async () => {
    const result = await runBackend({ backend: 'webgpu', models: [TINY], checkpointReps: 1, memoryEpochs: 3 }, deps);
    expect(result).toMatchObject({ available: false, reason: 'webgpu: not available in Node', models: [] });
  });
});

describe('samples counted for a window of steps', () => {
  it('counts the short last batch of each epoch at its real size', () => {
    // 80 rows in batches of 16: 5 steps per epoch, all full; 70 rows: 5 steps, the last of 6 rows.
    expect(samplesForSteps(5, 80, 16)).toBe(80);
    expect(samplesForSteps(5, 70, 16)).toBe(70);
    expect(samplesForSteps(7, 70, 16)).toBe(70 + 32);
  });
});
