// Character-level text: the tokenizer (one token per Unicode code point, plus an "unknown" token),
// the facts the page shows about a text, and the checks that refuse unusable text with a clear
// message. Plain TypeScript, no DOM and no tfjs: the worker, the page and tests share it.
//
// Why code points and not grapheme clusters: a code point never splits a surrogate pair (an astral
// character such as 😀 or 𝔸 is one token), and joining the tokens gives back the exact text, so
// the round trip is lossless. Grapheme clusters (Intl.Segmenter) would make every base letter +
// combining mark pair, and every emoji sequence, a token of its own: a far larger vocabulary for
// the same text. A combining mark is its own token and attaches to whatever the model writes
// before it, which is how a combining mark behaves in the text anyway.
import { sniffFileType } from './package-format';

/** Distinct characters a text model may have (its vocabulary, the unknown token not counted). */
export const MAX_VOCABULARY = 256;
/** Id of the unknown token: a character the training text never contained (only prompts have them). */
export const UNKNOWN_ID = 0;
/** Characters of a text shown as its preview. */
export const PREVIEW_CHARS = 400;
/** Characters named in a "vocabulary too large" message before "and N more". */
const MAX_NAMED_CHARACTERS = 40;
/** Bytes looked at to recognise a file that is not text. */
const SNIFF_BYTES = 8192;
/** Text has almost no control bytes; more than this share of the sniffed bytes means binary. */
const MAX_CONTROL_SHARE = 0.01;

/** A text's characters (code points), in order. */
export function characters(text: string): string[] {
  return Array.from(text);
}

/** How a character is named in messages: itself when printable, else its code point. */
export function describeCharacter(c: string): string {
  const cp = c.codePointAt(0)!;
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  // Controls, spaces and lone combining marks are invisible on their own.
  if (/[\p{Cc}\p{Cf}\p{Z}\p{M}]/u.test(c)) return hex;
  return `“${c}” (${hex})`;
}

export interface CharacterCounts {
  /** Characters (code points) in the text. */
  total: number;
  /** Each distinct character and how often it occurs, most frequent first (ties by code point). */
  counts: [string, number][];
}

export function countCharacters(text: string): CharacterCounts {
  const map = new Map<string, number>();
  let total = 0;
  for (const c of text) {
    map.set(c, (map.get(c) ?? 0) + 1);
    total++;
  }
  const counts = [...map].sort((a, b) => b[1] - a[1] || a[0].codePointAt(0)! - b[0].codePointAt(0)!);
  return { total, counts };
}

/** Encodes and decodes text as token ids: 0 is unknown, character `vocabulary[i]` is id i + 1. */
export class CharTokenizer {
  readonly vocabulary: readonly string[];
  #ids: Map<string, number>;

  constructor(vocabulary: readonly string[]) {
    this.vocabulary = [...vocabulary];
    this.#ids = new Map(this.vocabulary.map((c, i) => [c, i + 1]));
    if (this.#ids.size !== this.vocabulary.length) throw new Error('A vocabulary lists a character twice.');
  }

  /** A vocabulary of every character in `text`, sorted by code point (so equal texts give equal ids). */
  static fromText(text: string): CharTokenizer {
    const chars = countCharacters(text).counts.map(([c]) => c);
    return new CharTokenizer(chars.sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
  }

  /** Tokens the model knows: the vocabulary plus the unknown token. */
  get size(): number {
    return this.vocabulary.length + 1;
  }

  idOf(c: string): number {
    return this.#ids.get(c) ?? UNKNOWN_ID;
  }

  /** Ids of the text's characters, and the distinct characters that became the unknown token. */
  encode(text: string): { ids: Int32Array; unknown: string[] } {
    const chars = characters(text);
    const ids = new Int32Array(chars.length);
    const unknown = new Set<string>();
    chars.forEach((c, i) => {
      const id = this.idOf(c);
      if (id === UNKNOWN_ID) unknown.add(c);
      ids[i] = id;
    });
    return { ids, unknown: [...unknown] };
  }

  /** The character of one id; the unknown token becomes U+FFFD (the replacement character). */
  charOf(id: number): string {
    return id >= 1 && id <= this.vocabulary.length ? this.vocabulary[id - 1]! : '\uFFFD';
  }

  decode(ids: ArrayLike<number>): string {
    let out = '';
    for (let i = 0; i < ids.length; i++) out += this.charOf(ids[i]!);
    return out;
  }
}

/** What the page shows about a text, and what its dataset stores besides the text itself. */
export interface TextFacts {
  /** Characters (code points). */
  characters: number;
  /** The vocabulary, sorted by code point: character i has token id i + 1. */
  vocabulary: string[];
  /** The first PREVIEW_CHARS characters. */
  preview: string;
}

export class TextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TextError';
  }
}

/** Refuses text that cannot train a character model: empty, or too many distinct characters. */
export function textFacts(text: string, name: string): TextFacts {
  if (text.trim() === '') throw new TextError(`${name} is empty (or only blank space): there is nothing to learn from.`);
  const { total, counts } = countCharacters(text);
  if (counts.length > MAX_VOCABULARY) {
    const over = counts.slice(MAX_VOCABULARY).map(([c]) => c);
    const named = over.slice(0, MAX_NAMED_CHARACTERS).map(describeCharacter).join(', ');
    const more = over.length > MAX_NAMED_CHARACTERS ? ` and ${over.length - MAX_NAMED_CHARACTERS} more` : '';
    throw new TextError(
      `${name} has ${counts.length} distinct characters; a character model here allows at most ${MAX_VOCABULARY}. ` +
        `The rarest ${over.length} over the limit are: ${named}${more}. Remove them (or choose a text in fewer scripts) and try again.`,
    );
  }
  const vocabulary = counts.map(([c]) => c).sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  return { characters: total, vocabulary, preview: characters(text.slice(0, PREVIEW_CHARS * 2)).slice(0, PREVIEW_CHARS).join('') };
}

const BINARY_KINDS: Record<string, string> = {
  zip: 'a ZIP archive',
  png: 'a PNG image',
  jpeg: 'a JPEG image',
  gif: 'a GIF image',
  pdf: 'a PDF document',
};

/** Throws a TextError when the first bytes show the file is not text. */
export function refuseBinary(bytes: Uint8Array, name: string): void {
  const head = bytes.subarray(0, SNIFF_BYTES);
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))
    throw new TextError(`${name} is UTF-16 text. Save it as UTF-8 text and choose it again.`);
  const kind = BINARY_KINDS[sniffFileType(head)];
  if (kind) throw new TextError(`${name} is ${kind}, not a text file.`);
  let control = 0;
  for (let i = 0; i < head.length; i++) {
    const c = head[i]!;
    if (c === 0) throw new TextError(`${name} contains NUL bytes (at byte ${i + 1}), so it is not a text file. Is it a binary file renamed .txt?`);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12) || c === 127) control++;
  }
  if (control > MAX_CONTROL_SHARE * head.length)
    throw new TextError(`${name} is mostly not text (${control} control bytes in its first ${head.length}). Is it a binary file renamed .txt?`);
}

/** Characters held out for validation: the last `validationSplit` of the text (at least 0). */
export function textSplit(totalChars: number, validationSplit: number): { train: number; val: number } {
  const val = Math.floor(totalChars * validationSplit);
  return { train: totalChars - val, val };
}

/**
 * Why a text cannot train with this sequence length (empty when it can): each part needs at least
 * one window of `sequenceLength` characters plus the character that follows it.
 */
export function textFitsSequence(totalChars: number, validationSplit: number, sequenceLength: number, name: string): string[] {
  const { train, val } = textSplit(totalChars, validationSplit);
  const need = sequenceLength + 1;
  if (train < need)
    return [`${name} has ${totalChars} characters; its training part (${train}) must be at least the sequence length (${sequenceLength}) + 1 characters. Use a longer text or a shorter sequence length.`];
  if (val > 0 && val < need)
    return [`The validation part of ${name} (the last ${val} characters) is shorter than the sequence length (${sequenceLength}) + 1. Use a longer text, a shorter sequence length, or a larger validation split.`];
  return [];
}
