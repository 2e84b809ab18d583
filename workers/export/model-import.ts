// Imported TensorFlow.js layers models: finds them among the given files, describes them, decides
// whether they are plain Dense MLPs (the only kind Lathe can fine-tune), and predicts with them.
//
// Decision: importing a model stores nothing. A Lathe job is a training run over a dataset, and a
// bare model has none, so it cannot be a job that starts or resumes. The page keeps the files the
// user chose and calls `predictImportedModel` with them, or `fineTuneImportedModel` with a dataset,
// which creates an ordinary queued job whose first checkpoint holds the imported weights.
import type * as tf from '@tensorflow/tfjs';
import { ACTIVATIONS, type Activation, type HiddenLayer } from '../../shared/config';
import { ImportError, sniffFileType, type ImportedModelInfo, type InputFile, type Prediction } from '../../shared/package-format';
import { loadModelSource, modelSourceFromFiles, modelSourceFromZip, type LoadedModel, type ModelSource } from './model-files';
import { normalizeRows, readOutputs, runModel, type OutputReading } from './predict';
import { readZip } from './zip';

export const NOT_AN_MLP = 'only Dense MLPs can be fine-tuned in this version';

export interface DenseChain {
  numInputs: number;
  hidden: HiddenLayer[];
  numOutputs: number;
  /** `linear` or `softmax`; a softmax layer is rebuilt as linear, since Lathe trains on logits. */
  outputActivation: 'linear' | 'softmax';
  /** The model's Dense layers, input to output. */
  layers: tf.layers.Layer[];
}

/** The model's files, from one zip or from loose model.json + weight files. */
export function modelSourceFor(files: InputFile[]): ModelSource {
  if (files.length === 1 && sniffFileType(files[0]!.bytes) === 'zip') {
    const { name, bytes } = files[0]!;
    const source = modelSourceFromZip(name, readZip(name, bytes));
    if (!source) throw new ImportError(`“${name}” is a zip, but it holds no TensorFlow.js model.json.`);
    return source;
  }
  const zips = files.filter((f) => sniffFileType(f.bytes) === 'zip');
  if (zips.length > 0) throw new ImportError(`Import one zip at a time, without other files (${zips.map((f) => `“${f.name}”`).join(', ')}).`);
  return modelSourceFromFiles(files);
}

function layerConfig(layer: tf.layers.Layer): { units: number | null; activation: string | null; useBias: boolean } {
  const c = layer.getConfig();
  return {
    units: typeof c.units === 'number' ? c.units : null,
    activation: typeof c.activation === 'string' ? c.activation : null,
    useBias: c.useBias !== false,
  };
}

/** Whether the model is a chain of Dense layers Lathe can rebuild; otherwise why not. */
export function denseChain(model: tf.LayersModel): { ok: true; chain: DenseChain } | { ok: false; reason: string } {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return { ok: false, reason: 'it has several inputs or outputs' };
  const inShape = model.inputs[0]!.shape;
  if (inShape.length !== 2 || typeof inShape[1] !== 'number')
    return { ok: false, reason: `its input has shape [${inShape.map((d) => d ?? 'any').join(', ')}], not one row of numbers` };
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  if (layers.length === 0) return { ok: false, reason: 'it has no layers' };
  const hidden: HiddenLayer[] = [];
  let width = inShape[1];
  for (const [i, layer] of layers.entries()) {
    const label = `layer ${i + 1} (“${layer.name}”)`;
    if (layer.getClassName() !== 'Dense') return { ok: false, reason: `${label} is a ${layer.getClassName()} layer` };
    const { units, activation, useBias } = layerConfig(layer);
    if (!useBias) return { ok: false, reason: `${label} has no bias` };
    const kernel = layer.weights[0]?.shape;
    if (units === null || !kernel || kernel[0] !== width) return { ok: false, reason: `${label} does not follow the layer before it` };
    width = units;
    if (i === layers.length - 1) {
      if (activation !== 'linear' && activation !== 'softmax')
        return { ok: false, reason: `its output layer uses the ${activation} activation; Lathe needs linear or softmax` };
      return { ok: true, chain: { numInputs: inShape[1], hidden, numOutputs: units, outputActivation: activation, layers } };
    }
    if (!ACTIVATIONS.includes(activation as Activation))
      return { ok: false, reason: `${label} uses the ${activation} activation; Lathe trains with ${ACTIVATIONS.join(', ')}` };
    hidden.push({ units, activation: activation as Activation });
  }
  return { ok: false, reason: 'it has no output layer' };
}

/** How to read the outputs: Lathe's metadata says so; otherwise the last layer hints. */
export function outputReading(loaded: LoadedModel): OutputReading {
  const { lathe, model } = loaded;
  if (lathe) return { kind: lathe.output, labels: lathe.labels.length > 0 ? lathe.labels : null };
  const last = model.layers[model.layers.length - 1];
  const width = model.outputs[0]?.shape[1] ?? 1;
  if (last && layerConfig(last).activation === 'softmax') return { kind: 'probabilities', labels: null };
  return { kind: width === 1 ? 'value' : 'scores', labels: null };
}

export function describeModel(fileName: string, loaded: LoadedModel): ImportedModelInfo {
  const { model } = loaded;
  const chain = denseChain(model);
  return {
    fileName,
    numInputs: model.inputs[0]?.shape[1] ?? 0,
    numOutputs: model.outputs[0]?.shape[1] ?? 0,
    layers: model.layers
      .filter((l) => l.getClassName() !== 'InputLayer')
      .map((l) => {
        const { units, activation } = layerConfig(l);
        return { name: l.name, className: l.getClassName(), units, activation };
      }),
    numParams: model.countParams(),
    lathe: loaded.lathe,
    fineTune: chain.ok ? { ok: true } : { ok: false, reason: `${NOT_AN_MLP}: ${chain.reason}` },
  };
}

/** Validates and describes an imported model without storing anything. */
export async function inspectModel(source: ModelSource): Promise<ImportedModelInfo> {
  const loaded = await loadModelSource(source);
  try {
    return describeModel(source.fileName, loaded);
  } finally {
    loaded.model.dispose();
  }
}

/**
 * Predicts with an imported model on raw feature rows. A model exported by Lathe normalizes them
 * with its stored statistics first; any other model gets them as they are.
 */
export async function predictWithImportedModel(files: InputFile[], rows: number[][]): Promise<Prediction> {
  const loaded = await loadModelSource(modelSourceFor(files));
  try {
    const numInputs = loaded.model.inputs[0]?.shape[1];
    if (typeof numInputs !== 'number' || loaded.model.inputs[0]!.shape.length !== 2)
      throw new ImportError('This model does not take rows of numbers, so Lathe cannot predict with it.');
    const normalization = loaded.lathe?.normalization ?? null;
    const x = normalizeRows(rows, numInputs, normalization);
    const outputs = await runModel(loaded.model, x, rows.length, numInputs);
    return readOutputs(outputs, outputReading(loaded), normalization !== null);
  } finally {
    loaded.model.dispose();
  }
}
