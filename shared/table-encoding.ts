// The transform between a table's cells and a model's inputs and targets: fitted on training rows
// only, applied identically to stored rows (encodeRows) and to raw strings typed or uploaded for a
// prediction (encodeRecord). Plain TypeScript; imports only table types, cell helpers and the plan.
import { fileLineOfRow, isMissingCell, naturalCompare, parseNumberCell, quoteValue } from './table-cells';
import { featureColumns } from './table-plan';
import {
  MAX_ONE_HOT_CATEGORIES, OTHER_CATEGORY_LABEL, TableError, type FeatureEncoding, type TableColumn, type TableData,
  type TableEncoding, type TablePlan,
} from './table-types';

function columnByName(table: TableData, name: string): TableColumn {
  const col = table.columns.find((c) => c.name === name);
  if (!col) throw new TableError(`The table has no column named “${name}”.`);
  return col;
}

/** Mean and population standard deviation of the non-missing values in `rows` (std 0 becomes 1). */
function moments(numbers: Float32Array, rows: Uint32Array, what: string): { mean: number; std: number } {
  let n = 0;
  let sum = 0;
  for (const r of rows) {
    const v = numbers[r]!;
    if (v === v) {
      n++;
      sum += v;
    }
  }
  if (n === 0) throw new TableError(`${what} has no values in the training rows.`);
  const mean = sum / n;
  let squares = 0;
  for (const r of rows) {
    const v = numbers[r]!;
    if (v === v) squares += (v - mean) * (v - mean);
  }
  const std = Math.sqrt(squares / n);
  return { mean, std: std > 0 ? std : 1 };
}

function fitCategorical(col: TableColumn, rows: Uint32Array, impute: boolean): FeatureEncoding {
  const codes = col.codes;
  const names = col.categories;
  if (!codes || !names) throw new TableError(`Column “${col.name}” has too many different values to be categorical.`);
  const counts = new Float64Array(names.length);
  for (const r of rows) {
    const c = codes[r]!;
    if (c >= 0) counts[c]!++;
  }
  const seen = [...counts.keys()].filter((c) => counts[c]! > 0);
  if (seen.length === 0) throw new TableError(`Column “${col.name}” has no values in the training rows.`);
  // Ties keep the table's order (most frequent overall first), so the encoding is deterministic.
  seen.sort((a, b) => counts[b]! - counts[a]! || a - b);
  const kept = seen.slice(0, MAX_ONE_HOT_CATEGORIES);
  return {
    name: col.name,
    type: 'categorical',
    categories: kept.map((c) => names[c]!),
    other: seen.length > MAX_ONE_HOT_CATEGORIES,
    impute: impute ? names[kept[0]!]! : null,
  };
}

export function inputNamesOf(features: FeatureEncoding[]): string[] {
  return features.flatMap((f) =>
    f.type === 'numeric'
      ? [f.name]
      : [...f.categories.map((c) => `${f.name}=${c}`), ...(f.other ? [`${f.name}=${OTHER_CATEGORY_LABEL}`] : [])],
  );
}

/**
 * Fits the encoding on `trainRows` only: numeric mean/std (std 0 → 1, impute = mean), the top
 * MAX_ONE_HOT_CATEGORIES categories by training frequency (+ "other", impute = most frequent),
 * and the target: class names in natural order, or a standardized regression target. The class
 * set is structure, not a statistic: it comes from every row, so that each validation row has a
 * class index even when its class is rare.
 */
export function fitEncoding(table: TableData, plan: TablePlan, trainRows: Uint32Array): TableEncoding {
  if (trainRows.length === 0) throw new TableError('There are no training rows to fit the encoding on.');
  const impute = plan.missing === 'impute';
  const features: FeatureEncoding[] = featureColumns(table, plan).map((col) => {
    if (plan.columns[col.name] === 'categorical') return fitCategorical(col, trainRows, impute);
    const { mean, std } = moments(col.numbers, trainRows, `Column “${col.name}”`);
    return { name: col.name, type: 'numeric', mean, std, impute: impute ? mean : null };
  });
  const targetCol = columnByName(table, plan.target);
  let target: TableEncoding['target'];
  if (plan.task === 'classification') {
    if (!targetCol.categories) throw new TableError(`The target column “${targetCol.name}” has too many different values to be classes.`);
    target = { name: targetCol.name, classNames: [...targetCol.categories].sort(naturalCompare) };
  } else {
    target = { name: targetCol.name, ...moments(targetCol.numbers, trainRows, `The target column “${targetCol.name}”`) };
  }
  return {
    version: 1,
    task: plan.task,
    missing: plan.missing,
    features,
    inputNames: inputNamesOf(features),
    target,
    ...(table.decimalComma ? { decimalComma: true } : {}),
  };
}

/** For each entry of a table column's dictionary: its one-hot slot, -1 for none (all zeros). */
function slotsOf(feature: Extract<FeatureEncoding, { type: 'categorical' }>, col: TableColumn): Int32Array {
  const index = new Map(feature.categories.map((c, i) => [c, i]));
  const otherSlot = feature.other ? feature.categories.length : -1;
  return Int32Array.from(col.categories ?? [], (c) => index.get(c) ?? otherSlot);
}

function widthOf(f: FeatureEncoding): number {
  return f.type === 'numeric' ? 1 : f.categories.length + (f.other ? 1 : 0);
}

/** x: rows × inputNames.length, row-major; y: class index, or the standardized target. */
export function encodeRows(table: TableData, enc: TableEncoding, rows: Uint32Array): { x: Float32Array; y: Float32Array } {
  return { x: encodeFeatures(table, enc, rows), y: encodeTargets(table, enc, rows) };
}

/**
 * Model inputs only, rows × inputNames.length: for a table without the target, such as a batch
 * prediction file read with readTable (columns are found by name; extra columns are ignored).
 */
export function encodeFeatures(table: TableData, enc: TableEncoding, rows: Uint32Array): Float32Array {
  const width = enc.inputNames.length;
  const x = new Float32Array(rows.length * width);
  let offset = 0;
  for (const f of enc.features) {
    const col = columnByName(table, f.name);
    const missing = (r: number): never => {
      throw new TableError(`Line ${fileLineOfRow(table, r)}, column “${f.name}”: the value is missing and the plan does not impute.`);
    };
    if (f.type === 'numeric') {
      if (col.nonNumericCount > 0) {
        const first = col.firstNonNumeric!;
        throw new TableError(`Line ${first.row}, column “${f.name}”: ${quoteValue(first.value)} is not a number.`);
      }
      for (let i = 0; i < rows.length; i++) {
        let v = col.numbers[rows[i]!]!;
        if (v !== v) v = f.impute ?? missing(rows[i]!);
        x[i * width + offset] = (v - f.mean) / f.std;
      }
    } else {
      const slots = slotsOf(f, col);
      const codes = col.codes;
      if (!codes) throw new TableError(`Column “${f.name}” has too many different values to be categorical.`);
      const imputeSlot = f.impute === null ? -1 : f.categories.indexOf(f.impute);
      for (let i = 0; i < rows.length; i++) {
        const code = codes[rows[i]!]!;
        const slot = code >= 0 ? slots[code]! : f.impute !== null ? imputeSlot : missing(rows[i]!);
        if (slot >= 0) x[i * width + offset + slot] = 1;
      }
    }
    offset += widthOf(f);
  }
  return x;
}

function encodeTargets(table: TableData, enc: TableEncoding, rows: Uint32Array): Float32Array {
  const col = columnByName(table, enc.target.name);
  const y = new Float32Array(rows.length);
  const missing = (r: number): never => {
    throw new TableError(`Line ${fileLineOfRow(table, r)}: the target “${col.name}” is missing.`);
  };
  if ('classNames' in enc.target) {
    const index = new Map(enc.target.classNames.map((c, i) => [c, i]));
    const classOf = Int32Array.from(col.categories ?? [], (c) => index.get(c) ?? -1);
    const codes = col.codes;
    if (!codes) throw new TableError(`The target column “${col.name}” has too many different values to be classes.`);
    for (let i = 0; i < rows.length; i++) {
      const code = codes[rows[i]!]!;
      if (code < 0) missing(rows[i]!);
      const k = classOf[code]!;
      if (k < 0)
        throw new TableError(`Line ${fileLineOfRow(table, rows[i]!)}: the target “${col.name}” is ${quoteValue(col.categories![code]!)}, not one of the model's classes.`);
      y[i] = k;
    }
  } else {
    const { mean, std } = enc.target;
    for (let i = 0; i < rows.length; i++) {
      const v = col.numbers[rows[i]!]!;
      if (v !== v) missing(rows[i]!);
      y[i] = (v - mean) / std;
    }
  }
  return y;
}

/**
 * One model input row from raw cell strings (a prediction form, or a row of a CSV file), keyed by
 * column name. Unknown categories go to "other" (all zeros without one); a missing value is
 * imputed, or a TableError names the column. Numbers are rounded to Float32 first, exactly as
 * stored table cells are, so a row encodes the same here as in encodeRows.
 */
export function encodeRecord(enc: TableEncoding, record: Record<string, string>, options: { decimalComma?: boolean } = {}): Float32Array {
  const decimalComma = options.decimalComma ?? enc.decimalComma ?? false;
  const x = new Float32Array(enc.inputNames.length);
  let offset = 0;
  for (const f of enc.features) {
    const raw = record[f.name];
    if (raw === undefined) throw new TableError(`Column “${f.name}” is missing: the model needs a value for it.`);
    const text = raw.trim();
    const isMissing = isMissingCell(text);
    if (isMissing && f.impute === null) throw new TableError(`Column “${f.name}”: a value is needed (the model was trained without imputing missing values).`);
    if (f.type === 'numeric') {
      const v = isMissing ? f.impute! : Math.fround(parseNumberCell(text, decimalComma));
      if (v !== v) throw new TableError(`Column “${f.name}”: ${quoteValue(text)} is not a number.`);
      x[offset] = (v - f.mean) / f.std;
    } else {
      const category = isMissing ? f.impute! : text;
      const slot = f.categories.indexOf(category);
      if (slot >= 0) x[offset + slot] = 1;
      else if (f.other) x[offset + f.categories.length] = 1;
    }
    offset += widthOf(f);
  }
  return x;
}

/** A standardized regression output back in the target's own units. */
export function decodeRegression(enc: TableEncoding, standardized: number): number {
  if (!('mean' in enc.target)) throw new TableError('This model is a classifier; its outputs are classes, not values.');
  return standardized * enc.target.std + enc.target.mean;
}

/**
 * For batch prediction: [] when `header` has every input column the model needs, else one message
 * naming the missing columns (and, to help spot a renamed column, the extra ones). Extra columns
 * alone are fine and ignored; see extraColumns to show them.
 */
export function checkColumns(enc: TableEncoding, header: string[]): string[] {
  const have = new Set(header.map((h) => h.trim()));
  const missing = enc.features.map((f) => f.name).filter((n) => !have.has(n));
  if (missing.length === 0) return [];
  const extras = extraColumns(enc, header);
  const list = (names: string[]): string => names.map((n) => `“${n}”`).join(', ');
  return [
    `The file lacks ${missing.length === 1 ? 'the column' : 'the columns'} ${list(missing)} that the model needs.` +
      (extras.length > 0 ? ` It has ${extras.length === 1 ? 'a column' : 'columns'} the model does not use: ${list(extras)}.` : ''),
  ];
}

/** Header columns the model does not use (the target counts as used: batch files often still have it). */
export function extraColumns(enc: TableEncoding, header: string[]): string[] {
  const used = new Set([...enc.features.map((f) => f.name), enc.target.name]);
  return header.map((h) => h.trim()).filter((h) => !used.has(h));
}
