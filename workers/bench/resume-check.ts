// Exact resume on the backend in use (the WASM threads test drives it in a browser, where threads
// exist): one run trained straight through, and one interrupted at a chosen step, checkpointed
// with the app's codec, restored into a fresh model and optimizer, and trained to the same end.
// Reports how far the two final weight sets differ. Uses the app's session and codec unchanged.
import * as tf from '@tensorflow/tfjs';
import type { CheckpointRecord } from '../../shared/db';
import { encodeCheckpoint, restoreInto } from '../checkpoint-codec';
import { TrainingSession } from '../session';
import type { ResumeCheckRequest, ResumeCheckResult } from './types';
import { build, makeWorkload, type Workload } from './workload';
import { TableSource } from '../data-source';
import { objectiveFor } from '../objective';

/** A seed other than the bench's own, for the control run. */
const CONTROL_SEED = 7;
/** No time-based checkpoints in the reference run: it must not stop or write anything. */
const NEVER_MS = Number.MAX_SAFE_INTEGER;

async function weightsOf(session: TrainingSession): Promise<Float32Array> {
  const flat = tf.tidy(() => tf.concat(session.model.getWeights().map((w) => w.reshape([-1]))));
  try {
    return (await flat.data()) as Float32Array;
  } finally {
    flat.dispose();
  }
}

function session(w: Workload, checkpointIntervalMs: number, restore?: Awaited<ReturnType<typeof restoreInto>>, built = build(w)): TrainingSession {
  return new TrainingSession({
    config: w.config,
    source: new TableSource(built.data),
    objective: objectiveFor(built.data.task, built.data.numOutputs),
    model: built.model,
    optimizer: built.optimizer,
    historyEverySteps: 1,
    checkpointIntervalMs,
    ...(restore ? { restored: restore } : {}),
  });
}

/** Trains to the end; returns the final weights and the steps taken. */
async function straight(w: Workload): Promise<{ weights: Float32Array; steps: number }> {
  const s = session(w, NEVER_MS);
  try {
    await s.run();
    return { weights: await weightsOf(s), steps: s.cursor.globalStep };
  } finally {
    s.dispose();
  }
}

/**
 * Trains to `interruptAt`, checkpoints there, throws the session away, restores the checkpoint
 * into fresh objects and trains to the end. A checkpoint hook runs after every step (interval 0),
 * so the stop lands exactly on `interruptAt`.
 */
async function interrupted(w: Workload, interruptAt: number): Promise<{ weights: Float32Array; checkpointStep: number }> {
  const first = session(w, 0);
  let record: CheckpointRecord | null = null;
  first.setHooks({
    progress: () => undefined,
    checkpoint: async () => {
      if (record || first.cursor.globalStep < interruptAt) return;
      const meta = { jobId: 'resume-check', seq: 1, configHash: w.configHash, datasetFingerprint: w.dataset.fingerprint, createdAt: 0 };
      record = await encodeCheckpoint(first, w.config.optimizer, meta);
      first.requestStop('pause');
    },
  });
  try {
    await first.run();
  } finally {
    first.dispose();
  }
  const saved = record as CheckpointRecord | null;
  if (!saved) throw new Error(`The run ended before step ${interruptAt}; choose an earlier interruption.`);
  const built = build(w);
  const restored = await restoreInto(saved, built.model, built.optimizer, w.config.optimizer);
  const second = session(w, NEVER_MS, restored, built);
  try {
    await second.run();
    return { weights: await weightsOf(second), checkpointStep: saved.cursor.globalStep };
  } finally {
    second.dispose();
  }
}

/** Largest |a − b|, and largest |a − b| / max(|a|, |b|) over elements not both tiny. */
export function compareWeights(a: Float32Array, b: Float32Array): { maxAbsDiff: number; maxRelDiff: number; identical: boolean } {
  if (a.length !== b.length) throw new Error(`Weight counts differ: ${a.length} vs ${b.length}.`);
  let maxAbsDiff = 0;
  let maxRelDiff = 0;
  let identical = true;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (!Object.is(x, y)) identical = false;
    const d = Math.abs(x - y);
    maxAbsDiff = Math.max(maxAbsDiff, d);
    const scale = Math.max(Math.abs(x), Math.abs(y));
    // Below 1e-6 a weight is noise-sized; its relative difference says nothing.
    if (scale > 1e-6) maxRelDiff = Math.max(maxRelDiff, d / scale);
    else maxRelDiff = Math.max(maxRelDiff, d > 1e-6 ? Infinity : 0);
  }
  return { maxAbsDiff, maxRelDiff, identical };
}

export async function resumeCheck(request: ResumeCheckRequest, threadsInUse: () => number | null): Promise<ResumeCheckResult> {
  const w = await makeWorkload(request.model);
  const reference = await straight(w);
  const resumed = await interrupted(w, request.interruptAt);
  // The same comparison against a run with another seed must show a difference: the check can fail.
  const otherSeed = await straight(await makeWorkload(request.model, CONTROL_SEED));
  const diff = compareWeights(resumed.weights, reference.weights);
  const control = compareWeights(otherSeed.weights, reference.weights);
  return {
    backend: tf.getBackend() as ResumeCheckResult['backend'],
    threadsInUse: threadsInUse(),
    totalSteps: reference.steps,
    checkpointStep: resumed.checkpointStep,
    weights: reference.weights.length,
    ...diff,
    controlMaxRelDiff: control.maxRelDiff,
  };
}
