// Bytes to text for a table file: UTF-8 (a BOM is dropped), falling back to Windows-1252 with a
// notice that shows an affected word, never silently garbled; and an early refusal of files that
// are not text at all. Uses TextDecoder (worker and Node); imports shared code only.
import { sniffFileType } from '../../shared/package-format';
import { TableError } from '../../shared/table-types';

export type TextEncodingName = 'utf-8' | 'windows-1252';

/** Bytes looked at to recognise a file that is not text. */
export const SNIFF_BYTES = 8192;
/** Text files have almost no control bytes; more than this share of the sniffed bytes means binary. */
const MAX_CONTROL_SHARE = 0.01;

const KINDS: Record<string, string> = {
  zip: 'a ZIP archive (an Excel .xlsx workbook is one)',
  png: 'a PNG image',
  jpeg: 'a JPEG image',
  gif: 'a GIF image',
  pdf: 'a PDF document',
};

/** Throws a TableError when the first bytes show the file is not a text table. */
export function refuseNonText(head: Uint8Array, fileName: string): void {
  const b = (i: number): number => head[i] ?? -1;
  if ((b(0) === 0xff && b(1) === 0xfe) || (b(0) === 0xfe && b(1) === 0xff))
    throw new TableError(`${fileName} is UTF-16 text. Save it as “CSV UTF-8” (or plain CSV) and choose it again.`);
  const kind = KINDS[sniffFileType(head)];
  if (kind) throw new TableError(`${fileName} is ${kind}, not a CSV table. Save it as CSV first.`);
  if (b(0) === 0xd0 && b(1) === 0xcf && b(2) === 0x11 && b(3) === 0xe0)
    throw new TableError(`${fileName} is an Office document (an old Excel .xls workbook?), not a CSV table. Save it as CSV first.`);
  let control = 0;
  for (let i = 0; i < head.length; i++) {
    const c = head[i]!;
    if (c === 0) throw new TableError(`${fileName} contains NUL bytes (at byte ${i + 1}), so it is not a text table. Is it a binary file renamed .csv?`);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13) || c === 127) control++;
  }
  if (control > MAX_CONTROL_SHARE * head.length)
    throw new TableError(`${fileName} is mostly not text (${control} control bytes in its first ${head.length}). Is it a binary file renamed .csv?`);
}

/** Returned by decode() when the file must be read again from its first byte as Windows-1252. */
export const RESTART = Symbol('restart as windows-1252');

/** The word around `at` in `text`, for a notice a person can check. */
function wordAround(text: string, at: number): string {
  const stop = /[\s,;\t"]/;
  let start = at;
  let end = at + 1;
  while (start > 0 && at - start < 20 && !stop.test(text[start - 1]!)) start--;
  while (end < text.length && end - at < 20 && !stop.test(text[end]!)) end++;
  return text.slice(start, end);
}

/**
 * Decodes a file slice by slice. UTF-8 is strict; on its first invalid byte, if everything before
 * was ASCII (identical in both encodings), decoding switches to Windows-1252 in place. If valid
 * non-ASCII UTF-8 came first, the file mixes encodings, and decode() returns RESTART: the caller
 * reads the file again with `new ChunkDecoder('windows-1252')`, and the notice says so.
 */
export class ChunkDecoder {
  encoding: TextEncodingName;
  notice: string | null = null;
  #decoder: TextDecoder;
  #asciiSoFar = true;
  #first = true;

  constructor(encoding: TextEncodingName = 'utf-8', restarted = false) {
    this.encoding = encoding;
    this.#decoder = encoding === 'utf-8' ? new TextDecoder('utf-8', { fatal: true }) : new TextDecoder('windows-1252');
    if (restarted)
      this.notice =
        'The file mixes UTF-8 text with bytes that are not UTF-8, so it was read as Windows-1252 throughout: ' +
        'letters that were written in UTF-8 may look wrong (“Ã©” instead of “é”). Check the text columns, or save the file as CSV UTF-8.';
  }

  decode(bytes: Uint8Array, last: boolean): string | typeof RESTART {
    let slice = bytes;
    const bom = this.#first && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
    // The Windows-1252 decoder would turn a UTF-8 BOM into “ï»¿” in the first header name.
    if (bom && this.encoding === 'windows-1252') slice = bytes.subarray(3);
    this.#first = false;
    if (this.encoding === 'windows-1252') return this.#decoder.decode(slice, { stream: !last });
    try {
      const text = this.#decoder.decode(slice, { stream: !last });
      if (this.#asciiSoFar && text.length !== slice.length - (bom ? 3 : 0)) this.#asciiSoFar = false;
      return text;
    } catch {
      // Only a TypeError for invalid data can come from a fatal decoder on a byte array.
      const loose = new TextDecoder('utf-8').decode(slice);
      const bad = loose.indexOf('\uFFFD');
      // eslint-disable-next-line no-control-regex
      if (bom || !this.#asciiSoFar || bad < 0 || /[^\x00-\x7f]/.test(loose.slice(0, bad))) return RESTART;
      this.encoding = 'windows-1252';
      this.#decoder = new TextDecoder('windows-1252');
      const text = this.#decoder.decode(slice, { stream: !last });
      const byte = slice[bad]!.toString(16).toUpperCase();
      this.notice =
        `The file is not UTF-8, so it was read as Windows-1252 (Western European), where byte 0x${byte} is “${text[bad]}”. ` +
        `Check that “${wordAround(text, bad)}” looks right; if not, save the file as CSV UTF-8.`;
      return text;
    }
  }
}
