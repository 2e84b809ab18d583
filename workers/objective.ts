// Loss and metrics for each kind of model output, as one interface the step loop uses whatever it
// trains. Per-sample sums (loss, correct answers, errors …) accumulate on the device over an epoch
// and are read back rarely; `metrics` turns the read-back sums into what the user sees.
import * as tf from '@tensorflow/tfjs';

export type Task = 'classification' | 'regression';

export interface Objective {
  /**
   * Names of the sums accumulated per epoch; `loss` (per-sample loss × samples) comes first. They
   * are the keys of a checkpoint's `epochAccumulators`, so a resumed epoch reports the same metrics.
   */
  readonly sums: readonly string[];
  /** The metric shown next to the loss while training (its `val_` twin after validation). */
  readonly headline: string;
  /** Mean loss over the batch: what the optimizer minimizes. */
  loss(output: tf.Tensor, y: tf.Tensor): tf.Scalar;
  /** The batch's contribution to every sum, in `sums` order (the loss as `meanLoss × size`). */
  batchSums(output: tf.Tensor, y: tf.Tensor, meanLoss: tf.Scalar, size: number): tf.Tensor1D;
  /** Metrics from sums over `count` samples; the loss as its mean. */
  metrics(sums: Record<string, number>, count: number): Record<string, number>;
}

/** Softmax cross-entropy on logits; `metric` counts correct answers. */
export function classificationObjective(numClasses: number): Objective {
  return {
    sums: ['loss', 'metric'],
    headline: 'acc',
    loss: (output, y) => tf.losses.softmaxCrossEntropy(tf.oneHot(y as tf.Tensor1D, numClasses), output),
    batchSums: (output, y, meanLoss, size) =>
      tf.stack([meanLoss.mul(size), tf.equal(tf.argMax(output, 1), y).cast('float32').sum()]) as tf.Tensor1D,
    metrics: (s, n) => ({ loss: s.loss! / n, acc: s.metric! / n }),
  };
}

/**
 * Mean squared error on a standardized target. MAE and RMSE are reported in the target's own units
 * (`targetStd` undoes the standardization); R² is unit-free. `metric` is the sum of absolute errors
 * (the name older checkpoints used for it); `sq`, `y`, `y2` give RMSE and R².
 */
export function regressionObjective(targetStd = 1): Objective {
  return {
    sums: ['loss', 'metric', 'sq', 'y', 'y2'],
    headline: 'mae',
    loss: (output, y) => tf.losses.meanSquaredError(y.reshape([-1, 1]), output),
    batchSums: (output, y, meanLoss, size) =>
      tf.tidy(() => {
        const err = tf.sub(output.reshape([-1]), y);
        const yf = y.cast('float32');
        return tf.stack([meanLoss.mul(size), err.abs().sum(), err.square().sum(), yf.sum(), yf.square().sum()]) as tf.Tensor1D;
      }),
    metrics: (s, n) => {
      const sq = s.sq ?? Number.NaN;
      // Total sum of squares around this set's own mean: R² = 1 − SSE / SST.
      const sst = (s.y2 ?? Number.NaN) - (s.y ?? Number.NaN) ** 2 / n;
      return {
        loss: s.loss! / n,
        mae: (s.metric! / n) * targetStd,
        rmse: Math.sqrt(sq / n) * targetStd,
        r2: sst > 0 ? 1 - sq / sst : Number.NaN,
      };
    },
  };
}

export function objectiveFor(task: Task, numOutputs: number, targetStd = 1): Objective {
  return task === 'classification' ? classificationObjective(numOutputs) : regressionObjective(targetStd);
}
