// tf.memory() at every epoch end of the app's loop, hooks and checkpoints on. The loop reads back
// asynchronously, so a reading taken mid-run counts read-backs in flight; this run pauses at each
// epoch boundary instead (run() drains its reads before it returns) and reads memory at rest.
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../../shared/protocol';
import { PROGRESS_INTERVAL_MS } from '../session';
import { newSession, writeSessionCheckpoint, type CheckpointTarget } from './loop-run';
import type { MemoryReading, MemoryResult } from './types';
import { makeWorkload, type Workload } from './workload';

/** Steps per epoch of the memory run: short epochs, so every backend gets many epoch ends soon. */
const STEPS_PER_EPOCH = 4;

/** "Flat": the same tensor count at every epoch end after the first; unknown with < 3 readings. */
export function isFlat(readings: MemoryReading[]): boolean | null {
  if (readings.length < 3) return null;
  const later = readings.slice(1).map((r) => r.numTensors);
  return later.every((n) => n === later[0]);
}

export async function runMemory(w: Workload, epochs: number, target: CheckpointTarget, backend: BackendName): Promise<MemoryResult> {
  const { spec } = w;
  // The same model and batch size; only enough rows for STEPS_PER_EPOCH training batches.
  const samples = Math.ceil((STEPS_PER_EPOCH * spec.batchSize) / (1 - spec.validationSplit)) + 1;
  const short = await makeWorkload({ ...spec, samples: Math.min(spec.samples, samples), epochs });
  const tensorsBefore = tf.memory().numTensors;
  // A clock that moves one progress interval per call, so progress fires after every step and
  // the pause below lands on the first step boundary of each new epoch.
  let skew = 0;
  const session = newSession(short, () => performance.now() + (skew += PROGRESS_INTERVAL_MS));
  let epochSeen = 0;
  session.setHooks({
    progress: (p) => {
      if (p.epoch > epochSeen) {
        epochSeen = p.epoch;
        session.requestStop('pause');
      }
    },
    checkpoint: async () => {
      await writeSessionCheckpoint(short, session, target, backend);
    },
  });
  const perEpoch: MemoryReading[] = [];
  try {
    while (!session.finished) {
      await session.run();
      const m = tf.memory();
      perEpoch.push({ epoch: session.cursor.epoch, step: session.cursor.globalStep, numTensors: m.numTensors, numBytes: m.numBytes });
    }
  } finally {
    session.dispose();
  }
  return { perEpoch, flat: isFlat(perEpoch), tensorsBefore, leakedTensors: tf.memory().numTensors - tensorsBefore };
}
