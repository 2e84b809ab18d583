// Serializes a training session into a self-checking CheckpointRecord and restores one. Everything
// is read back from the device and encoded before any IndexedDB transaction opens.
import * as tf from '@tensorflow/tfjs';
import { canonicalJson, type OptimizerName } from '../shared/config';
import type { CheckpointRecord, TensorSpec } from '../shared/db';
import { sha256Hex } from '../shared/hash';
import { readOptimizerScalars, writeOptimizerScalars } from './model';
import type { SessionState, TrainingSession } from './session';

export interface CheckpointMeta {
  jobId: string;
  seq: number;
  configHash: string;
  datasetFingerprint: string;
  createdAt: number;
}

interface Encoded {
  specs: TensorSpec[];
  data: ArrayBuffer;
}

/**
 * Reads every tensor back in one transfer per dtype: on WebGPU each read-back is a mapAsync
 * round trip, and a checkpoint holds dozens of tensors.
 */
async function encodeTensors(named: { name: string; tensor: tf.Tensor }[]): Promise<Encoded> {
  for (const { name, tensor } of named) {
    if (tensor.dtype !== 'float32' && tensor.dtype !== 'int32' && tensor.dtype !== 'bool')
      throw new Error(`Cannot checkpoint a ${tensor.dtype} tensor (${name}).`);
  }
  const readGroup = async (dtype: 'float32' | 'int32'): Promise<Float32Array | Int32Array> => {
    const group = named.filter((n) => (dtype === 'float32' ? n.tensor.dtype === 'float32' : n.tensor.dtype !== 'float32'));
    if (group.length === 0) return dtype === 'float32' ? new Float32Array(0) : new Int32Array(0);
    const flat = tf.tidy(() => tf.concat(group.map((n) => n.tensor.cast(dtype).reshape([-1]))));
    try {
      return (await flat.data()) as Float32Array | Int32Array;
    } finally {
      flat.dispose();
    }
  };
  const [floats, ints] = await Promise.all([readGroup('float32'), readGroup('int32')]);
  const specs: TensorSpec[] = [];
  const total = named.reduce((n, { tensor }) => n + tensor.size * 4, 0);
  const data = new ArrayBuffer(total);
  let offset = 0;
  let fi = 0;
  let ii = 0;
  for (const { name, tensor } of named) {
    const dtype = tensor.dtype as TensorSpec['dtype'];
    const size = tensor.size;
    if (dtype === 'float32') {
      new Float32Array(data, offset, size).set(floats.subarray(fi, fi + size));
      fi += size;
    } else {
      new Int32Array(data, offset, size).set(ints.subarray(ii, ii + size));
      ii += size;
    }
    specs.push({ name, shape: [...tensor.shape], dtype });
    offset += size * 4;
  }
  return { specs, data };
}

/** Decodes tensors in spec order; the caller owns (and must dispose) them. */
export function decodeTensors(specs: TensorSpec[], data: ArrayBuffer): tf.Tensor[] {
  let offset = 0;
  return specs.map((spec) => {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const bytes = size * 4;
    if (offset + bytes > data.byteLength)
      throw new Error(`Checkpoint data is too short for ${spec.name} (${spec.shape.join('×')}).`);
    const slice = data.slice(offset, offset + bytes);
    offset += bytes;
    return spec.dtype === 'float32'
      ? tf.tensor(new Float32Array(slice), spec.shape, 'float32')
      : tf.tensor(new Int32Array(slice), spec.shape, spec.dtype);
  });
}

function checksumInput(c: Omit<CheckpointRecord, 'checksum'>): Uint8Array {
  // The buffers are hashed as raw bytes; the rest as canonical JSON.
  const { weightData: _weights, optimizer, ...rest } = c;
  const meta = { ...rest, optimizer: { ...optimizer, data: undefined } };
  return new TextEncoder().encode(canonicalJson(meta));
}

async function computeChecksum(c: Omit<CheckpointRecord, 'checksum'>): Promise<string> {
  return sha256Hex(new Uint8Array(c.weightData), new Uint8Array(c.optimizer.data), checksumInput(c));
}

export async function verifyCheckpoint(c: CheckpointRecord): Promise<boolean> {
  try {
    const { checksum, ...rest } = c;
    return (await computeChecksum(rest)) === checksum;
  } catch {
    return false;
  }
}

export async function encodeCheckpoint(session: TrainingSession, optimizerName: OptimizerName, meta: CheckpointMeta): Promise<CheckpointRecord> {
  const { normalization, encoding } = session.source.preprocessing;
  const optWeights = await session.optimizer.getWeights();
  let weights: Encoded;
  let optimizer: Encoded;
  let scalars: Record<string, number>;
  let state: SessionState;
  try {
    // All read-backs at once: on a GPU each is a round trip through the queue (a fence and a map
    // on WebGL, mapAsync on WebGPU), and waiting for them one after another cost several.
    [weights, optimizer, scalars, state] = await Promise.all([
      encodeTensors(session.model.weights.map((w) => ({ name: w.originalName, tensor: w.read() }))),
      encodeTensors(optWeights),
      readOptimizerScalars(optimizerName, session.optimizer),
      session.captureState(),
    ]);
  } finally {
    // `iter` is a fresh scalar; the moments are the optimizer's own variables and must live on.
    optWeights.filter((w) => w.name === 'iter').forEach((w) => w.tensor.dispose());
  }
  const body: Omit<CheckpointRecord, 'checksum'> = {
    ...meta,
    cursor: state.cursor,
    rng: state.rng,
    modelTopology: session.model.toJSON(null, false),
    weightSpecs: weights.specs,
    weightData: weights.data,
    optimizer: { name: optimizerName, specs: optimizer.specs, data: optimizer.data, scalars },
    epochAccumulators: state.epochAccumulators,
    history: state.history,
    normalization: normalization ? { mean: [...normalization.mean], std: [...normalization.std] } : null,
    ...(encoding === undefined ? {} : { encoding }),
    byteLength: weights.data.byteLength + optimizer.data.byteLength,
  };
  return { ...body, checksum: await computeChecksum(body) };
}

/** Loads weights and optimizer state into a freshly built model and optimizer of the same config. */
export async function restoreInto(
  c: CheckpointRecord,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  optimizerName: OptimizerName,
): Promise<SessionState> {
  if (c.optimizer.name !== optimizerName)
    throw new Error(`The checkpoint was made with ${c.optimizer.name}, but the job uses ${optimizerName}.`);
  const weights = decodeTensors(c.weightSpecs, c.weightData);
  try {
    const expected = model.weights.map((w) => w.shape.join('×'));
    const got = weights.map((w) => w.shape.join('×'));
    if (expected.join(',') !== got.join(','))
      throw new Error(`The checkpoint's weights (${got.join(', ')}) do not fit the model (${expected.join(', ')}).`);
    model.setWeights(weights);
  } finally {
    tf.dispose(weights);
  }
  const opt = decodeTensors(c.optimizer.specs, c.optimizer.data);
  try {
    await optimizer.setWeights(c.optimizer.specs.map((s, i) => ({ name: s.name, tensor: opt[i]! })));
  } finally {
    // setWeights made variables that share these buffers; dropping our handles keeps them alive.
    tf.dispose(opt);
  }
  writeOptimizerScalars(optimizerName, optimizer, c.optimizer.scalars);
  return {
    cursor: { ...c.cursor },
    rng: { epochStart: [...c.rng.epochStart], current: [...c.rng.current] },
    epochAccumulators: { ...c.epochAccumulators },
    history: [...c.history],
  };
}

// ---- Added for export/import (issue 4, workers/export/) ----

/**
 * A verified checkpoint handed to another job (an import): the same contents under a new key,
 * with a fresh checksum, since the checksum covers `jobId` and `seq`.
 */
export async function resealCheckpoint(c: CheckpointRecord, jobId: string, seq: number): Promise<CheckpointRecord> {
  const { checksum: _previous, ...rest } = c;
  const body = { ...rest, jobId, seq };
  return { ...body, checksum: await computeChecksum(body) };
}
