// Evaluates a table model on its job's validation split, in the worker: every validation row is
// encoded with the model's own encoding and predicted in chunks; the results become a confusion
// matrix and per-class figures, or predicted-against-actual points and a residual summary.
import * as tf from '@tensorflow/tfjs';
import type { TableDataset } from '../shared/dataset';
import {
  EVALUATION_ROWS, MAX_SCATTER_POINTS, type ClassFigures, type ClassificationEvaluation, type Evaluation, type EvaluationRow,
} from '../shared/evaluation';
import { decodeRegression, encodeFeatures, fileLineOfRow, type TableEncoding } from '../shared/table';
import { float32Text } from '../shared/table-build';

/** Rows predicted per forward pass: bounds memory on large validation sets. */
const CHUNK_ROWS = 4096;

async function outputsOf(model: tf.LayersModel, x: Float32Array, rows: number, width: number): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  for (let start = 0; start < rows; start += CHUNK_ROWS) {
    const n = Math.min(CHUNK_ROWS, rows - start);
    const out = tf.tidy(() => model.predict(tf.tensor2d(x.subarray(start * width, (start + n) * width), [n, width])) as tf.Tensor);
    try {
      parts.push((await out.data()) as Float32Array);
    } finally {
      out.dispose();
    }
  }
  const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    all.set(p, offset);
    offset += p.length;
  }
  return all;
}

/** A cell as the user wrote it (a category's text), or the number as stored. */
export function cellText(dataset: TableDataset, column: string, row: number): string {
  const col = dataset.table.columns.find((c) => c.name === column);
  if (!col) return '';
  if (col.codes) return col.codes[row]! < 0 ? '' : col.categories![col.codes[row]!]!;
  const v = col.numbers[row]!;
  return v === v ? float32Text(v) : '';
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  return sorted[lo]! + (sorted[Math.min(lo + 1, sorted.length - 1)]! - sorted[lo]!) * (at - lo);
}

function softmaxRow(values: Float32Array): number[] {
  const max = Math.max(...values);
  const exps = Array.from(values, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** Per-class precision, recall and F1, accuracy and macro F1 of a confusion matrix (`[actual][predicted]`). */
export function classificationFigures(confusion: number[][], classNames: string[]): ClassificationEvaluation {
  const perClass: ClassFigures[] = classNames.map((name, c) => {
    const tp = confusion[c]![c]!;
    const support = confusion[c]!.reduce((a, b) => a + b, 0);
    const predictedAs = confusion.reduce((a, row) => a + row[c]!, 0);
    const precision = predictedAs > 0 ? tp / predictedAs : null;
    const recall = support > 0 ? tp / support : null;
    const f1 = precision !== null && recall !== null && precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : null;
    return { name, precision, recall, f1, support };
  });
  const scored = perClass.filter((c) => c.support > 0 && c.f1 !== null);
  const correct = confusion.reduce((a, row, c) => a + row[c]!, 0);
  const n = confusion.reduce((a, row) => a + row.reduce((x, y) => x + y, 0), 0);
  return {
    kind: 'classification',
    classNames: [...classNames],
    confusion,
    perClass,
    accuracy: n > 0 ? correct / n : 0,
    macroF1: scored.length > 0 ? scored.reduce((a, c) => a + c.f1!, 0) / perClass.filter((c) => c.support > 0).length : null,
  };
}

export interface EvaluationInput {
  jobId: string;
  step: number;
  live: boolean;
  model: tf.LayersModel;
  encoding: TableEncoding;
  dataset: TableDataset;
  /** The job's validation rows (table row indices). */
  valRows: Uint32Array;
}

export async function evaluateTable(input: EvaluationInput): Promise<Evaluation> {
  const { model, encoding, dataset, valRows } = input;
  const n = valRows.length;
  if (n === 0) throw new Error('This job has no validation rows (its validation split is 0), so there is nothing to evaluate on.');
  const width = encoding.inputNames.length;
  const out = await outputsOf(model, encodeFeatures(dataset.table, encoding, valRows), n, width);
  const shownColumns = [...encoding.features.map((f) => f.name)];
  const rowOf = (i: number, predicted: string, actual: string, confidence: number | null, correct: boolean | null): EvaluationRow => {
    const r = valRows[i]!;
    const cells: Record<string, string> = {};
    for (const c of shownColumns) cells[c] = cellText(dataset, c, r);
    return { line: fileLineOfRow(dataset.table, r), cells, predicted, actual, confidence, correct };
  };
  const base = { jobId: input.jobId, step: input.step, live: input.live, numRows: n };
  const target = encoding.target;
  if ('classNames' in target) {
    const k = target.classNames.length;
    const index = new Map(target.classNames.map((c, i) => [c, i]));
    const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    const wrong: EvaluationRow[] = [];
    const right: EvaluationRow[] = [];
    for (let i = 0; i < n; i++) {
      const probs = softmaxRow(out.subarray(i * k, (i + 1) * k));
      const predicted = probs.indexOf(Math.max(...probs));
      const actualText = cellText(dataset, target.name, valRows[i]!);
      const actual = index.get(actualText) ?? -1;
      if (actual >= 0) confusion[actual]![predicted]!++;
      const row = (): EvaluationRow => rowOf(i, target.classNames[predicted]!, actualText, probs[predicted]!, predicted === actual);
      if (predicted !== actual && wrong.length < EVALUATION_ROWS / 2) wrong.push(row());
      else if (predicted === actual && right.length < EVALUATION_ROWS) right.push(row());
    }
    return { ...base, ...classificationFigures(confusion, target.classNames), rows: [...wrong, ...right].slice(0, EVALUATION_ROWS) };
  }
  const actualCol = dataset.table.columns.find((c) => c.name === target.name)!;
  const points: { actual: number; predicted: number }[] = [];
  const residuals: number[] = [];
  let sumY = 0;
  let sumY2 = 0;
  for (let i = 0; i < n; i++) {
    const actual = actualCol.numbers[valRows[i]!]!;
    const predicted = decodeRegression(encoding, out[i]!);
    points.push({ actual, predicted });
    residuals.push(predicted - actual);
    sumY += actual;
    sumY2 += actual * actual;
  }
  const sorted = [...residuals].sort((a, b) => a - b);
  const mean = residuals.reduce((a, b) => a + b, 0) / n;
  const sse = residuals.reduce((a, r) => a + r * r, 0);
  const sst = sumY2 - (sumY * sumY) / n;
  const every = Math.max(1, Math.ceil(n / MAX_SCATTER_POINTS));
  return {
    ...base,
    kind: 'regression',
    targetName: target.name,
    points: points.filter((_, i) => i % every === 0),
    residuals: {
      mean,
      std: Math.sqrt(residuals.reduce((a, r) => a + (r - mean) ** 2, 0) / n),
      mae: residuals.reduce((a, r) => a + Math.abs(r), 0) / n,
      rmse: Math.sqrt(sse / n),
      r2: sst > 0 ? 1 - sse / sst : null,
      min: sorted[0]!,
      max: sorted[n - 1]!,
      median: quantile(sorted, 0.5),
      p05: quantile(sorted, 0.05),
      p95: quantile(sorted, 0.95),
    },
    rows: points.slice(0, EVALUATION_ROWS).map((p, i) => rowOf(i, float32Text(p.predicted), float32Text(p.actual), null, null)),
  };
}
