// Generates text one character at a time from a character model, streaming each character out.
// Between characters it yields a macrotask, exactly like the step loop between steps, so a running
// job's steps and generation's characters interleave: training keeps moving, and generation reads
// the live weights as they are at each character. Generation only runs forward passes (training
// off) and draws from its own seeded RNG, so it never changes the job's weights or its RNG.
import * as tf from '@tensorflow/tfjs';
import { SeededRng } from '../../shared/rng';
import { sampleNext, softmax, type GenerateRequest, type GenerateResult, type NextCharacters } from '../../shared/text-generation';
import type { CharTokenizer } from '../../shared/text';
import { yieldToEventLoop } from '../yield';

/** Where each character's weights come from; `current` may change between characters (a job that ends). */
export interface TextModelSource {
  tokenizer: CharTokenizer;
  sequenceLength: number;
  /** The model to use for the next character, and the training step of its weights. */
  current(): Promise<{ model: tf.LayersModel; step: number; weights: GenerateResult['weights'] }>;
}

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
  while (made < request.length && !stop.stopped) {
    const current = await source.current();
    if (stepAtStart < 0) stepAtStart = current.step;
    stepAtEnd = current.step;
    weights = current.weights;
    const logits = await nextLogits(current.model, ids, source.sequenceLength);
    const id = sampleNext(logits, request.temperature, request.topK, rng);
    ids.push(id);
    const c = source.tokenizer.charOf(id);
    text += c;
    made++;
    onChars(c);
    // Let a training step (and any pause, cancel or stop message) run before the next character.
    await yieldToEventLoop();
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
