// Splits CSV text, arriving in chunks, into rows of cells with papaparse's core parser, and tracks
// the file line each row starts on (values in quotes may span lines). Quoting follows RFC 4180:
// delimiters and newlines inside quotes, "" for a quote. Imports papaparse and shared table code.
//
// Why papaparse and not uDSV (bench/csv-parse-bench.mjs, 50 MB numeric + categorical CSV, Node 20,
// 2 shared cores, 2026-12-04, medians of 7): uDSV alone 194 MB/s, papaparse alone 129 MB/s; into
// the same column builders uDSV 43 MB/s, the app's papaparse path 36 MB/s (the builders, not the
// parser, take most of the time). uDSV is faster but silently misreads bad files, which this
// reader must name: a short row swallows the next line ("4,5\n6,7,8" → ["4", "5\n6", "7,8"]),
// extra cells are glued onto the last value, blank lines vanish without their line numbers, and
// a quote that never closes yields no rows and no error. papaparse returns rows as they are, so
// ragged rows, blank lines and unclosed quotes are reported by line here.
import { Parser, type CoreParser, type ParserResult } from './papa';
import { TableError } from '../../shared/table-types';

/**
 * A row still open after this many characters (a quote that never closes) is an error: waiting
 * longer would re-scan an ever longer tail on every chunk. Values of a few MB are fine.
 */
export const MAX_OPEN_ROW_CHARS = 32 * 1024 * 1024;

export type Delimiter = ',' | ';' | '\t';
/** A batch of complete rows, and the file line each one starts on. */
export type OnRows = (rows: string[][], lines: number[]) => void;

export class CsvRows {
  readonly #parser: CoreParser;
  readonly #newlineChar: string;
  #pending = '';
  #nextLine = 1;
  /** The first quote that was closed but followed by more text (papaparse keeps the text). */
  firstStrayQuoteLine: number | null = null;

  /** `newline`: '\n' also splits CRLF files (the '\r' stays at the end of the last cell, and cells are trimmed); '\r' for old Mac files. */
  constructor(delimiter: Delimiter, newline: '\n' | '\r') {
    this.#parser = new Parser({ delimiter, newline, quoteChar: '"' });
    this.#newlineChar = newline;
  }

  /** The line the next row will start on. */
  get nextLine(): number {
    return this.#nextLine;
  }

  /** Feeds the next piece of text; complete rows go to `onRows`, an unfinished last row waits for more. */
  push(text: string, onRows: OnRows): void {
    const input = this.#pending + text;
    const result = this.#parser.parse(input, 0, true);
    this.#pending = input.slice(result.meta.cursor);
    this.#emit(input, result, onRows);
    if (this.#pending.length > MAX_OPEN_ROW_CHARS)
      throw new TableError(
        `Line ${this.#nextLine}: a value starts here and is still open after ${Math.round(MAX_OPEN_ROW_CHARS / 1048576)} MB of text. Is a closing quote (") missing?`,
      );
  }

  /** Parses what is left at the end of the file. */
  end(onRows: OnRows): void {
    const input = this.#pending;
    this.#pending = '';
    if (input.length === 0) return;
    const result = this.#parser.parse(input, 0, false);
    const unclosed = result.errors.find((e) => e.code === 'MissingQuotes');
    if (unclosed) {
      const line = this.#lineOfRow(result.data, unclosed.row ?? result.data.length - 1);
      throw new TableError(`Line ${line}: a quoted value starts on this line and never ends. Is a closing quote (") missing?`);
    }
    this.#emit(input, result, onRows);
  }

  #lineOfRow(rows: string[][], index: number): number {
    let line = this.#nextLine;
    for (let i = 0; i < index && i < rows.length; i++) line += 1 + this.#newlinesIn(rows[i]!);
    return line;
  }

  #emit(input: string, result: ParserResult, onRows: OnRows): void {
    if (this.firstStrayQuoteLine === null) {
      const stray = result.errors.find((e) => e.code === 'InvalidQuotes');
      if (stray) this.firstStrayQuoteLine = this.#lineOfRow(result.data, stray.row ?? 0);
    }
    const rows = result.data;
    if (rows.length === 0) return;
    // Without a quote in the text no value can span lines, so the per-cell scan is skipped.
    const mayHaveNewlines = input.indexOf('"') >= 0;
    const lines = new Array<number>(rows.length);
    let line = this.#nextLine;
    for (let i = 0; i < rows.length; i++) {
      lines[i] = line;
      line += mayHaveNewlines ? 1 + this.#newlinesIn(rows[i]!) : 1;
    }
    this.#nextLine = line;
    onRows(rows, lines);
  }

  #newlinesIn(row: string[]): number {
    let n = 0;
    for (const cell of row) {
      let at = cell.indexOf(this.#newlineChar);
      while (at >= 0) {
        n++;
        at = cell.indexOf(this.#newlineChar, at + 1);
      }
    }
    return n;
  }
}
