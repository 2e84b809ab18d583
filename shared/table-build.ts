// Builds table columns from arrays already in memory (numbers a program generated, or an older
// Lathe's numeric datasets), with the same facts and inference as columns read from a file.
// Plain TypeScript; imports only table code.
import { withInference } from './table-infer';
import { MAX_DICTIONARY_VALUES, type TableColumn, type TableData, type TablePlan } from './table-types';
import type { TableTask } from './table-types';

/** Example values shown per column in the column table. */
const SAMPLE_VALUES = 5;

/** A float32 as a person would write it: 7 significant digits at most, no binary noise. */
export function float32Text(v: number): string {
  return String(Number(v.toPrecision(7)));
}

/** A numeric column; NaN marks a missing value. Its dictionary is the values' texts, while they are few. */
export function columnFromNumbers(name: string, numbers: Float32Array): TableColumn {
  const index = new Map<string, number>();
  const counts: number[] = [];
  let codes: Int32Array | null = new Int32Array(numbers.length);
  let missing = 0;
  let distinct = 0;
  let capped = false;
  const seen = new Set<string>();
  const samples: string[] = [];
  for (let r = 0; r < numbers.length; r++) {
    const v = numbers[r]!;
    if (v !== v) {
      missing++;
      if (codes) codes[r] = -1;
      continue;
    }
    const text = float32Text(v);
    if (samples.length < SAMPLE_VALUES && !seen.has(text)) {
      seen.add(text);
      samples.push(text);
    }
    if (capped) continue;
    let code = index.get(text);
    if (code === undefined) {
      if (index.size === MAX_DICTIONARY_VALUES) {
        capped = true;
        codes = null;
        continue;
      }
      code = index.size;
      index.set(text, code);
      counts.push(0);
    }
    counts[code]!++;
    codes![r] = code;
  }
  distinct = capped ? MAX_DICTIONARY_VALUES : index.size;
  const dictionary = capped ? null : frequencyOrder([...index.keys()], counts, codes!);
  return withInference(
    {
      name,
      numbers,
      missingCount: missing,
      nonNumericCount: 0,
      firstNonNumeric: null,
      distinctCount: distinct,
      distinctCapped: capped,
      categories: dictionary?.categories ?? null,
      categoryCounts: dictionary?.counts ?? null,
      codes: dictionary ? codes : null,
      samples,
    },
    numbers.length,
  );
}

/** A categorical column from category names and per-row codes (-1 = missing). */
export function columnFromCodes(name: string, categories: readonly string[], codes: Int32Array): TableColumn {
  const counts = new Array<number>(categories.length).fill(0);
  let missing = 0;
  for (const c of codes) {
    if (c < 0) missing++;
    else counts[c]!++;
  }
  const asNumber = categories.map((c) => (c.trim() === '' ? NaN : Number(c)));
  const numbers = Float32Array.from(codes, (c) => (c < 0 ? NaN : asNumber[c]!));
  let nonNumeric = 0;
  for (const c of codes) if (c >= 0 && Number.isNaN(asNumber[c]!)) nonNumeric++;
  const firstBad = codes.findIndex((c) => c >= 0 && Number.isNaN(asNumber[c]!));
  const ordered = frequencyOrder([...categories], counts, Int32Array.from(codes));
  return withInference(
    {
      name,
      numbers,
      missingCount: missing,
      nonNumericCount: nonNumeric,
      // Row r sits on line r + 2 of an imagined file under a header (TableData.rowLines).
      firstNonNumeric: firstBad < 0 ? null : { row: firstBad + 2, value: categories[codes[firstBad]!]! },
      distinctCount: counts.filter((n) => n > 0).length,
      distinctCapped: false,
      categories: ordered.categories,
      categoryCounts: ordered.counts,
      codes: ordered.codes,
      samples: ordered.categories.slice(0, SAMPLE_VALUES),
    },
    codes.length,
  );
}

/** Reorders a dictionary most frequent first (ties keep first-seen order) and remaps the codes. */
function frequencyOrder(values: string[], counts: number[], codes: Int32Array): { categories: string[]; counts: number[]; codes: Int32Array } {
  const order = values.map((_, i) => i).filter((i) => counts[i]! > 0);
  order.sort((a, b) => counts[b]! - counts[a]! || a - b);
  const remap = new Int32Array(values.length).fill(-1);
  order.forEach((old, i) => (remap[old] = i));
  for (let r = 0; r < codes.length; r++) if (codes[r]! >= 0) codes[r] = remap[codes[r]!]!;
  return { categories: order.map((i) => values[i]!), counts: order.map((i) => counts[i]!), codes };
}

/** A numeric feature matrix plus a target column, as a table and the plan that trains it as before. */
export function tableFromMatrix(m: {
  featureNames: string[];
  targetName: string;
  task: TableTask;
  classNames: string[];
  numSamples: number;
  numFeatures: number;
  features: Float32Array;
  targets: Float32Array;
}): { table: TableData; plan: TablePlan } {
  const columns = m.featureNames.map((name, j) => {
    const values = new Float32Array(m.numSamples);
    for (let i = 0; i < m.numSamples; i++) values[i] = m.features[i * m.numFeatures + j]!;
    return columnFromNumbers(name, values);
  });
  const target =
    m.task === 'classification'
      ? columnFromCodes(m.targetName, m.classNames, Int32Array.from(m.targets))
      : columnFromNumbers(m.targetName, Float32Array.from(m.targets));
  const plan: TablePlan = {
    target: m.targetName,
    task: m.task,
    // Explicit, not inferred: such data always trained every feature as a number.
    columns: Object.fromEntries(m.featureNames.map((n) => [n, 'numeric' as const])),
    missing: 'drop',
  };
  return { table: { columns: [...columns, target], numRows: m.numSamples }, plan };
}
