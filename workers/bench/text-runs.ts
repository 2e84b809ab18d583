// One backend's text bench, in a fresh worker: the recurrent preset through the app's loop against
// a bare model.fit on the same windows (loop-run.ts and fit-run.ts, as for the MLPs); generation
// alone from the paused model; and training alone against training while the app's generation
// runs in the same worker, in alternating windows of one session. A backend that lacks a kernel
// recurrent layers need (WASM: UnsortedSegmentSum) records every part as unsupported with the
// app's own reason (workers/backend-kernels.ts).
import * as tf from '@tensorflow/tfjs';
import { hashConfig, type TrainConfig } from '../../shared/config';
import type { BackendName } from '../../shared/protocol';
import { TEXT_SAMPLE_CONFIG } from '../../shared/samples';
import type { GenerateRequest } from '../../shared/text-generation';
import { kernelPlan, registryHas } from '../backend-kernels';
import type { TrainingSession } from '../session';
import { generateText, type StopFlag, type TextModelSource } from '../text/generate';
import { textDataset } from '../text/text-dataset';
import type { TextSource } from '../text/text-source';
import { openBenchDb, resetBenchDbs } from './bench-db';
import { runFit } from './fit-run';
import { newSession, runLoop, writeSessionCheckpoint, type CheckpointTarget } from './loop-run';
import type { TextConcurrentResult, TextGenerateResult, TextRunRequest, TextRunResult, TextSpec, TextTrainResult, TextWindow } from './text-types';
import { samplesForSteps, type RunSpec, type Workload } from './workload';

export interface TextDeps {
  useBackend: (backend: BackendName) => Promise<string | null>;
  /** The text of a sample file the app serves (samples/moby-dick-ch1-30.txt). */
  sampleText: () => Promise<string>;
}

/** The prompt and sampling every generation of the bench uses (the generate panel's defaults, seeded). */
const PROMPT: Omit<GenerateRequest, 'length'> = { prompt: 'Call me Ishmael. ', temperature: 0.8, topK: 0, seed: 1 };

const NO_TRAIN: Omit<TextTrainResult, 'supported' | 'reason'> = { params: null, sequenceLength: null, loop: null, fit: null, charsPerSec: null, fitCharsPerSec: null, loopOverFit: null };
const NO_GENERATE: Omit<TextGenerateResult, 'supported' | 'reason'> = { chars: null, ms: null, charsPerSec: null };
const NO_CONCURRENT: Omit<TextConcurrentResult, 'supported' | 'reason'> = {
  windows: null, aloneCharsPerSec: null, generatingCharsPerSec: null, ratio: null, generateCharsPerSec: null,
};

export function textConfig(spec: TextSpec): TrainConfig {
  const m = TEXT_SAMPLE_CONFIG.model;
  if (m.kind !== 'rnn') throw new Error('The text preset is not a recurrent model.');
  return {
    ...TEXT_SAMPLE_CONFIG,
    model: { ...m, units: spec.units ?? m.units, sequenceLength: spec.sequenceLength ?? m.sequenceLength },
    batchSize: spec.batchSize,
    epochs: spec.epochs,
  };
}

async function textWorkload(spec: TextSpec, text: string): Promise<Workload<RunSpec>> {
  const dataset = await textDataset(text.slice(0, spec.characters), {
    name: 'bench text', sourceId: 'bench-text', source: 'sample', fileName: null, notices: [], now: Date.now(),
  });
  const config = textConfig(spec);
  return { spec: { id: spec.id, budgetMs: spec.budgetMs, maxMs: spec.maxMs }, dataset, config, configHash: await hashConfig(config) };
}

/**
 * The session's own model, read afresh at every character as the app's live source does;
 * `training` as the app reports it for a running job.
 */
function liveSource(session: TrainingSession, training: boolean): TextModelSource {
  const source = session.source as TextSource;
  return {
    tokenizer: source.tokenizer,
    sequenceLength: source.sequenceLength,
    current: () => Promise.resolve({ model: session.model, step: session.cursor.globalStep, weights: 'live' as const, training }),
  };
}

async function benchTrain(w: Workload<RunSpec>, backend: BackendName, target: CheckpointTarget): Promise<{ result: TextTrainResult; session: TrainingSession }> {
  const loop = await runLoop(w, { backend, models: [], checkpointReps: 0, memoryEpochs: 0 }, target, null);
  try {
    const { steady } = loop.result;
    const L = (loop.session.source as TextSource).sequenceLength;
    const fit = await runFit(w, steady.fromStep, steady.fromStep + steady.steps);
    const result: TextTrainResult = {
      supported: true, reason: null, params: loop.session.model.countParams(), sequenceLength: L, loop: loop.result, fit,
      charsPerSec: steady.samplesPerSec * L, fitCharsPerSec: fit.steady.samplesPerSec * L, loopOverFit: steady.samplesPerSec / fit.steady.samplesPerSec,
    };
    return { result, session: loop.session };
  } catch (err) {
    loop.session.dispose();
    throw err;
  }
}

async function benchGenerate(session: TrainingSession, chars: number): Promise<TextGenerateResult> {
  const t0 = performance.now();
  const r = await generateText(liveSource(session, false), { ...PROMPT, length: chars }, () => undefined);
  const ms = performance.now() - t0;
  return { supported: true, reason: null, chars: r.text.length, ms, charsPerSec: (r.text.length * 1000) / ms };
}

/** Generates again and again from the live model until stopped; the characters it made. */
async function generateUntil(source: TextModelSource, stop: StopFlag, length: number): Promise<number> {
  let made = 0;
  while (!stop.stopped) made += (await generateText(source, { ...PROMPT, length }, () => undefined, stop)).text.length;
  return made;
}

/**
 * Waits until the GPU has run every queued training step: reading a value computed from the
 * weights waits for all work queued before it. Without it a window on WebGL or WebGPU timed how
 * fast steps were queued, and the next window paid for them.
 */
async function drainQueuedSteps(session: TrainingSession): Promise<void> {
  const t = tf.tidy(() => session.model.trainableWeights[0]!.read().sum());
  try {
    await t.data();
  } finally {
    t.dispose();
  }
}

/**
 * Alternating windows of one session after its warm-up: train `windowSteps` steps alone, then
 * the same number while generation runs, `rounds` times. Each window ends at a breakpoint, so
 * both kinds hold the same whole steps whatever a step costs, and ends once the GPU has run
 * them; checkpoints are written at the app's cadence.
 */
async function benchConcurrent(w: Workload<RunSpec>, spec: TextSpec, backend: BackendName, target: CheckpointTarget, generateChars: number): Promise<TextConcurrentResult> {
  const session = newSession(w);
  const { numTrain, sequenceLength: L } = session.source as TextSource;
  const trainedChars = (from: number, to: number): number => (samplesForSteps(to, numTrain, w.config.batchSize) - samplesForSteps(from, numTrain, w.config.batchSize)) * L;
  const started = performance.now();
  let warming = true;
  session.setHooks({
    progress: (p) => {
      if (warming && (p.epoch >= 1 || performance.now() - started >= spec.maxMs - spec.budgetMs)) session.requestStop('pause');
    },
    checkpoint: async () => {
      await writeSessionCheckpoint(w, session, target, backend);
    },
  });
  try {
    await session.run();
    await drainQueuedSteps(session);
    warming = false;
    const windows: TextWindow[] = [];
    for (let i = 0; i < 2 * spec.rounds && !session.finished; i++) {
      const generating = i % 2 === 1;
      const stop: StopFlag = { stopped: false };
      const fromStep = session.cursor.globalStep;
      session.breakpointStep = fromStep + spec.windowSteps;
      const t0 = performance.now();
      const generation = generating ? generateUntil(liveSource(session, true), stop, generateChars) : Promise.resolve(0);
      await session.run();
      await drainQueuedSteps(session);
      const ms = performance.now() - t0;
      stop.stopped = true;
      const generated = await generation;
      const chars = trainedChars(fromStep, session.cursor.globalStep);
      windows.push({ generating, steps: session.cursor.globalStep - fromStep, chars, ms, charsPerSec: (chars * 1000) / ms, generated });
    }
    const rate = (gen: boolean): number | null => {
      const ws = windows.filter((x) => x.generating === gen);
      const ms = ws.reduce((a, x) => a + x.ms, 0);
      return ws.length > 0 && ms > 0 ? (ws.reduce((a, x) => a + x.chars, 0) * 1000) / ms : null;
    };
    const alone = rate(false);
    const during = rate(true);
    const genWindows = windows.filter((x) => x.generating);
    const genMs = genWindows.reduce((a, x) => a + x.ms, 0);
    return {
      supported: true, reason: session.finished ? 'the run finished before every window was measured' : null, windows,
      aloneCharsPerSec: alone, generatingCharsPerSec: during, ratio: alone && during !== null ? during / alone : null,
      generateCharsPerSec: genMs > 0 ? (genWindows.reduce((a, x) => a + x.generated, 0) * 1000) / genMs : null,
    };
  } finally {
    session.dispose();
  }
}

/** Runs one part, turning a failure into a reason so the other parts still run. */
async function part<T extends { supported: boolean; reason: string | null }>(empty: Omit<T, 'supported' | 'reason'>, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    return { ...empty, supported: true, reason: `failed: ${err instanceof Error ? err.message : String(err)}` } as T;
  }
}

function unsupported(backend: BackendName, available: boolean, reason: string): TextRunResult {
  return {
    backend, available, reason: available ? null : reason,
    train: { supported: false, reason, ...NO_TRAIN }, generate: { supported: false, reason, ...NO_GENERATE }, whileGenerating: { supported: false, reason, ...NO_CONCURRENT },
  };
}

export async function runText(request: TextRunRequest, deps: TextDeps): Promise<TextRunResult> {
  const { backend, text: spec } = request;
  const missing = kernelPlan('rnn', [backend], registryHas).excluded[0]?.reason ?? null;
  if (missing) return unsupported(backend, true, missing);
  const problem = await deps.useBackend(backend);
  if (problem) return unsupported(backend, false, problem);
  await resetBenchDbs();
  const db = await openBenchDb();
  const target = (id: string): CheckpointTarget => ({ db, jobId: `text-${backend}-${id}`, seq: { value: 0 } });
  try {
    const w = await textWorkload(spec, await deps.sampleText());
    let train: TextTrainResult;
    let generate: TextGenerateResult;
    try {
      const trained = await benchTrain(w, backend, target('train'));
      train = trained.result;
      // Generation alone, from the model the loop just trained and paused.
      generate = await part<TextGenerateResult>(NO_GENERATE, () => benchGenerate(trained.session, spec.generateChars)).finally(() => trained.session.dispose());
    } catch (err) {
      train = { supported: true, reason: `failed: ${err instanceof Error ? err.message : String(err)}`, ...NO_TRAIN };
      generate = { supported: true, reason: 'not measured: the training part failed', ...NO_GENERATE };
    }
    const whileGenerating = await part<TextConcurrentResult>(NO_CONCURRENT, () => benchConcurrent(w, spec, backend, target('concurrent'), spec.generateChars));
    return { backend, available: true, reason: null, train, generate, whileGenerating };
  } finally {
    db.close();
    await resetBenchDbs();
  }
}
