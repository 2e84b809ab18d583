// Predictions: the app's own (a job's live model, or its newest good checkpoint rebuilt with
// buildModel exactly as training builds it) on raw rows encoded with the job's table encoding, and
// the shared steps that run a model and turn outputs into labels or values.
import * as tf from '@tensorflow/tfjs';
import type { LatheDb } from '../../shared/db';
import type { Prediction } from '../../shared/package-format';
import { ImportError } from '../../shared/package-format';
import { decodeRegression, encodeRecord, TableError, type TableEncoding } from '../../shared/table';
import { decodeTensors } from '../checkpoint-codec';
import { buildModel } from '../model';
import { loadExportSource, outputsOf } from './source';

/** How to read a model's outputs. */
export interface OutputReading {
  kind: 'logits' | 'probabilities' | 'scores' | 'value';
  /** Names by output index, when known. */
  labels: string[] | null;
}

/**
 * Rows as float32, normalized with `(x - mean) / std` in double precision, as training does: the
 * value is rounded to float32 first, as table cells are stored, so this matches the app exactly.
 */
export function normalizeRows(rows: number[][], numInputs: number, normalization: { mean: number[]; std: number[] } | null): Float32Array {
  const x = new Float32Array(rows.length * numInputs);
  rows.forEach((row, i) => {
    if (row.length !== numInputs) throw new ImportError(`Row ${i + 1} has ${row.length} values, but the model takes ${numInputs}.`);
    row.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new ImportError(`Row ${i + 1}, value ${j + 1} is not a finite number.`);
      x[i * numInputs + j] = normalization ? (Math.fround(v) - normalization.mean[j]!) / normalization.std[j]! : v;
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

/** A model and what it expects: the live one of a training job, or one rebuilt from a checkpoint. */
export interface TableModel {
  model: tf.LayersModel;
  encoding: TableEncoding;
}

/**
 * Predictions for raw rows keyed by original column name (a form, or a CSV's rows): each row is
 * encoded exactly as training encoded stored rows. Regression values come back in the target's
 * own units; classifiers also give probabilities.
 */
export async function predictRecords(m: TableModel, records: Record<string, string>[]): Promise<Prediction> {
  const width = m.encoding.inputNames.length;
  const x = new Float32Array(records.length * width);
  records.forEach((record, i) => {
    try {
      x.set(encodeRecord(m.encoding, record), i * width);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new TableError(records.length > 1 ? `Row ${i + 1}: ${message}` : message);
    }
  });
  return predictEncoded(m, x, records.length);
}

/** Predictions for rows already encoded (rows × inputs). */
export async function predictEncoded(m: TableModel, x: Float32Array, numRows: number): Promise<Prediction> {
  const outputs = await runModel(m.model, x, numRows, m.encoding.inputNames.length);
  const target = m.encoding.target;
  if ('classNames' in target) return readOutputs(outputs, { kind: 'logits', labels: target.classNames }, true);
  const values = outputs.map((o) => decodeRegression(m.encoding, o[0]!));
  return { outputs, probabilities: null, predicted: values, normalized: true };
}

/** The model of a job's newest good checkpoint, rebuilt exactly as training builds it. The caller disposes it. */
export async function checkpointModel(database: LatheDb, jobId: string): Promise<TableModel> {
  const { job, checkpoint, encoding } = await loadExportSource(database, jobId);
  const model = buildModel(job.config, { numFeatures: encoding.inputNames.length, numOutputs: outputsOf(encoding) });
  const weights = decodeTensors(checkpoint.weightSpecs, checkpoint.weightData);
  try {
    model.setWeights(weights);
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    tf.dispose(weights);
  }
  return { model, encoding };
}
