// Character tokenizer, text checks and next-character sampling: what a user of the Text input and
// the generation panel would see, without a model.
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../shared/rng';
import { CharTokenizer, MAX_VOCABULARY, refuseBinary, textFacts, textFitsSequence, UNKNOWN_ID } from '../../shared/text';
import { sampleNext, validateGenerateRequest, DEFAULT_GENERATE } from '../../shared/text-generation';
import { kernelPlan, registryHas } from '../../workers/backend-kernels';

describe('character tokenizer', () => {
  it('round-trips text with astral characters, combining marks and line breaks exactly', () => {
    const text = 'Cafe\u0301 😀 𝔸𝔹 naïve — “quoted”\nnew line\tand 👩‍👩‍👧 family';
    const tok = CharTokenizer.fromText(text);
    const { ids, unknown } = tok.encode(text);
    expect(unknown).toEqual([]);
    expect(tok.decode(ids)).toBe(text);
    // An astral character is one token, never two halves of a surrogate pair.
    expect(tok.encode('😀').ids.length).toBe(1);
    expect(tok.vocabulary).toContain('😀');
    expect(tok.vocabulary.every((c) => !/^[\uD800-\uDFFF]$/.test(c))).toBe(true);
    // A combining mark is its own token, so "e" + U+0301 stays two tokens and decodes the same.
    expect(tok.encode('e\u0301').ids.length).toBe(2);
  });

  it('gives the same ids for the same text (vocabulary sorted by code point)', () => {
    const a = CharTokenizer.fromText('banana');
    expect(a.vocabulary).toEqual(['a', 'b', 'n']);
    expect(Array.from(a.encode('nab').ids)).toEqual([3, 1, 2]);
  });

  it('maps characters the text never had to the unknown token and names them', () => {
    const tok = CharTokenizer.fromText('abc');
    const { ids, unknown } = tok.encode('abz😀a');
    expect(Array.from(ids)).toEqual([1, 2, UNKNOWN_ID, UNKNOWN_ID, 1]);
    expect(unknown).toEqual(['z', '😀']);
    expect(tok.decode(ids)).toBe('ab\uFFFD\uFFFDa');
  });
});

describe('text checks', () => {
  it('refuses an empty or blank text', () => {
    expect(() => textFacts('', '“a.txt”')).toThrow(/“a.txt” is empty/);
    expect(() => textFacts(' \n\t ', '“a.txt”')).toThrow(/empty/);
  });

  it('refuses a vocabulary over the limit and names the rarest characters over it', () => {
    // 300 distinct CJK characters, the last 44 of them once, the rest twice.
    let text = '';
    for (let i = 0; i < 300; i++) text += String.fromCodePoint(0x4e00 + i).repeat(i < MAX_VOCABULARY ? 2 : 1);
    let message = '';
    try {
      textFacts(text, '“cjk.txt”');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('300 distinct characters');
    expect(message).toContain(`at most ${MAX_VOCABULARY}`);
    expect(message).toContain(`“${String.fromCodePoint(0x4e00 + MAX_VOCABULARY)}”`);
    expect(message).toContain('and 4 more');
  });

  it('describes a text: characters, vocabulary and preview', () => {
    const facts = textFacts('hello 😀 world', 'x');
    expect(facts.characters).toBe(13);
    expect(facts.vocabulary).toEqual([' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w', '😀']);
    expect(facts.preview).toBe('hello 😀 world');
  });

  it('refuses binary files by their bytes', () => {
    expect(() => refuseBinary(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2]), '“x.txt”')).toThrow(/PNG image/);
    expect(() => refuseBinary(new Uint8Array([65, 66, 0, 67]), '“x.txt”')).toThrow(/NUL bytes/);
    expect(() => refuseBinary(new TextEncoder().encode('plain text\n'), '“x.txt”')).not.toThrow();
  });

  it('refuses a text shorter than the sequence length', () => {
    expect(textFitsSequence(30, 0.1, 40, '“short”')[0]).toMatch(/“short” has 30 characters; its training part \(27\) must be at least the sequence length \(40\) \+ 1/);
    expect(textFitsSequence(1000, 0.1, 40, 'x')).toEqual([]);
    expect(textFitsSequence(300, 0.1, 40, 'x')[0]).toMatch(/validation part/);
  });
});

describe('next-character sampling', () => {
  const logits = [5, 1, 3, 2.9, -1];

  it('temperature 0 is greedy: always the most likely character (never the unknown token)', () => {
    const rng = SeededRng.fromSeed(1);
    for (let i = 0; i < 20; i++) expect(sampleNext(logits, 0, 0, rng)).toBe(2);
  });

  it('the same seed draws the same characters; another seed differs', () => {
    const draw = (seed: number): number[] => {
      const rng = SeededRng.fromSeed(seed);
      return Array.from({ length: 50 }, () => sampleNext(logits, 1.5, 0, rng));
    };
    expect(draw(3)).toEqual(draw(3));
    expect(draw(3)).not.toEqual(draw(4));
    expect(draw(3)).not.toContain(UNKNOWN_ID);
  });

  it('top-k draws only among the k most likely characters', () => {
    const rng = SeededRng.fromSeed(9);
    const seen = new Set(Array.from({ length: 200 }, () => sampleNext(logits, 5, 2, rng)));
    expect([...seen].sort()).toEqual([2, 3]);
  });

  it('checks a request in words', () => {
    expect(validateGenerateRequest(DEFAULT_GENERATE)).toEqual([]);
    expect(validateGenerateRequest({ ...DEFAULT_GENERATE, prompt: '', length: 0, temperature: -1 })).toHaveLength(3);
  });
});

describe('backends for text models', () => {
  it("skips tfjs 4.22's WASM, which has no UnsortedSegmentSum (the embedding's gradient), and says so", () => {
    expect(registryHas('UnsortedSegmentSum', 'wasm')).toBe(false);
    const plan = kernelPlan('rnn', ['cpu', 'wasm'], registryHas);
    expect(plan.allowed).toEqual(['cpu']);
    expect(plan.excluded[0]!.reason).toBe('WASM cannot train recurrent layers (it has no UnsortedSegmentSum kernel)');
  });
});
