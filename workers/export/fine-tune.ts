// Fine-tuning an imported Dense MLP: a new queued job on the user's dataset whose first checkpoint
// (step 0) holds the imported weights, so the ordinary start path trains on from them.
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_CONFIG, hashConfig, validateConfig, type TrainConfig } from '../../shared/config';
import { fingerprintDataset, validateDataset, type Dataset } from '../../shared/dataset';
import * as db from '../../shared/db';
import { emptyProgress, type JobRecord } from '../../shared/jobs';
import { ImportError, type FineTuneRequest, type InputFile, type LatheModelMetadata } from '../../shared/package-format';
import { encodeCheckpoint } from '../checkpoint-codec';
import type { Normalization } from '../data';
import { prepareSource } from '../data-source';
import { buildModel, buildOptimizer } from '../model';
import { TrainingSession } from '../session';
import { loadModelSource } from './model-files';
import { denseChain, modelSourceFor, NOT_AN_MLP, type DenseChain } from './model-import';
import { outputsFor } from './source';

/** Training settings: the request's, else the exporting job's (Lathe models), else the defaults. */
function fineTuneConfig(chain: DenseChain, lathe: LatheModelMetadata | null, request: FineTuneRequest): TrainConfig {
  const previous: Partial<TrainConfig> = lathe?.config ?? {};
  const pick = <K extends Exclude<keyof TrainConfig, 'model'>>(k: K): TrainConfig[K] => request.config?.[k] ?? previous[k] ?? DEFAULT_CONFIG[k];
  return {
    model: { kind: 'mlp', hidden: chain.hidden },
    optimizer: pick('optimizer'),
    learningRate: pick('learningRate'),
    batchSize: pick('batchSize'),
    epochs: pick('epochs'),
    validationSplit: pick('validationSplit'),
    seed: pick('seed'),
  };
}

/**
 * The imported weights as float32 arrays, with the first layer rebased from the inputs the model
 * was trained on (`(x - m0) / s0`, or raw x when it carries no statistics) to this dataset's
 * normalization `(x - m1) / s1`: since x' = (s1/s0)·x'' + (m1 - m0)/s0, the kernel rows scale by
 * s1/s0 and the bias absorbs the shift. At step 0 the job then computes what the model did.
 */
async function rebasedWeights(chain: DenseChain, from: Normalization | null, to: Normalization): Promise<{ values: Float32Array; shape: number[] }[]> {
  const out: { values: Float32Array; shape: number[] }[] = [];
  for (const layer of chain.layers)
    for (const w of layer.weights) out.push({ values: Float32Array.from(await w.read().data()), shape: [...w.shape] as number[] });
  const kernel = out[0]!;
  const bias = out[1]!;
  const [rows, cols] = kernel.shape as [number, number];
  const k0 = Float64Array.from(kernel.values);
  for (let i = 0; i < rows; i++) {
    const m0 = from?.mean[i] ?? 0;
    const s0 = from?.std[i] ?? 1;
    const scale = to.std[i]! / s0;
    const shift = (to.mean[i]! - m0) / s0;
    for (let k = 0; k < cols; k++) {
      kernel.values[i * cols + k] = k0[i * cols + k]! * scale;
      bias.values[k] = bias.values[k]! + shift * k0[i * cols + k]!;
    }
  }
  return out;
}

export async function fineTuneImportedModel(database: db.LatheDb, files: InputFile[], request: FineTuneRequest, now: number): Promise<JobRecord> {
  const source = modelSourceFor(files);
  const loaded = await loadModelSource(source);
  try {
    const result = denseChain(loaded.model);
    if (!result.ok) throw new ImportError(`“${source.fileName}” cannot be fine-tuned: ${NOT_AN_MLP} (${result.reason}).`);
    const chain = result.chain;
    const input = request.dataset;
    const config = fineTuneConfig(chain, loaded.lathe, request);
    const problems = [...validateConfig(config), ...validateDataset(input)];
    if (problems.length > 0) throw new ImportError(problems.join(' '));
    const numOutputs = outputsFor(input);
    if (chain.numInputs !== input.numFeatures)
      throw new ImportError(`The model takes ${chain.numInputs} inputs, but “${input.name}” has ${input.numFeatures} feature columns.`);
    if (chain.numOutputs !== numOutputs)
      throw new ImportError(input.task === 'classification'
        ? `The model has ${chain.numOutputs} outputs, but “${input.name}” has ${numOutputs} classes.`
        : `The model has ${chain.numOutputs} outputs, but regression needs 1.`);
    if (input.task === 'regression' && chain.outputActivation !== 'linear')
      throw new ImportError('The model ends in softmax, so it predicts classes; it cannot be fine-tuned for regression.');
    const fingerprint = await fingerprintDataset(input);
    const dataset: Dataset = { ...input, id: `${input.id}@${fingerprint.slice(0, 16)}`, fingerprint, createdAt: now };
    const configHash = await hashConfig(config);
    const jobId = crypto.randomUUID();
    const { source: data, objective } = prepareSource(dataset, config);
    const model = buildModel(config, { numFeatures: input.numFeatures, numOutputs });
    const optimizer = buildOptimizer(config.optimizer, config.learningRate);
    // From here the session owns source, model and optimizer, and disposes them.
    const session = new TrainingSession({ config, source: data, objective, model, optimizer, historyEverySteps: 1, checkpointIntervalMs: 0 });
    let checkpoint: db.CheckpointRecord;
    try {
      const weights = (await rebasedWeights(chain, loaded.lathe?.normalization ?? null, data.preprocessing.normalization!)).map((w) => tf.tensor(w.values, w.shape, 'float32'));
      try {
        model.setWeights(weights);
      } finally {
        tf.dispose(weights);
      }
      checkpoint = await encodeCheckpoint(session, config.optimizer, {
        jobId, seq: 1, configHash, datasetFingerprint: fingerprint, createdAt: now,
      });
    } finally {
      session.dispose();
    }
    const job: JobRecord = {
      id: jobId, name: request.name, state: 'queued', datasetId: dataset.id, config, configHash,
      createdAt: now, queuedAt: now, startedAt: null, finishedAt: null, durationMs: 0, error: null,
      notice: `Fine-tunes “${source.fileName}”: training starts from its weights.`,
      progress: emptyProgress(config.epochs), history: [], backend: null, backendReason: null,
      checkpointStep: 0, resumedFromStep: null, crashCount: 0,
      log: [{ at: now, kind: 'queued', text: `Queued: fine-tunes “${source.fileName}” for ${config.epochs} epochs` }],
    };
    await db.putImportedJob(database, job, checkpoint, dataset);
    return job;
  } finally {
    loaded.model.dispose();
  }
}
