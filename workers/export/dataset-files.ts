// A dataset as files inside a `.lathe` package (format 2): a table's column layout as JSON and its
// arrays as two little-endian binaries, images' shape and names as JSON with their labels and
// pixels, or a text as one UTF-8 file (its summary, with the vocabulary, is the manifest's
// `dataset.meta`); and back, checking every size and fact before trusting it.
import type { Dataset, TextDataset, TextSummary } from '../../shared/dataset';
import { textFacts } from '../../shared/text';
import type { ImageSet } from '../../shared/image-types';
import { ImportError, PACKAGE_PATHS } from '../../shared/package-format';
import type { TableColumn, TableData } from '../../shared/table-types';
import { formatBytes, jsonBytes, ownBuffer, parseJsonBytes } from './zip';

/** A column without its arrays; `hasCodes` says whether codes.bin holds a slice for it. */
type ColumnLayout = Omit<TableColumn, 'numbers' | 'codes'> & { hasCodes: boolean };

interface TableLayout {
  numRows: number;
  rowLines?: TableData['rowLines'];
  decimalComma?: boolean;
  columns: ColumnLayout[];
}

interface ImagesLayout {
  size: number;
  channels: 1 | 3;
  classNames: string[];
  names: string[];
}

/** The files of a package's dataset. */
export function datasetFiles(d: Dataset): { name: string; bytes: Uint8Array }[] {
  if (d.kind === 'images') {
    const { size, channels, classNames, names, labels, pixels } = d.images;
    return [
      { name: PACKAGE_PATHS.images, bytes: jsonBytes({ size, channels, classNames, names } satisfies ImagesLayout) },
      { name: PACKAGE_PATHS.labels, bytes: new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength) },
      { name: PACKAGE_PATHS.pixels, bytes: pixels },
    ];
  }
  if (d.kind === 'text') return [{ name: PACKAGE_PATHS.text, bytes: new TextEncoder().encode(d.text) }];
  const { table } = d;
  const layout: TableLayout = {
    numRows: table.numRows,
    ...(table.rowLines ? { rowLines: table.rowLines } : {}),
    ...(table.decimalComma ? { decimalComma: true } : {}),
    columns: table.columns.map(({ numbers: _n, codes, ...rest }) => ({ ...rest, hasCodes: codes !== null })),
  };
  const numbers = new Float32Array(table.numRows * table.columns.length);
  table.columns.forEach((c, i) => numbers.set(c.numbers, i * table.numRows));
  const coded = table.columns.filter((c) => c.codes !== null);
  const codes = new Int32Array(table.numRows * coded.length);
  coded.forEach((c, i) => codes.set(c.codes!, i * table.numRows));
  return [
    { name: PACKAGE_PATHS.columns, bytes: jsonBytes(layout) },
    { name: PACKAGE_PATHS.numbers, bytes: new Uint8Array(numbers.buffer) },
    { name: PACKAGE_PATHS.codes, bytes: new Uint8Array(codes.buffer) },
  ];
}

function expectBytes(bytes: Uint8Array, path: string, values: number): void {
  if (bytes.byteLength !== values * 4)
    throw new ImportError(`${path} has ${formatBytes(bytes.byteLength)} bytes, but the dataset's layout needs ${formatBytes(values * 4)}.`);
}

/** Rebuilds the table from a package's files; the caller then checks its fingerprint. */
export function tableFromFiles(entries: Map<string, Uint8Array>): TableData {
  const layout = parseJsonBytes(entries.get(PACKAGE_PATHS.columns)!, PACKAGE_PATHS.columns) as Partial<TableLayout>;
  const { numRows, columns } = layout;
  if (!Number.isInteger(numRows) || numRows! < 0 || !Array.isArray(columns) || columns.length === 0)
    throw new ImportError(`${PACKAGE_PATHS.columns} does not describe a table (it needs numRows and a list of columns).`);
  const n = numRows!;
  const numbersBytes = entries.get(PACKAGE_PATHS.numbers)!;
  const codesBytes = entries.get(PACKAGE_PATHS.codes)!;
  const coded = columns.filter((c) => c.hasCodes).length;
  expectBytes(numbersBytes, PACKAGE_PATHS.numbers, n * columns.length);
  expectBytes(codesBytes, PACKAGE_PATHS.codes, n * coded);
  const numbers = new Float32Array(ownBuffer(numbersBytes));
  const codes = new Int32Array(ownBuffer(codesBytes));
  let codeIndex = 0;
  const built: TableColumn[] = columns.map((c, i) => {
    if (typeof c.name !== 'string') throw new ImportError(`${PACKAGE_PATHS.columns}: column ${i + 1} has no name.`);
    const { hasCodes, ...rest } = c;
    const ownCodes = hasCodes ? codes.slice(codeIndex * n, ++codeIndex * n) : null;
    if (ownCodes && (!Array.isArray(c.categories) || ownCodes.some((k) => k >= c.categories!.length || k < -1)))
      throw new ImportError(`${PACKAGE_PATHS.codes}: column “${c.name}” refers to categories it does not list.`);
    return { ...rest, numbers: numbers.slice(i * n, (i + 1) * n), codes: ownCodes };
  });
  return {
    columns: built,
    numRows: n,
    ...(layout.rowLines ? { rowLines: layout.rowLines } : {}),
    ...(layout.decimalComma ? { decimalComma: true } : {}),
  };
}

/** Rebuilds an image set from a package's files; the caller then checks its fingerprint. */
export function imagesFromFiles(entries: Map<string, Uint8Array>): ImageSet {
  const layout = parseJsonBytes(entries.get(PACKAGE_PATHS.images)!, PACKAGE_PATHS.images) as Partial<ImagesLayout>;
  const { size, channels, classNames, names } = layout;
  if (!Number.isInteger(size) || (channels !== 1 && channels !== 3) || !Array.isArray(classNames) || !Array.isArray(names))
    throw new ImportError(`${PACKAGE_PATHS.images} does not describe images (it needs size, channels, classNames and names).`);
  const labelBytes = entries.get(PACKAGE_PATHS.labels)!;
  const pixels = entries.get(PACKAGE_PATHS.pixels)!.slice();
  const count = names.length;
  if (labelBytes.byteLength !== count * 2 || pixels.byteLength !== count * size! * size! * channels)
    throw new ImportError(`The package's images do not add up: ${count} names, ${formatBytes(labelBytes.byteLength)} of labels, ${formatBytes(pixels.byteLength)} of pixels.`);
  const labels = new Uint16Array(ownBuffer(labelBytes));
  if (labels.some((l) => l >= classNames.length)) throw new ImportError(`${PACKAGE_PATHS.labels} refers to classes ${PACKAGE_PATHS.images} does not list.`);
  return { size: size!, channels, classNames, names, labels, pixels };
}

/**
 * Rebuilds a text from a package's text.txt and its summary; the caller then checks its
 * fingerprint. The vocabulary decides every token id, so it must be the text's own.
 */
export function textFromFiles(entries: Map<string, Uint8Array>, meta: TextSummary): TextDataset {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(entries.get(PACKAGE_PATHS.text));
  } catch {
    throw new ImportError(`${PACKAGE_PATHS.text} is not UTF-8 text.`);
  }
  let facts: ReturnType<typeof textFacts>;
  try {
    facts = textFacts(text, PACKAGE_PATHS.text);
  } catch (err) {
    throw new ImportError(err instanceof Error ? err.message : String(err));
  }
  if (facts.characters !== meta.characters || facts.vocabulary.join('') !== meta.vocabulary.join('') || facts.vocabulary.length !== meta.vocabulary.length)
    throw new ImportError(`${PACKAGE_PATHS.text} does not match the manifest's description of it (${facts.characters} characters and ${facts.vocabulary.length} distinct ones, not ${meta.characters} and ${meta.vocabulary.length}).`);
  return { ...meta, ...facts, text };
}
