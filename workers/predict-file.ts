// Batch prediction: a CSV with the model's input columns comes back with the prediction (and the
// class probabilities) appended to every row. The file streams through: each slice's rows are
// encoded exactly as training encoded stored rows, predicted, and written out with their cells as
// they were, so the output repeats the input byte for byte before the new columns.
import type { ExportedFile } from '../shared/package-format';
import { checkColumns, encodeRecord, TableError } from '../shared/table';
import { predictEncoded, type TableModel } from './export/predict';
import { fileSlug } from './export/zip';
import { streamRows, type RowLayout, type RowSink } from './table/read-table';
import { unparse } from './table/papa';

/** The new columns' names: "predicted <target>", then one probability per class. */
export function predictionHeader(m: TableModel): string[] {
  const target = m.encoding.target;
  const names = [`predicted ${target.name}`];
  if ('classNames' in target) names.push(...target.classNames.map((c) => `p(${c})`));
  return names;
}

class PredictionSink implements RowSink {
  readonly #model: TableModel;
  readonly #delimiter: string;
  /** A semicolon file writes "1,5" for 1.5, whatever the training file did. */
  readonly #decimalComma: boolean;
  #header: string[] | null = null;
  #pending: { cells: string[]; line: number }[] = [];
  readonly out: string[] = [];
  rows = 0;

  constructor(model: TableModel, layout: RowLayout) {
    this.#model = model;
    this.#delimiter = layout.delimiter;
    this.#decimalComma = layout.decimalComma;
  }

  addRows(rows: string[][], lines: number[]): void {
    rows.forEach((cells, i) => this.#addRow(cells, lines[i]!));
  }

  #addRow(cells: string[], line: number): void {
    if (cells.every((c) => c.trim() === '')) return;
    if (!this.#header) {
      const header = cells.map((c) => c.trim());
      const problems = checkColumns(this.#model.encoding, header);
      if (problems.length > 0) throw new TableError(problems.join(' '));
      this.#header = header;
      this.out.push(unparse([[...cells, ...predictionHeader(this.#model)]], { delimiter: this.#delimiter }) + '\r\n');
      return;
    }
    if (cells.length !== this.#header.length)
      throw new TableError(`Line ${line} has ${cells.length} values, but the header has ${this.#header.length} columns.`);
    this.#pending.push({ cells, line });
  }

  async drain(): Promise<void> {
    const rows = this.#pending;
    if (rows.length === 0 || !this.#header) return;
    this.#pending = [];
    const width = this.#model.encoding.inputNames.length;
    const x = new Float32Array(rows.length * width);
    rows.forEach(({ cells, line }, i) => {
      const record = Object.fromEntries(this.#header!.map((name, j) => [name, cells[j]!]));
      try {
        x.set(encodeRecord(this.#model.encoding, record, { decimalComma: this.#decimalComma }), i * width);
      } catch (err) {
        throw new TableError(`Line ${line}: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
    const prediction = await predictEncoded(this.#model, x, rows.length);
    const lines = rows.map(({ cells }, i) => [
      ...cells,
      String(prediction.predicted[i]),
      ...(prediction.probabilities?.[i]?.map((p) => p.toPrecision(6)) ?? []),
    ]);
    this.out.push(unparse(lines, { delimiter: this.#delimiter }) + '\r\n');
    this.rows += rows.length;
  }
}

export async function predictFile(model: TableModel, file: Blob, signal?: AbortSignal): Promise<ExportedFile> {
  const fileName = typeof (file as { name?: unknown }).name === 'string' ? (file as File).name : 'rows.csv';
  const { sink } = await streamRows(file, { signal }, (layout) => new PredictionSink(model, layout));
  if (sink.rows === 0) throw new TableError(`“${fileName}” has a header but no rows to predict.`);
  const bytes = new Uint8Array(await new Blob(sink.out).arrayBuffer());
  const base = fileSlug(fileName.replace(/\.(csv|tsv|txt)$/i, ''));
  return { name: `${base}-predictions.csv`, bytes, type: 'text/csv' };
}
