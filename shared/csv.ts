// A small RFC 4180 CSV reader and a converter from a CSV table to a table dataset.
// Runs anywhere (plain TypeScript); errors name the row and column so users can fix their file.
import type { TableDatasetInput, TableTask } from './dataset';

export class CsvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsvError';
  }
}

/** Parses CSV text into rows of cells. Handles quoted fields, doubled quotes and CRLF. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        cell += ch;
      }
    } else if (ch === '"') {
      if (cell.length > 0) throw new CsvError(`Line ${line}: a quote appears inside an unquoted field.`);
      quoted = true;
    } else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      line++;
    } else cell += ch;
  }
  if (quoted) throw new CsvError(`Line ${line}: a quoted field is never closed.`);
  if (cell.length > 0 || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0]!.trim() === ''));
}

export interface CsvTableOptions {
  id: string;
  name: string;
  /** Column used as the target; defaults to the last one. */
  targetColumn?: string;
  /** Defaults to classification when the target has non-numeric values or few distinct integers. */
  task?: TableTask;
  source: 'sample' | 'upload';
}

export function csvToTable(text: string, opts: CsvTableOptions): TableDatasetInput {
  const rows = parseCsv(text);
  if (rows.length < 3) throw new CsvError('The CSV needs a header row and at least 2 data rows.');
  const header = rows[0]!.map((h) => h.trim());
  const width = header.length;
  if (width < 2) throw new CsvError('The CSV needs at least 2 columns: one or more features and a target.');
  const targetName = opts.targetColumn ?? header[width - 1]!;
  const targetIndex = header.indexOf(targetName);
  if (targetIndex < 0) throw new CsvError(`There is no column named "${targetName}".`);
  const data = rows.slice(1);
  data.forEach((r, i) => {
    if (r.length !== width) throw new CsvError(`Row ${i + 2} has ${r.length} cells, but the header has ${width}.`);
  });
  const rawTargets = data.map((r) => r[targetIndex]!.trim());
  const numericTargets = rawTargets.every((t) => t !== '' && Number.isFinite(Number(t)));
  const distinct = [...new Set(rawTargets)];
  const task: TableTask =
    opts.task ??
    (!numericTargets || (distinct.length <= 20 && rawTargets.every((t) => Number.isInteger(Number(t))))
      ? 'classification'
      : 'regression');
  if (task === 'regression' && !numericTargets) {
    const bad = rawTargets.findIndex((t) => t === '' || !Number.isFinite(Number(t)));
    throw new CsvError(`Row ${bad + 2}, column "${targetName}": "${rawTargets[bad]}" is not a number.`);
  }
  const classNames = task === 'classification' ? distinct.sort(naturalCompare) : [];
  const classIndex = new Map(classNames.map((c, i) => [c, i]));
  const featureCols = header.map((_, i) => i).filter((i) => i !== targetIndex);
  const numFeatures = featureCols.length;
  const features = new Float32Array(data.length * numFeatures);
  const targets = new Float32Array(data.length);
  data.forEach((r, i) => {
    featureCols.forEach((c, j) => {
      const raw = r[c]!.trim();
      const v = Number(raw);
      if (raw === '' || !Number.isFinite(v))
        throw new CsvError(`Row ${i + 2}, column "${header[c]}": "${raw}" is not a number.`);
      features[i * numFeatures + j] = v;
    });
    targets[i] = task === 'classification' ? classIndex.get(rawTargets[i]!)! : Number(rawTargets[i]);
  });
  return {
    kind: 'table',
    id: opts.id,
    name: opts.name,
    task,
    featureNames: featureCols.map((c) => header[c]!),
    targetName,
    classNames,
    numSamples: data.length,
    numFeatures,
    features,
    targets,
    source: opts.source,
  };
}

function naturalCompare(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}
