// The text section of the bench: what the page asks the bench worker for and what it reports.
// Plain types; bench/text-section.mjs relays them and documents the same shape (TEXT_SCHEMA).
import type { BackendName } from '../../shared/protocol';
import type { FitResult, LoopResult } from './types';

/** The recurrent preset (shared/samples.ts TEXT_SAMPLE_CONFIG) on the Moby-Dick sample's first characters. */
export interface TextSpec {
  id: string;
  /** Characters of the sample text trained on (its first ones). */
  characters: number;
  /** Overrides of the preset's layer sizes (quick runs make the model small); null keeps the preset. */
  units: number | null;
  sequenceLength: number | null;
  batchSize: number;
  epochs: number;
  /** Steady window of the loop-vs-fit comparison, as for the MLPs; in ms. */
  budgetMs: number;
  maxMs: number;
  /** Characters generated from the paused model, timed alone. */
  generateChars: number;
  /**
   * Training alone and training while generating, alternated in one session after its first
   * epoch: `rounds` pairs of windows of `windowSteps` training steps each.
   */
  rounds: number;
  windowSteps: number;
}

export interface TextRunRequest {
  backend: BackendName;
  text: TextSpec;
}

export interface TextTrainResult {
  supported: boolean;
  reason: string | null;
  params: number | null;
  sequenceLength: number | null;
  loop: LoopResult | null;
  fit: FitResult | null;
  /** Next characters trained per second (windows/s × sequence length): the app's loop and bare fit. */
  charsPerSec: number | null;
  fitCharsPerSec: number | null;
  loopOverFit: number | null;
}

export interface TextGenerateResult {
  supported: boolean;
  reason: string | null;
  /** Characters generated from the paused model with nothing else running. */
  chars: number | null;
  ms: number | null;
  charsPerSec: number | null;
}

/** One window of the alternation: training steps and characters generated meanwhile. */
export interface TextWindow {
  generating: boolean;
  steps: number;
  /** Next characters trained (windows × sequence length). */
  chars: number;
  ms: number;
  /** Next characters trained per second in this window. */
  charsPerSec: number;
  /** Characters generated during the window (0 for the windows that train alone). */
  generated: number;
}

export interface TextConcurrentResult {
  supported: boolean;
  reason: string | null;
  windows: TextWindow[] | null;
  /** Training chars/s over the windows that train alone, and over those that also generate. */
  aloneCharsPerSec: number | null;
  generatingCharsPerSec: number | null;
  /** generatingCharsPerSec / aloneCharsPerSec; the target is ≥ 0.8. */
  ratio: number | null;
  /** Characters generated per second of the generating windows, while the job trained. */
  generateCharsPerSec: number | null;
}

export interface TextRunResult {
  backend: BackendName;
  available: boolean;
  reason: string | null;
  train: TextTrainResult;
  generate: TextGenerateResult;
  whileGenerating: TextConcurrentResult;
}
