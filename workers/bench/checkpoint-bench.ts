// Checkpoint cost on a trained session, isolated from training: encode, the app's one-transaction
// write, a raw IndexedDB put of the same bytes as the baseline, and a restore (read, verify,
// restoreInto a fresh model and optimizer).
import * as tf from '@tensorflow/tfjs';
import { listCheckpoints } from '../../shared/db';
import type { BackendName } from '../../shared/protocol';
import { restoreInto, verifyCheckpoint } from '../checkpoint-codec';
import { disposeData } from '../data';
import type { TrainingSession } from '../session';
import { timedRawGet, timedRawPut, type RawDb } from './bench-db';
import { writeSessionCheckpoint, type CheckpointTarget } from './loop-run';
import type { CheckpointResult } from './types';
import { build, type Workload } from './workload';

const MB = 1024 * 1024;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The record's variable-size payload as one buffer: what the raw put stores. */
function payload(weightData: ArrayBuffer, optimizerData: ArrayBuffer): ArrayBuffer {
  const out = new Uint8Array(weightData.byteLength + optimizerData.byteLength);
  out.set(new Uint8Array(weightData), 0);
  out.set(new Uint8Array(optimizerData), weightData.byteLength);
  return out.buffer;
}

async function timeRestore(w: Workload, target: CheckpointTarget): Promise<CheckpointResult['restore']> {
  const t0 = performance.now();
  const newest = (await listCheckpoints(target.db, target.jobId))[0];
  if (!newest) throw new Error('The checkpoint bench found no checkpoint to restore.');
  const t1 = performance.now();
  if (!(await verifyCheckpoint(newest))) throw new Error('The bench checkpoint failed its checksum.');
  const t2 = performance.now();
  const b = build(w);
  try {
    const t3 = performance.now();
    await restoreInto(newest, b.model, b.optimizer, w.config.optimizer);
    // Restored weights are uploaded lazily; one read-back makes the restore complete on the device.
    const probe = b.model.weights[0]!.read();
    await probe.data();
    const t4 = performance.now();
    return { readMs: t1 - t0, verifyMs: t2 - t1, restoreMs: t4 - t3, totalMs: t2 - t0 + (t4 - t3) };
  } finally {
    disposeData(b.data);
    b.optimizer.dispose();
    b.model.dispose();
  }
}

export async function benchCheckpoints(
  w: Workload,
  session: TrainingSession,
  target: CheckpointTarget,
  raw: RawDb,
  backend: BackendName,
  reps: number,
): Promise<CheckpointResult> {
  const encode: number[] = [];
  const write: number[] = [];
  const rawPut: number[] = [];
  let bytes = 0;
  let previous: ArrayBuffer | null = null;
  for (let i = 0; i < Math.max(1, reps); i++) {
    // Alternate the order (write, put | put, write | …): each timing then follows each kind of
    // operation equally often, so neither absorbs more of the other's deferred disk work.
    if (i % 2 === 1) rawPut.push(await timedRawPut(raw, `${target.jobId}-${i}`, previous!));
    const c = await writeSessionCheckpoint(w, session, target, backend);
    // The prune runs after the commit, while training goes on; it must not overlap a baseline.
    await c.pruned;
    bytes = c.bytes;
    encode.push(c.encodeMs);
    write.push(c.writeMs);
    previous = payload(c.record.weightData, c.record.optimizer.data);
    if (i % 2 === 0) rawPut.push(await timedRawPut(raw, `${target.jobId}-${i}`, previous));
  }
  const writeMs = median(write);
  const rawPutMs = median(rawPut);
  const writeMBps = bytes / MB / (writeMs / 1000);
  const rawPutMBps = bytes / MB / (rawPutMs / 1000);
  const tensorsBefore = tf.memory().numTensors;
  const restore = await timeRestore(w, target);
  const rawGetMs = await timedRawGet(raw, `${target.jobId}-${rawPut.length - 1}`);
  if (tf.memory().numTensors !== tensorsBefore) console.warn('Lathe bench: the restore left tensors behind');
  return {
    bytes,
    encodeMs: median(encode),
    writeMs,
    writeMBps,
    rawPutMs,
    rawPutMBps,
    ratio: writeMBps / rawPutMBps,
    restore,
    rawGetMs,
  };
}
