// Generates text one character at a time from a character model, streaming each character out.
// It yields macrotasks like the step loop between steps, so a running job's steps and generation's
// characters interleave: training keeps moving (generation keeps to MAX_GENERATION_SHARE of the
// time), and generation reads the live weights as they are at each character. Generation only runs forward passes (training
// off) and draws from its own seeded RNG, so it never changes the job's weights or its RNG.
//
// Each character costs one recurrent time step (char-stepper.ts carries the layers' states), not
// a forward pass over a whole window, which cost as much as a sizeable part of a training step;
// and one character per step starved generation whenever steps were slow.
// The context stays what the model was trained on: at most `sequenceLength` characters from zero
// states. When the state holds that many, it restarts from the latest half window (`contextAfter`).
import * as tf from '@tensorflow/tfjs';
import { SeededRng } from '../../shared/rng';
import { sampleNext, softmax, type GenerateRequest, type GenerateResult, type NextCharacters } from '../../shared/text-generation';
import type { CharTokenizer } from '../../shared/text';
import { yieldToEventLoop } from '../yield';
import { CharStepper } from './char-stepper';

/** Where each character's weights come from; `current` may change between characters (a job that ends). */
export interface TextModelSource {
  tokenizer: CharTokenizer;
  sequenceLength: number;
  /**
   * The model to use for the next character, the training step of its weights, and whether a
   * run is training that model right now (then generation keeps to its share of the time).
   */
  current(): Promise<{ model: tf.LayersModel; step: number; weights: GenerateResult['weights']; training?: boolean }>;
}

/**
 * While the job trains in the same worker, generation takes at most this share of the wall time
 * (the target: training keeps at least 0.8 of its speed). Characters come in bursts
 * between training steps, as many as the share allows, so a slow step does not mean one
 * character per step, and a slow character waits until training has had its share.
 */
export const MAX_GENERATION_SHARE = 0.1;
/** The longest burst of characters without a yield: a pause, cancel or Stop waits at most this, in ms. */
export const MAX_BURST_MS = 200;

export interface StopFlag {
  stopped: boolean;
}

/** Logits of the character after `ids` (its last `sequenceLength` ids), read back asynchronously. */
export async function nextLogits(model: tf.LayersModel, ids: ArrayLike<number>, sequenceLength: number): Promise<Float32Array> {
  const from = Math.max(0, ids.length - sequenceLength);
  const context = Float32Array.from({ length: ids.length - from }, (_, i) => ids[from + i]!);
  const out = tf.tidy(() => {
    const logits = model.apply(tf.tensor2d(context, [1, context.length]), { training: false }) as tf.Tensor3D;
    return logits.slice([0, context.length - 1, 0], [1, 1, -1]).reshape([-1]);
  });
  try {
    return (await out.data()) as Float32Array;
  } finally {
    out.dispose();
  }
}

/**
 * Characters of context the state holds for the next character, after one more was added to a
 * state that held `held` (of windows of `sequenceLength`): one more, or, at a full window, a
 * restart from the latest half window (the new character included).
 */
export function contextAfter(held: number, sequenceLength: number): number {
  return held < sequenceLength ? held + 1 : Math.max(1, Math.floor(sequenceLength / 2));
}

/** The logits for the next character, fed the stepper's way; held by a caller-owned stepper. */
class ContextRunner {
  #stepper: CharStepper | null = null;

  /**
   * Logits after `ids`, of which the state must hold the latest `held` (`contextAfter`). The state
   * carries on from the last call when the model is the same and only the newest id is new.
   */
  async logits(model: tf.LayersModel, ids: readonly number[], held: number): Promise<Float32Array> {
    if (this.#stepper?.model !== model) {
      this.#stepper?.dispose();
      this.#stepper = CharStepper.for(model);
    }
    const s = this.#stepper;
    // A model of another shape: a whole window per character, as before.
    if (!s) return nextLogits(model, ids.slice(ids.length - held), held);
    let out: tf.Tensor1D;
    if (s.held > 0 && held === s.held + 1) out = s.feed(ids.slice(ids.length - 1));
    else {
      s.reset();
      out = s.feed(ids.slice(ids.length - held));
    }
    try {
      return (await out.data()) as Float32Array;
    } finally {
      out.dispose();
    }
  }

  dispose(): void {
    this.#stepper?.dispose();
    this.#stepper = null;
  }
}

/**
 * Keeps generation's time to a share of the wall time while training shares the worker. Its time
 * is counted per turn, from getting the worker back to handing it over (the read-back, sampling
 * and streaming included), not per forward pass alone.
 */
class SharePacer {
  #since: number | null = null;
  #turnStart: number | null = null;
  #busyMs = 0;
  constructor(readonly share: number) {}

  /**
   * After a character that began at `start`: carries on at once while generation is within its
   * share (and the turn is short); otherwise hands the worker to training, and waits if
   * generation is over its share.
   */
  async after(start: number): Promise<void> {
    this.#since ??= start;
    this.#turnStart ??= start;
    const now = performance.now();
    const turnMs = now - this.#turnStart;
    if (this.#busyMs + turnMs < this.share * (now - this.#since) && turnMs < MAX_BURST_MS) return;
    this.#busyMs += turnMs;
    await yieldToEventLoop();
    const waitMs = this.#busyMs / this.share - (performance.now() - this.#since);
    if (waitMs > 1) await new Promise<void>((resolve) => setTimeout(resolve, waitMs));
    this.#turnStart = performance.now();
  }

  /** Nothing trains: the next training stretch starts afresh. */
  idle(): void {
    this.#since = null;
    this.#turnStart = null;
    this.#busyMs = 0;
  }
}

export async function generateText(
  source: TextModelSource,
  request: GenerateRequest,
  onChars: (chars: string) => void,
  stop: StopFlag = { stopped: false },
): Promise<GenerateResult> {
  const { ids: promptIds, unknown } = source.tokenizer.encode(request.prompt);
  const ids = Array.from(promptIds);
  const rng = SeededRng.fromSeed(request.seed);
  let text = '';
  let stepAtStart = -1;
  let stepAtEnd = -1;
  let weights: GenerateResult['weights'] = 'live';
  const started = performance.now();
  let made = 0;
  const L = source.sequenceLength;
  const runner = new ContextRunner();
  const pacer = new SharePacer(MAX_GENERATION_SHARE);
  let held = Math.min(ids.length, L);
  try {
    while (made < request.length && !stop.stopped) {
      const current = await source.current();
      // Timed from here: whatever ran before `current` resolved (a step, in a bench) is not this character's.
      const charStart = performance.now();
      if (stepAtStart < 0) stepAtStart = current.step;
      stepAtEnd = current.step;
      weights = current.weights;
      const logits = await runner.logits(current.model, ids, held);
      const id = sampleNext(logits, request.temperature, request.topK, rng);
      ids.push(id);
      held = contextAfter(held, L);
      const c = source.tokenizer.charOf(id);
      text += c;
      made++;
      onChars(c);
      if (current.training) await pacer.after(charStart);
      else {
        pacer.idle();
        // Let any pause, cancel or Stop message in before the next character.
        await yieldToEventLoop();
      }
    }
  } finally {
    runner.dispose();
  }
  const seconds = (performance.now() - started) / 1000;
  return { text, replaced: unknown, stopped: made < request.length, weights, stepAtStart: Math.max(0, stepAtStart), stepAtEnd: Math.max(0, stepAtEnd), charsPerSec: seconds > 0 ? made / seconds : 0 };
}

/** The next-character distribution after a prompt, as the exported model gives it (softmax of the last logits). */
export async function nextCharacters(source: TextModelSource, prompt: string): Promise<NextCharacters> {
  const { ids, unknown } = source.tokenizer.encode(prompt);
  const current = await source.current();
  const logits = await nextLogits(current.model, ids, source.sequenceLength);
  return {
    characters: ['', ...source.tokenizer.vocabulary],
    probabilities: Array.from(softmax(logits)),
    replaced: unknown,
    step: current.step,
  };
}
