// Turns a stream of CSV rows into a table: decides the header from the first rows, names the
// columns, skips blank lines, refuses ragged rows by line and column, and feeds each cell to its
// column builder. Imports shared table code and the worker's column builder and sniffing.
import { columnNames, fileLineOfRow, quoteValue } from '../../shared/table-cells';
import { TableError, type TableData } from '../../shared/table-types';
import { ColumnBuilder } from './column-builder';
import { SNIFF_ROWS, detectHeader } from './sniff';

/** Lines listed by number in a notice before "…". */
const LINES_LISTED = 5;

const isBlank = (cell: string): boolean => cell.trim() === '';
const listLines = (lines: number[], total: number): string =>
  `${total === 1 ? 'line' : 'lines'} ${lines.join(', ')}${total > lines.length ? ', …' : ''}`;

export interface AssembledTable {
  table: TableData;
  hasHeader: boolean;
  notices: string[];
}

export class TableAssembler {
  readonly #decimalComma: boolean;
  readonly #capacityRows: number;
  /** Rows held back until the header is decided. */
  #buffer: { cells: string[]; line: number }[] | null = [];
  #builders: ColumnBuilder[] = [];
  #names: string[] = [];
  #width = 0;
  #hasHeader = false;
  #headerLine = 0;
  #notices: string[] = [];
  readonly #rowLines = { rows: [] as number[], lines: [] as number[] };
  #rows = 0;
  #lastLine = -1;
  readonly #blankLines: number[] = [];
  #blankCount = 0;
  readonly #trailingLines: number[] = [];
  #trailingCount = 0;

  constructor(options: { decimalComma: boolean; capacityRows: number }) {
    this.#decimalComma = options.decimalComma;
    this.#capacityRows = options.capacityRows;
  }

  /** Takes the next rows of cells; row i starts on file line `lines[i]`. */
  addRows(rows: string[][], lines: number[]): void {
    const data: string[][] = [];
    for (let i = 0; i < rows.length; i++) {
      const cells = rows[i]!;
      const line = lines[i]!;
      if (cells.every(isBlank)) {
        if (this.#blankCount++ < LINES_LISTED) this.#blankLines.push(line);
      } else if (this.#buffer) {
        this.#buffer.push({ cells, line });
        if (this.#buffer.length >= SNIFF_ROWS) this.#decideHeader();
      } else {
        this.#acceptRow(cells, line);
        data.push(cells);
      }
    }
    this.#feed(data);
  }

  /** One row; see addRows. */
  addRow(cells: string[], line: number): void {
    this.addRows([cells], [line]);
  }

  #decideHeader(): void {
    const buffered = this.#buffer!;
    this.#buffer = null;
    const hasHeader = detectHeader(
      buffered.map((r) => r.cells),
      this.#decimalComma,
    );
    // Trailing empty cells (a delimiter at the end of every line) do not make a column.
    const extent = (cells: string[]): number => {
      let n = cells.length;
      while (n > 0 && isBlank(cells[n - 1]!)) n--;
      return n;
    };
    // The usual row width, so that one ragged row is blamed for itself rather than every other row.
    const data = hasHeader ? buffered.slice(1) : buffered;
    const freq = new Map<number, number>();
    for (const r of data) freq.set(extent(r.cells), (freq.get(extent(r.cells)) ?? 0) + 1);
    let width = 0;
    let most = 0;
    for (const [w, n] of freq) if (n > most || (n === most && w > width)) [width, most] = [w, n];
    if (hasHeader) width = Math.max(width, extent(buffered[0]!.cells));
    const header = hasHeader ? buffered[0]!.cells : null;
    const { names, notices } = columnNames(header, width);
    if (width < 2) {
      const first = quoteValue(names[0] ?? buffered[0]!.cells[0] ?? '');
      throw new TableError(
        `The file has only one column (${first}). Lathe needs at least two, inputs and a target, separated by commas, semicolons or tabs.`,
      );
    }
    this.#width = width;
    this.#names = names;
    this.#hasHeader = hasHeader;
    this.#notices.push(...notices);
    if (hasHeader) this.#headerLine = buffered[0]!.line;
    else this.#notices.push(`The first line looks like data, not column names, so the columns are called “column 1” to “column ${width}”.`);
    this.#builders = names.map((name) => new ColumnBuilder(name, this.#capacityRows, this.#decimalComma));
    for (const { cells, line } of data) this.#acceptRow(cells, line);
    this.#feed(data.map((r) => r.cells));
  }

  /** Column by column: each builder's dictionary stays hot in the cache (about 20% faster than row by row). */
  #feed(rows: string[][]): void {
    if (rows.length === 0) return;
    for (let j = 0; j < this.#width; j++) this.#builders[j]!.addColumn(rows, j);
  }

  /** Checks a data row's width and records its line; its cells are fed with the rest of the batch. */
  #acceptRow(cells: string[], line: number): void {
    if (cells.length !== this.#width) this.#checkRagged(cells, line);
    if (line !== this.#lastLine + 1 || this.#rows === 0) {
      this.#rowLines.rows.push(this.#rows);
      this.#rowLines.lines.push(line);
    }
    this.#lastLine = line;
    this.#rows++;
  }

  #checkRagged(cells: string[], line: number): void {
    const width = this.#width;
    const against = this.#hasHeader ? `the header (line ${this.#headerLine}) has ${width}` : `the table has ${width} columns`;
    if (cells.length < width) {
      const lacking = this.#names.slice(cells.length).map((n) => `“${n}”`);
      throw new TableError(
        `Line ${line} has ${cells.length} ${cells.length === 1 ? 'value' : 'values'}, but ${against}: ` +
          `${lacking.length === 1 ? 'column' : 'columns'} ${lacking.join(', ')} ${lacking.length === 1 ? 'has' : 'have'} no value. ` +
          'An empty value still needs its delimiter.',
      );
    }
    const extra = cells.findIndex((c, j) => j >= width && !isBlank(c));
    if (extra >= 0)
      throw new TableError(
        `Line ${line} has ${cells.length} values, but ${against}: value ${extra + 1} (${quoteValue(cells[extra]!)}) has no column. ` +
          'Is a delimiter inside a value that is not in quotes?',
      );
    if (this.#trailingCount++ < LINES_LISTED) this.#trailingLines.push(line);
  }

  /** The finished table. Throws a TableError for a file without data rows. */
  finish(): AssembledTable {
    if (this.#buffer) {
      if (this.#buffer.length === 0) throw new TableError('The file has no rows: it is empty or holds only blank lines.');
      this.#decideHeader();
    }
    const numRows = this.#rows;
    if (numRows === 0) {
      const names = this.#names.slice(0, 6).map((n) => `“${n}”`).join(', ');
      throw new TableError(`The file has a header line (${names}${this.#names.length > 6 ? ', …' : ''}) but no data rows.`);
    }
    const rowLines = this.#rowLines;
    const table: TableData = { columns: [], numRows, rowLines };
    if (this.#decimalComma) table.decimalComma = true;
    const lineOf = (row: number): number => fileLineOfRow(table, row);
    // One column at a time, so only one column's exact-length copy exists beside the builders.
    for (const builder of this.#builders) table.columns.push(builder.finish(table, lineOf));
    this.#builders = [];
    const notices = [...this.#notices];
    if (this.#blankCount > 0)
      notices.push(`Skipped ${this.#blankCount} empty ${this.#blankCount === 1 ? 'line' : 'lines'} (${listLines(this.#blankLines, this.#blankCount)}).`);
    if (this.#trailingCount > 0)
      notices.push(
        `${this.#trailingCount} ${this.#trailingCount === 1 ? 'line ends' : 'lines end'} with extra delimiters (${listLines(this.#trailingLines, this.#trailingCount)}); the empty values after the last column were ignored.`,
      );
    return { table, hasHeader: this.#hasHeader, notices };
  }
}
