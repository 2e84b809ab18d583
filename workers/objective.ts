// Loss and running metric for each task. Metrics are summed on the device and read back rarely.
import * as tf from '@tensorflow/tfjs';

export type Task = 'classification' | 'regression';

/** Name of the metric each task reports (train) and its validation twin (`val_` prefix). */
export function metricName(task: Task): 'acc' | 'mae' {
  return task === 'classification' ? 'acc' : 'mae';
}

/** Mean loss of a batch: softmax cross-entropy on logits, or mean squared error. */
export function batchLoss(task: Task, output: tf.Tensor, y: tf.Tensor1D, numOutputs: number): tf.Scalar {
  if (task === 'classification') return tf.losses.softmaxCrossEntropy(tf.oneHot(y, numOutputs), output);
  return tf.losses.meanSquaredError(y.reshape([-1, 1]), output);
}

/** Sum over the batch of the metric: correct predictions, or absolute errors. */
export function batchMetricSum(task: Task, output: tf.Tensor, y: tf.Tensor1D): tf.Scalar {
  if (task === 'classification') return tf.equal(tf.argMax(output, 1), y).cast('float32').sum();
  return tf.abs(tf.sub(output.reshape([-1]), y)).sum();
}
