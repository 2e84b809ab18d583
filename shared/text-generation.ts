// What a text generation request is, its checks, and how one next character is drawn from the
// model's logits (temperature, top-k, seeded). Plain TypeScript so the page can check a request
// before sending it and tests can check sampling without a model.
import type { SeededRng } from './rng';
import { UNKNOWN_ID } from './text';

export const MAX_GENERATE_CHARS = 5000;
export const MAX_PROMPT_CHARS = 2000;

export interface GenerateRequest {
  /** Text the model continues; characters it does not know become the unknown token. */
  prompt: string;
  /** Characters to generate. */
  length: number;
  /** 0 is greedy (always the most likely character); higher is more varied. */
  temperature: number;
  /** Draw only among the k most likely characters; 0 means all of them. */
  topK: number;
  /** The same seed, weights and request give the same text. */
  seed: number;
}

export interface GenerateResult {
  /** The generated characters (without the prompt). */
  text: string;
  /** Prompt characters the model does not know, which were replaced by the unknown token. */
  replaced: string[];
  /** True when Stop ended it before `length` characters. */
  stopped: boolean;
  /** Where the weights came from: the job's live model (training or paused in this worker), a checkpoint, or its initial weights. */
  weights: 'live' | 'checkpoint' | 'initial' | 'imported';
  /** The job's training step when the first and the last character were generated. */
  stepAtStart: number;
  stepAtEnd: number;
  /** Generated characters per second. */
  charsPerSec: number;
}

/** The model's distribution of the next character after a prompt (softmax of its logits, temperature 1). */
export interface NextCharacters {
  /** `characters[i]` has token id i; id 0 (the unknown character) is "". */
  characters: string[];
  probabilities: number[];
  replaced: string[];
  step: number;
}

export const DEFAULT_GENERATE: GenerateRequest = { prompt: 'The ', length: 200, temperature: 0.8, topK: 0, seed: 1 };

export function validateGenerateRequest(r: GenerateRequest): string[] {
  const problems: string[] = [];
  if (typeof r.prompt !== 'string' || r.prompt.length === 0) problems.push('Write a prompt (at least one character) for the model to continue.');
  else if ([...r.prompt].length > MAX_PROMPT_CHARS) problems.push(`The prompt may have at most ${MAX_PROMPT_CHARS} characters.`);
  if (!Number.isInteger(r.length) || r.length < 1 || r.length > MAX_GENERATE_CHARS) problems.push(`Length must be a whole number of characters from 1 to ${MAX_GENERATE_CHARS}.`);
  if (!(r.temperature >= 0 && r.temperature <= 5)) problems.push('Temperature must be from 0 (greedy) to 5.');
  if (!Number.isInteger(r.topK) || r.topK < 0 || r.topK > 1024) problems.push('Top-k must be a whole number from 0 (all characters) to 1024.');
  if (!Number.isInteger(r.seed) || r.seed < 0 || r.seed > 0xffffffff) problems.push('Seed must be a whole number from 0 to 4294967295.');
  return problems;
}

/** Softmax in double precision (the unknown token excluded when `skipUnknown`). */
export function softmax(logits: ArrayLike<number>, temperature = 1, skipUnknown = false): Float64Array {
  const p = new Float64Array(logits.length);
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (!(skipUnknown && i === UNKNOWN_ID)) max = Math.max(max, logits[i]!);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    if (skipUnknown && i === UNKNOWN_ID) continue;
    p[i] = Math.exp((logits[i]! - max) / temperature);
    sum += p[i]!;
  }
  for (let i = 0; i < p.length; i++) p[i] = p[i]! / sum;
  return p;
}

/**
 * The next token id: the most likely one at temperature 0 (ties go to the lower id), else one
 * drawn from the softmax at that temperature over the top-k ids. The unknown token is never
 * drawn: it stands for characters the model has never seen.
 */
export function sampleNext(logits: ArrayLike<number>, temperature: number, topK: number, rng: SeededRng): number {
  let best = -1;
  for (let i = 0; i < logits.length; i++) if (i !== UNKNOWN_ID && (best < 0 || logits[i]! > logits[best]!)) best = i;
  if (temperature === 0) return best;
  let candidates = Array.from({ length: logits.length }, (_, i) => i).filter((i) => i !== UNKNOWN_ID);
  if (topK > 0 && topK < candidates.length) candidates = candidates.sort((a, b) => logits[b]! - logits[a]! || a - b).slice(0, topK);
  const chosen = candidates.map((i) => logits[i]!);
  const p = softmax(chosen, temperature);
  const u = rng.next();
  let acc = 0;
  for (let j = 0; j < p.length; j++) {
    acc += p[j]!;
    if (u < acc) return candidates[j]!;
  }
  return candidates[candidates.length - 1]!;
}
