// Fine-tuning an imported Dense MLP: a new queued job on the user's dataset whose first checkpoint
// (step 0) holds the imported weights, so the ordinary start path trains on from them.
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_CONFIG, hashConfig, validateConfig, type TrainConfig } from '../../shared/config';
import * as db from '../../shared/db';
import { emptyProgress, type JobRecord } from '../../shared/jobs';
import { ImportError, type FineTuneRequest, type InputFile, type LatheModelMetadata } from '../../shared/package-format';
import { validatePlan, type TableEncoding } from '../../shared/table';
import { encodeCheckpoint } from '../checkpoint-codec';
import type { Normalization } from '../data';
import { prepareSource } from '../data-source';
import { buildModel, buildOptimizer } from '../model';
import { TrainingSession } from '../session';
import { loadModelSource } from './model-files';
import { denseChain, modelSourceFor, NOT_AN_MLP, type DenseChain } from './model-import';

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

/**
 * Rebases the output layer of a regression model from the target units it was trained with
 * (`y = out × s0 + m0`, or raw values without statistics) to this job's standardized target
 * (`(y − m1) / s1`): the last kernel scales by s0/s1 and its bias becomes (b·s0 + m0 − m1)/s1.
 */
function rebaseOutput(weights: { values: Float32Array; shape: number[] }[], from: { mean: number; std: number } | null, to: { mean: number; std: number }): void {
  const s0 = from?.std ?? 1;
  const m0 = from?.mean ?? 0;
  const kernel = weights[weights.length - 2]!;
  const bias = weights[weights.length - 1]!;
  for (let i = 0; i < kernel.values.length; i++) kernel.values[i] = (kernel.values[i]! * s0) / to.std;
  for (let i = 0; i < bias.values.length; i++) bias.values[i] = (bias.values[i]! * s0 + m0 - to.mean) / to.std;
}

export async function fineTuneImportedModel(database: db.LatheDb, files: InputFile[], request: FineTuneRequest, now: number): Promise<JobRecord> {
  const source = modelSourceFor(files);
  const loaded = await loadModelSource(source);
  try {
    const result = denseChain(loaded.model);
    if (!result.ok) throw new ImportError(`“${source.fileName}” cannot be fine-tuned: ${NOT_AN_MLP} (${result.reason}).`);
    const chain = result.chain;
    const stored = await db.getDataset(database, request.datasetId);
    if (!stored) throw new ImportError('The dataset chosen for fine-tuning is no longer stored; choose another one.');
    if (stored.kind !== 'table') throw new ImportError(`Only a Dense MLP on a table can be fine-tuned here, and “${stored.name}” is a dataset of images.`);
    const dataset = stored;
    const config: TrainConfig = { ...fineTuneConfig(chain, loaded.lathe, request), table: request.config?.table ?? dataset.defaultPlan };
    const problems = [...validateConfig(config), ...validatePlan(dataset.table, config.table!)];
    if (problems.length > 0) throw new ImportError(problems.join(' '));
    const fingerprint = dataset.fingerprint;
    const configHash = await hashConfig(config);
    const jobId = crypto.randomUUID();
    // Fitted here (it checks the plan against the rows); the session owns it from the next line on.
    const { source: data, objective } = await prepareSource(dataset, config);
    const encoding = (data.preprocessing.encoding as TableEncoding);
    const numInputs = encoding.inputNames.length;
    const numOutputs = 'classNames' in encoding.target ? encoding.target.classNames.length : 1;
    const mismatch =
      chain.numInputs !== numInputs
        ? `The model takes ${chain.numInputs} inputs, but “${dataset.name}” gives ${numInputs} (${encoding.inputNames.join(', ')}).`
        : chain.numOutputs !== numOutputs
          ? encoding.task === 'classification'
            ? `The model has ${chain.numOutputs} outputs, but “${dataset.name}” has ${numOutputs} classes.`
            : `The model has ${chain.numOutputs} outputs, but regression needs 1.`
          : encoding.task === 'regression' && chain.outputActivation !== 'linear'
            ? 'The model ends in softmax, so it predicts classes; it cannot be fine-tuned for regression.'
            : null;
    if (mismatch) {
      data.dispose();
      throw new ImportError(mismatch);
    }
    const model = buildModel(config, { numFeatures: numInputs, numOutputs });
    const optimizer = buildOptimizer(config.optimizer, config.learningRate);
    // From here the session owns source, model and optimizer, and disposes them.
    const session = new TrainingSession({ config, source: data, objective, model, optimizer, historyEverySteps: 1, checkpointIntervalMs: 0 });
    let checkpoint: db.CheckpointRecord;
    try {
      const rebased = await rebasedWeights(chain, loaded.lathe?.normalization ?? null, data.preprocessing.normalization!);
      if ('std' in encoding.target) rebaseOutput(rebased, loaded.lathe?.targetNormalization ?? null, encoding.target);
      const weights = rebased.map((w) => tf.tensor(w.values, w.shape, 'float32'));
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
    // The dataset is stored already (it was chosen from the stored ones).
    return await db.putImportedJob(database, job, checkpoint, null);
  } finally {
    loaded.model.dispose();
  }
}
