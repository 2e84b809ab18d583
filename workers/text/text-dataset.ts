// A text file (or pasted text) as a stored text dataset: bytes checked for being text at all,
// decoded as UTF-8 with the tables' Windows-1252 fallback (and its notice), line endings made "\n",
// its vocabulary and facts computed, fingerprinted. Refusals are TextErrors; nothing is stored.
import { datasetId, fingerprintText, type DatasetSource, type TextDataset } from '../../shared/dataset';
import { refuseBinary, textFacts, TextError } from '../../shared/text';
import { ChunkDecoder, RESTART } from '../table/decode';

/** Text files larger than this are refused: the whole text is kept in worker memory as token ids. */
export const MAX_TEXT_BYTES = 64 * 1024 * 1024;

/** Bytes to text: UTF-8, else Windows-1252 with a notice; a binary file is refused by name. */
export function decodeTextBytes(bytes: Uint8Array, name: string): { text: string; notices: string[] } {
  if (bytes.byteLength === 0) throw new TextError(`${name} is empty: there is nothing to learn from.`);
  if (bytes.byteLength > MAX_TEXT_BYTES) throw new TextError(`${name} is ${(bytes.byteLength / 1e6).toFixed(1)} MB; a text may be at most ${MAX_TEXT_BYTES / 1e6} MB.`);
  refuseBinary(bytes, name);
  let decoder = new ChunkDecoder('utf-8');
  let text = decoder.decode(bytes, true);
  if (text === RESTART) {
    decoder = new ChunkDecoder('windows-1252', true);
    text = decoder.decode(bytes, true);
    if (text === RESTART) throw new TextError(`${name} could not be decoded.`);
  }
  // The fallback's notice speaks of CSV files; this is plain text.
  const notices = decoder.notice ? [decoder.notice.replace(/CSV UTF-8/g, 'UTF-8 text').replace(/the text columns/g, 'the text')] : [];
  return { text: text.replace(/^\uFEFF/, ''), notices };
}

export interface TextDatasetOptions {
  name: string;
  sourceId: string;
  source: DatasetSource;
  fileName: string | null;
  notices: string[];
  now: number;
  sampleId?: string;
}

/** A decoded text as a dataset; Windows line endings become "\n" (one token per line break). */
export async function textDataset(raw: string, o: TextDatasetOptions): Promise<TextDataset> {
  const text = raw.replace(/\r\n?/g, '\n');
  const facts = textFacts(text, o.fileName ? `“${o.fileName}”` : 'The text');
  const fingerprint = await fingerprintText(text);
  return {
    id: datasetId(o.sourceId, fingerprint),
    name: o.name,
    kind: 'text',
    fingerprint,
    createdAt: o.now,
    source: o.source,
    fileName: o.fileName,
    byteLength: new TextEncoder().encode(text).byteLength,
    rows: facts.characters,
    notices: o.notices,
    sampleId: o.sampleId ?? null,
    ...facts,
    text,
  };
}
