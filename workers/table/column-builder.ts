// Builds one column of a table cell by cell, straight into growable typed arrays (numbers, and
// dictionary codes until a column has too many distinct values), so a large file never exists as
// rows of strings. Imports only shared table code.
import { isMissingCell, parseNumberCell, trimCell } from '../../shared/table-cells';
import { withInference, type ColumnFacts } from '../../shared/table-infer';
import { MAX_DICTIONARY_VALUES, type TableColumn, type TableData } from '../../shared/table-types';

/** Distinct example values kept per column for the column table. */
export const SAMPLE_VALUES = 5;
/** Growth factor when a column's arrays are full: 1.5 keeps the slack (and the peak while copying) small. */
const GROWTH = 1.5;

export class ColumnBuilder {
  #numbers: Float32Array;
  #codes: Int32Array | null;
  #dictionary: Map<string, number> | null = new Map();
  #values: string[] = [];
  #rows = 0;
  #missing = 0;
  #nonNumeric = 0;
  #firstNonNumeric: { row: number; value: string } | null = null;
  readonly #samples: string[] = [];

  constructor(
    readonly name: string,
    capacityRows: number,
    readonly decimalComma: boolean,
  ) {
    const capacity = Math.max(16, capacityRows);
    this.#numbers = new Float32Array(capacity);
    this.#codes = new Int32Array(capacity);
  }

  /** Adds the next data row's cell, untrimmed. */
  add(cell: string): void {
    const row = this.#rows;
    if (row === this.#numbers.length) this.#grow();
    this.#rows = row + 1;
    const text = trimCell(cell);
    if (isMissingCell(text)) {
      this.#missing++;
      this.#numbers[row] = NaN;
      if (this.#codes) this.#codes[row] = -1;
      return;
    }
    const value = parseNumberCell(text, this.decimalComma);
    this.#numbers[row] = value;
    if (value !== value) {
      if (this.#nonNumeric++ === 0) this.#firstNonNumeric = { row, value: text };
    }
    const dict = this.#dictionary;
    if (!dict) return;
    let code = dict.get(text);
    if (code === undefined) {
      code = this.#values.length;
      if (code === MAX_DICTIONARY_VALUES) {
        this.#dropDictionary();
        return;
      }
      dict.set(text, code);
      this.#values.push(text);
      if (this.#samples.length < SAMPLE_VALUES) this.#samples.push(text);
    }
    this.#codes![row] = code;
  }

  /** Adds column `j` of each row. */
  addColumn(rows: string[][], j: number): void {
    for (let r = 0; r < rows.length; r++) this.add(rows[r]![j]!);
  }

  get rows(): number {
    return this.#rows;
  }

  #grow(): void {
    const capacity = Math.ceil(this.#numbers.length * GROWTH);
    const numbers = new Float32Array(capacity);
    numbers.set(this.#numbers);
    this.#numbers = numbers;
    if (this.#codes) {
      const codes = new Int32Array(capacity);
      codes.set(this.#codes);
      this.#codes = codes;
    }
  }

  /** Past MAX_DICTIONARY_VALUES the column is free text, ids or real-valued: codes would only cost memory. */
  #dropDictionary(): void {
    this.#dictionary = null;
    this.#codes = null;
    this.#values = [];
  }

  /**
   * The finished column, with exact-length arrays (the builder's slack is released), categories
   * most frequent first, and the inferred type. `lineOfRow` maps a data row to its file line.
   */
  finish(table: Pick<TableData, 'numRows'>, lineOfRow: (row: number) => number): TableColumn {
    const numRows = table.numRows;
    const numbers = this.#numbers.slice(0, numRows);
    this.#numbers = new Float32Array(0);
    let categories: string[] | null = null;
    let categoryCounts: number[] | null = null;
    let codes: Int32Array | null = null;
    if (this.#codes) {
      // Counted here, once, rather than per cell while reading.
      const counts = new Float64Array(this.#values.length);
      const built = this.#codes;
      for (let r = 0; r < numRows; r++) if (built[r]! >= 0) counts[built[r]!]!++;
      // Most frequent first; ties keep first-seen order (Array.prototype.sort is stable).
      const order = this.#values.map((_, i) => i).sort((a, b) => counts[b]! - counts[a]!);
      const remap = new Int32Array(order.length);
      order.forEach((oldCode, newCode) => (remap[oldCode] = newCode));
      categories = order.map((c) => this.#values[c]!);
      categoryCounts = order.map((c) => counts[c]!);
      codes = this.#codes.slice(0, numRows);
      this.#codes = null;
      for (let r = 0; r < numRows; r++) {
        const c = codes[r]!;
        if (c >= 0) codes[r] = remap[c]!;
      }
    }
    const facts: ColumnFacts = {
      name: this.name,
      numbers,
      missingCount: this.#missing,
      nonNumericCount: this.#nonNumeric,
      firstNonNumeric: this.#firstNonNumeric && { row: lineOfRow(this.#firstNonNumeric.row), value: this.#firstNonNumeric.value },
      // Capped: at least one more than the dictionary could hold.
      distinctCount: categories ? categories.length : MAX_DICTIONARY_VALUES + 1,
      distinctCapped: categories === null,
      categories,
      categoryCounts,
      codes,
      samples: [...this.#samples],
    };
    return withInference(facts, numRows);
  }
}
