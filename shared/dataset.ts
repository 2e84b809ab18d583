// Datasets: what the user trains on, stored once in IndexedDB and referenced by jobs. A table is
// its parsed columns (shared/table-types.ts) plus the plan Lathe suggests for it; an image dataset
// is its decoded pixels and labels (shared/image-types.ts); text joins this union as a further kind. `TableDatasetInput` is the numeric-matrix form programs and
// older Lathe versions hand in; it is converted to columns before it is stored.
import { sha256Hex } from './hash';
import { tableFromMatrix } from './table-build';
import type { TableColumn, TableData, TablePlan, TableTask } from './table-types';
import type { ImageFacts, ImageSet } from './image-types';
import type { TextFacts } from './text';

export type { TableTask };
export type DatasetKind = 'table' | 'images' | 'text';
export type DatasetSource = 'sample' | 'upload' | 'import';

/** A numeric table as arrays: built-in generators, tests, and datasets of older Lathe versions. */
export interface TableDatasetInput {
  kind: 'table';
  /** Stable id: a built-in sample's name ("sample:iris") or a generated one for uploads. */
  id: string;
  name: string;
  task: TableTask;
  featureNames: string[];
  targetName: string;
  /** Class names, indexed by the class ids stored in `targets`; empty for regression. */
  classNames: string[];
  numSamples: number;
  numFeatures: number;
  /** Row-major, `numSamples * numFeatures`. */
  features: Float32Array;
  /** Class index (classification) or value (regression), one per sample. */
  targets: Float32Array;
  source: 'sample' | 'upload';
}

/** Every input kind a job can be submitted with; later kinds join here. */
export type DatasetInput = TableDatasetInput;

/** A column as the page sees it: its facts and Lathe's guess, without the per-row arrays. */
export type ColumnInfo = Omit<TableColumn, 'numbers' | 'codes' | 'categories' | 'categoryCounts'> & {
  /** The most frequent categories (up to MAX_LISTED_CATEGORIES), for pickers; null without a dictionary. */
  categories: string[] | null;
};

/** Categories listed per column in a summary: enough for a select, small enough to post. */
export const MAX_LISTED_CATEGORIES = 200;

/** What every stored dataset's summary has, whatever its kind. */
export interface SummaryBase {
  /** Content-addressed: `<source id>@<first 16 hex of the fingerprint>`. */
  id: string;
  name: string;
  kind: DatasetKind;
  /** SHA-256 of the content; equal content is stored once. */
  fingerprint: string;
  createdAt: number;
  source: DatasetSource;
  /** The file it was read from, if any. */
  fileName: string | null;
  /** Bytes of stored data. */
  byteLength: number;
  /** Table rows, or images. */
  rows: number;
  /** What reading it noticed, e.g. a Windows-1252 fallback. */
  notices: string[];
  /** Set for built-in samples: "sample:iris". */
  sampleId: string | null;
}

/** What the Datasets panel, the dataset picker and the column table need of a table: no bulk data. */
export interface TableSummary extends SummaryBase {
  kind: 'table';
  columns: ColumnInfo[];
  /** Lathe's suggested plan: target, task, column types, missing values. */
  defaultPlan: TablePlan;
  /**
   * Set when the data came in as a numeric matrix (older Lathe, generated samples): its fingerprint
   * is the matrix's, which these names let Lathe rebuild exactly (see `matrixOf`).
   */
  matrix?: { featureNames: string[]; targetName: string; classNames: string[]; task: TableTask };
}

/** An image dataset's summary: classes, counts, size, what was skipped; no pixels. */
export interface ImageSummary extends SummaryBase, ImageFacts {
  kind: 'images';
}

/** A text's summary: characters, vocabulary (token ids are its order + 1) and a preview; `rows` is its characters. */
export interface TextSummary extends SummaryBase, TextFacts {
  kind: 'text';
}

export type DatasetSummary = TableSummary | ImageSummary | TextSummary;

/** A stored table dataset: its summary and its columns (two records in IndexedDB, see db.ts). */
export interface TableDataset extends TableSummary {
  table: TableData;
}

/** A stored image dataset: its summary and its pixels and labels. */
export interface ImageDataset extends ImageSummary {
  images: ImageSet;
}

/** A stored text dataset: its summary and the text itself. */
export interface TextDataset extends TextSummary {
  text: string;
}

/** The bulk half of a stored dataset, kept apart so listing and renaming never touch it. */
export type DatasetData =
  | { id: string; table: TableData; images?: undefined; text?: undefined }
  | { id: string; images: ImageSet; table?: undefined; text?: undefined }
  | { id: string; text: string; table?: undefined; images?: undefined };

export type Dataset = TableDataset | ImageDataset | TextDataset;

/** The bulk record of a dataset. */
export function bulkOf(d: Dataset): DatasetData {
  if (d.kind === 'text') return { id: d.id, text: d.text };
  return d.kind === 'images' ? { id: d.id, images: d.images } : { id: d.id, table: d.table };
}

/** A summary and its bulk record joined again; undefined when they do not belong together. */
export function joinDataset(info: DatasetSummary, data: DatasetData): Dataset | undefined {
  if (info.kind === 'images') return data.images ? { ...info, images: data.images } : undefined;
  if (info.kind === 'text') return typeof data.text === 'string' ? { ...info, text: data.text } : undefined;
  // Summaries written before kinds existed have no `kind`: they are tables.
  return data.table ? { ...info, kind: 'table', table: data.table } : undefined;
}

/** A table dataset, or a readable error naming what the job needs. */
export function requireTable(d: Dataset, what = 'This'): TableDataset {
  if (d.kind !== 'table') throw new Error(`${what} needs a table, but “${d.name}” is a dataset of ${d.kind === 'text' ? 'text' : 'images'}.`);
  return d;
}

export function columnInfo(c: TableColumn): ColumnInfo {
  const { numbers: _n, codes: _c, categories, categoryCounts: _k, ...rest } = c;
  return { ...rest, categories: categories ? categories.slice(0, MAX_LISTED_CATEGORIES) : null };
}

export function summaryOf(d: Dataset): DatasetSummary {
  if (d.kind === 'images') {
    const { images: _images, ...summary } = d;
    return summary;
  }
  if (d.kind === 'text') {
    const { text: _text, ...summary } = d;
    return summary;
  }
  const { table, ...summary } = d;
  return { ...summary, columns: table.columns.map(columnInfo) };
}

export function tableBytes(t: TableData): number {
  return t.columns.reduce((n, c) => n + c.numbers.byteLength + (c.codes?.byteLength ?? 0), 0);
}

/** SHA-256 over the table's schema and every column's arrays, column by column (no big copy). */
export async function fingerprintTable(t: TableData): Promise<string> {
  const parts: string[] = [];
  for (const c of t.columns) {
    parts.push(await sha256Hex(c.numbers, c.codes ?? new Int32Array(0), new TextEncoder().encode(JSON.stringify(c.categories))));
  }
  const schema = JSON.stringify([t.numRows, t.columns.map((c) => c.name), t.decimalComma ?? false, parts]);
  return sha256Hex(new TextEncoder().encode(schema));
}

/** SHA-256 over an image set's shape, class names, labels and pixels (file names are not content). */
export function fingerprintImages(s: ImageSet): Promise<string> {
  const schema = new TextEncoder().encode(JSON.stringify(['images', s.size, s.channels, s.classNames, s.labels.length]));
  return sha256Hex(schema, s.labels, s.pixels);
}

/** SHA-256 over a text's UTF-8 bytes, after a kind tag (so a text never equals a table's bytes). */
export function fingerprintText(text: string): Promise<string> {
  return sha256Hex(new TextEncoder().encode('text\n'), new TextEncoder().encode(text));
}

/** The id a stored dataset gets from where it came from and its fingerprint. */
export function datasetId(sourceId: string, fingerprint: string): string {
  return `${sourceId}@${fingerprint.slice(0, 16)}`;
}

/** A numeric matrix as a stored table dataset, fingerprinted as a matrix (as it always was). */
export async function tableDatasetFromInput(
  d: TableDatasetInput,
  now: number,
  opts: { id?: string; source?: DatasetSource } = {},
): Promise<TableDataset> {
  return tableDatasetFromMatrix(d, await fingerprintDataset(d), now, opts);
}

/** The same, with a known fingerprint: synchronous, so an IndexedDB upgrade can use it. */
export function tableDatasetFromMatrix(
  d: Omit<TableDatasetInput, 'source'> & { source: string },
  fingerprint: string,
  now: number,
  opts: { id?: string; source?: DatasetSource } = {},
): TableDataset {
  const { table, plan } = tableFromMatrix(d);
  const source: DatasetSource = opts.source ?? (d.source === 'sample' ? 'sample' : 'upload');
  return {
    id: opts.id ?? datasetId(d.id, fingerprint),
    name: d.name,
    kind: 'table',
    fingerprint,
    createdAt: now,
    source,
    fileName: null,
    byteLength: tableBytes(table),
    rows: d.numSamples,
    columns: table.columns.map(columnInfo),
    defaultPlan: plan,
    notices: [],
    sampleId: d.source === 'sample' ? d.id : null,
    matrix: { featureNames: [...d.featureNames], targetName: d.targetName, classNames: [...d.classNames], task: d.task },
    table,
  };
}

/** The numeric matrix a dataset came from, rebuilt from its columns; null for other datasets. */
export function matrixOf(d: TableDataset): TableDatasetInput | null {
  const m = d.matrix;
  if (!m) return null;
  const byName = new Map(d.table.columns.map((c) => [c.name, c]));
  const n = d.table.numRows;
  const features = new Float32Array(n * m.featureNames.length);
  m.featureNames.forEach((name, j) => {
    const col = byName.get(name);
    if (!col) throw new Error(`The dataset has lost its column “${name}”.`);
    for (let i = 0; i < n; i++) features[i * m.featureNames.length + j] = col.numbers[i]!;
  });
  const target = byName.get(m.targetName);
  if (!target) throw new Error(`The dataset has lost its target column “${m.targetName}”.`);
  const targets = new Float32Array(n);
  if (m.task === 'classification') {
    const index = new Map(m.classNames.map((c, i) => [c, i]));
    for (let i = 0; i < n; i++) targets[i] = index.get(target.categories![target.codes![i]!]!) ?? Number.NaN;
  } else targets.set(target.numbers);
  return {
    kind: 'table', id: d.sampleId ?? d.id.split('@')[0]!, name: d.name, task: m.task, featureNames: [...m.featureNames],
    targetName: m.targetName, classNames: [...m.classNames], numSamples: n, numFeatures: m.featureNames.length,
    features, targets, source: d.source === 'sample' ? 'sample' : 'upload',
  };
}

/** Recomputes a dataset's fingerprint the way it was first computed (matrix or columns). */
export function computeFingerprint(d: Dataset): Promise<string> {
  if (d.kind === 'images') return fingerprintImages(d.images);
  if (d.kind === 'text') return fingerprintText(d.text);
  const matrix = matrixOf(d);
  return matrix ? fingerprintDataset(matrix) : fingerprintTable(d.table);
}

export function transferablesOf(d: DatasetInput): ArrayBuffer[] {
  return [d.features.buffer as ArrayBuffer, d.targets.buffer as ArrayBuffer];
}

export function validateDataset(d: DatasetInput): string[] {
  const problems: string[] = [];
  if (d.numSamples < 2) problems.push('The dataset needs at least 2 rows.');
  if (d.numFeatures < 1) problems.push('The dataset needs at least one feature column.');
  if (d.features.length !== d.numSamples * d.numFeatures)
    problems.push(
      `Feature data has ${d.features.length} values, expected ${d.numSamples} rows × ${d.numFeatures} columns.`,
    );
  if (d.targets.length !== d.numSamples)
    problems.push(`Target column has ${d.targets.length} values, expected ${d.numSamples}.`);
  if (d.task === 'classification') {
    if (d.classNames.length < 2) problems.push('Classification needs at least 2 classes.');
    for (let i = 0; i < d.targets.length; i++) {
      const t = d.targets[i]!;
      if (!Number.isInteger(t) || t < 0 || t >= d.classNames.length) {
        problems.push(`Row ${i + 1}: class id ${t} is not one of the ${d.classNames.length} classes.`);
        break;
      }
    }
  }
  for (let i = 0; i < d.features.length; i++) {
    if (!Number.isFinite(d.features[i]!)) {
      const row = Math.floor(i / d.numFeatures) + 1;
      problems.push(`Row ${row}, column "${d.featureNames[i % d.numFeatures]}": value is not a finite number.`);
      break;
    }
  }
  return problems;
}

/** The fingerprint of a numeric matrix (how every dataset was identified before tables had columns). */
export function fingerprintDataset(d: DatasetInput): Promise<string> {
  const schema = new TextEncoder().encode(
    JSON.stringify([d.kind, d.task, d.featureNames, d.targetName, d.classNames, d.numSamples, d.numFeatures]),
  );
  return sha256Hex(schema, d.features, d.targets);
}
