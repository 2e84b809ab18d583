// Predictions on raw feature rows: the app's own (a job's newest good checkpoint, rebuilt with
// buildModel exactly as training builds it) and the shared step that normalizes rows, runs a
// model and turns outputs into labels or values.
import * as tf from '@tensorflow/tfjs';
import type { LatheDb } from '../../shared/db';
import type { Prediction } from '../../shared/package-format';
import { ImportError } from '../../shared/package-format';
import { decodeTensors } from '../checkpoint-codec';
import { buildModel } from '../model';
import { loadExportSource, outputsFor } from './source';

/** How to read a model's outputs. */
export interface OutputReading {
  kind: 'logits' | 'probabilities' | 'scores' | 'value';
  /** Names by output index, when known. */
  labels: string[] | null;
}

/** Rows as float32, normalized with `(x - mean) / std` in double precision, as training does. */
export function normalizeRows(rows: number[][], numInputs: number, normalization: { mean: number[]; std: number[] } | null): Float32Array {
  const x = new Float32Array(rows.length * numInputs);
  rows.forEach((row, i) => {
    if (row.length !== numInputs) throw new ImportError(`Row ${i + 1} has ${row.length} values, but the model takes ${numInputs}.`);
    row.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new ImportError(`Row ${i + 1}, value ${j + 1} is not a finite number.`);
      x[i * numInputs + j] = normalization ? (v - normalization.mean[j]!) / normalization.std[j]! : v;
    });
  });
  return x;
}

function softmax(values: number[]): number[] {
  const max = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

function argmax(values: number[]): number {
  return values.reduce((best, v, i) => (v > values[best]! ? i : best), 0);
}

/** Runs the model on already normalized rows (read back asynchronously: WebGPU has no sync reads). */
export async function runModel(model: tf.LayersModel, x: Float32Array, numRows: number, numInputs: number): Promise<number[][]> {
  if (numRows === 0) return [];
  const out = tf.tidy(() => model.predict(tf.tensor2d(x, [numRows, numInputs])) as tf.Tensor);
  try {
    const values = await out.data();
    const width = out.shape[1] ?? 1;
    return Array.from({ length: numRows }, (_, i) => Array.from(values.subarray(i * width, (i + 1) * width)));
  } finally {
    out.dispose();
  }
}

export function readOutputs(outputs: number[][], reading: OutputReading, normalized: boolean): Prediction {
  const name = (i: number): string | number => reading.labels?.[i] ?? i;
  if (reading.kind === 'value') return { outputs, probabilities: null, predicted: outputs.map((o) => o[0]!), normalized };
  const probabilities = reading.kind === 'logits' ? outputs.map(softmax) : reading.kind === 'probabilities' ? outputs : null;
  return { outputs, probabilities, predicted: outputs.map((o) => name(argmax(o))), normalized };
}

/** The app's prediction for a job: what its newest good checkpoint says about raw feature rows. */
export async function predictJob(database: LatheDb, jobId: string, rows: number[][]): Promise<Prediction> {
  const { job, checkpoint, dataset } = await loadExportSource(database, jobId);
  const numInputs = dataset.numFeatures;
  const x = normalizeRows(rows, numInputs, checkpoint.normalization);
  const model = buildModel(job.config, { numFeatures: numInputs, numOutputs: outputsFor(dataset) });
  try {
    const weights = decodeTensors(checkpoint.weightSpecs, checkpoint.weightData);
    try {
      model.setWeights(weights);
    } finally {
      tf.dispose(weights);
    }
    const outputs = await runModel(model, x, rows.length, numInputs);
    const classification = dataset.task === 'classification';
    return readOutputs(outputs, { kind: classification ? 'logits' : 'value', labels: classification ? dataset.classNames : null }, checkpoint.normalization !== null);
  } finally {
    model.dispose();
  }
}
