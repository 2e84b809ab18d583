// The baseline: a bare `model.fit` on the same backend, model, data, batch size and epochs as the
// loop run, stopped after the same number of steps. Its only callback counts batches: no read-back
// and no yields, so this is the fastest tfjs's own loop goes, a strict baseline.
import * as tf from '@tensorflow/tfjs';
import { measuredWindow } from './loop-run';
import type { FitResult } from './types';
import { fitData, type FitData } from './run-parts';
import { syncDevice, type RunSpec, type Workload } from './workload';

/**
 * Notes the time after batch `markStep` (where the loop's steady window starts) and sets
 * `stopTraining` after `maxSteps`; fit checks it after every batch.
 */
class StepCap extends tf.Callback {
  steps = 0;
  markedAt: number | null = null;
  constructor(
    private readonly markStep: number,
    private readonly maxSteps: number,
  ) {
    super();
  }
  override async onBatchEnd(): Promise<void> {
    this.steps++;
    if (this.steps === this.markStep) {
      // fit never waits for the device, so the GPU may still be steps behind: catch up first.
      await syncDevice(this.model);
      this.markedAt = performance.now();
    }
    if (this.steps >= this.maxSteps) this.model.stopTraining = true;
  }
}

/** Softmax cross-entropy on logits: the loss the app's loop minimises (workers/objective.ts; text-source.ts per position). */
function logitsLoss(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.losses.softmaxCrossEntropy(yTrue, yPred);
}

function compiled(w: Workload<RunSpec>): FitData & { yOneHot: tf.Tensor; valOneHot: [tf.Tensor, tf.Tensor] | undefined } {
  const c = fitData(w);
  c.model.compile({ optimizer: c.optimizer, loss: logitsLoss, metrics: ['accuracy'] });
  // Text: one class id per window position, so [windows, L] becomes [windows, L, vocabulary].
  const oneHot = (y: tf.Tensor): tf.Tensor => tf.tidy(() => tf.oneHot(y.cast<tf.Tensor1D>('int32'), c.numOutputs).toFloat());
  return { ...c, yOneHot: oneHot(c.yTrain), valOneHot: c.val ? [c.val[0], oneHot(c.val[1])] : undefined };
}

function dispose(c: ReturnType<typeof compiled>): void {
  tf.dispose([c.yOneHot, ...(c.valOneHot ? [c.valOneHot[1]] : [])]);
  c.dispose();
}

/**
 * Trains a fresh model with `fit` for the loop's steps and times the same window of steps the
 * loop's steady state was measured over.
 */
export async function runFit(w: Workload<RunSpec>, fromStep: number, toStep: number): Promise<FitResult> {
  const c = compiled(w);
  try {
    const cap = new StepCap(fromStep, toStep);
    const t0 = performance.now();
    await c.model.fit(c.xTrain, c.yOneHot, {
      batchSize: w.config.batchSize,
      epochs: w.config.epochs,
      shuffle: true,
      validationData: c.valOneHot,
      verbose: 0,
      callbacks: [cap],
    });
    await syncDevice(c.model);
    const end = { step: cap.steps, t: performance.now() };
    const from = { step: fromStep, t: cap.markedAt ?? t0 };
    return { warmupMs: from.t - t0, steady: measuredWindow(from, end, c.numTrain, w.config.batchSize) };
  } finally {
    dispose(c);
  }
}
