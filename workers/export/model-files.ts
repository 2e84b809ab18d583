// Reads a TensorFlow.js layers model from the files a user gives (model.json plus its weight
// shards, loose or in a zip), checks model.json's shape and every shard's byte size against the
// weights manifest, and loads it with tfjs. Every failure is an ImportError naming the problem.
import * as tf from '@tensorflow/tfjs';
import {
  ImportError, LATHE_METADATA_KEY, parseLatheMetadata, sniffFileType, type InputFile, type LatheModelMetadata,
} from '../../shared/package-format';
import { formatBytes, ownBuffer, parseJsonBytes } from './zip';

export interface ModelSource {
  /** What the user gave, for messages: "model.json" or "my-model.zip". */
  fileName: string;
  modelJson: Uint8Array;
  /** Weight files by their path relative to model.json. */
  files: Map<string, Uint8Array>;
}

export interface LoadedModel {
  model: tf.LayersModel;
  lathe: LatheModelMetadata | null;
  weightBytes: number;
}

/** Bytes per value of each stored dtype, including the quantized ones the converter writes. */
const BYTES_PER_VALUE: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, complex64: 8 };

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** From a zip's entries: model.json (at the top or in one folder) and the files beside it. */
export function modelSourceFromZip(fileName: string, entries: Map<string, Uint8Array>): ModelSource | null {
  const jsonPath = [...entries.keys()].filter((p) => basename(p) === 'model.json').sort((a, b) => a.length - b.length)[0];
  if (jsonPath === undefined) return null;
  const dir = jsonPath.slice(0, jsonPath.length - 'model.json'.length);
  const files = new Map<string, Uint8Array>();
  for (const [path, bytes] of entries) if (path !== jsonPath && path.startsWith(dir)) files.set(path.slice(dir.length), bytes);
  return { fileName, modelJson: entries.get(jsonPath)!, files };
}

/** From loose files: the one .json among them and the others by their names. */
export function modelSourceFromFiles(files: InputFile[]): ModelSource {
  const jsons = files.filter((f) => f.name.toLowerCase().endsWith('.json') || sniffFileType(f.bytes) === 'json');
  if (jsons.length === 0)
    throw new ImportError(`Only weight files were given (${files.map((f) => `“${f.name}”`).join(', ')}). Choose the model.json together with its .bin files, or the zip.`);
  if (jsons.length > 1) throw new ImportError(`Several JSON files were given (${jsons.map((f) => `“${f.name}”`).join(', ')}); choose one model.json with its .bin files.`);
  const json = jsons[0]!;
  return { fileName: json.name, modelJson: json.bytes, files: new Map(files.filter((f) => f !== json).map((f) => [basename(f.name), f.bytes])) };
}

interface ManifestGroup {
  paths: string[];
  weights: { name: string; shape: number[]; dtype: string; quantization?: { dtype: string } }[];
}

function checkModelJson(value: unknown, what: string): { json: tf.io.ModelJSON; groups: ManifestGroup[] } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ImportError(`${what} is not a model description (it is not a JSON object).`);
  const json = value as Record<string, unknown>;
  if (json.format === 'graph-model' || (typeof json.modelTopology === 'object' && json.modelTopology !== null && 'node' in json.modelTopology))
    throw new ImportError(`${what} is a TensorFlow.js graph model; Lathe imports layers models (saved with model.save or converted from Keras).`);
  if (typeof json.modelTopology !== 'object' || json.modelTopology === null)
    throw new ImportError(`${what} is not a TensorFlow.js model.json: it has no “modelTopology”.`);
  if (!Array.isArray(json.weightsManifest)) throw new ImportError(`${what} has no “weightsManifest” list, so its weights cannot be found.`);
  const groups = json.weightsManifest.map((g: unknown, i: number) => {
    const group = g as Partial<ManifestGroup> | null;
    if (!group || !Array.isArray(group.paths) || !Array.isArray(group.weights) || group.paths.some((p) => typeof p !== 'string'))
      throw new ImportError(`${what}: weightsManifest[${i}] needs “paths” and “weights” lists.`);
    group.weights.forEach((w, j) => {
      if (typeof w?.name !== 'string' || !Array.isArray(w.shape) || w.shape.some((d) => !Number.isInteger(d) || d < 0))
        throw new ImportError(`${what}: weightsManifest[${i}].weights[${j}] needs a name and a shape of whole numbers.`);
      const stored = w.quantization?.dtype ?? w.dtype;
      if (!(stored in BYTES_PER_VALUE)) throw new ImportError(`${what}: weight “${w.name}” has the unsupported dtype ${String(stored)}.`);
    });
    return group as ManifestGroup;
  });
  return { json: value as tf.io.ModelJSON, groups };
}

function groupBytes(group: ManifestGroup): number {
  return group.weights.reduce((n, w) => n + BYTES_PER_VALUE[w.quantization?.dtype ?? w.dtype]! * w.shape.reduce((a, b) => a * b, 1), 0);
}

/** Parses and loads the model; the caller owns (and must dispose) the returned model. */
export async function loadModelSource(source: ModelSource): Promise<LoadedModel> {
  const what = source.fileName.toLowerCase().endsWith('.json') ? `“${source.fileName}”` : `model.json in “${source.fileName}”`;
  const { json, groups } = checkModelJson(parseJsonBytes(source.modelJson, what), what);
  const lathe = parseLatheMetadata(json.userDefinedMetadata?.[LATHE_METADATA_KEY], what);
  const buffers: ArrayBuffer[] = [];
  let weightBytes = 0;
  groups.forEach((group) => {
    const shards = group.paths.map((p) => {
      const bytes = source.files.get(p) ?? source.files.get(basename(p));
      if (!bytes) throw new ImportError(`${what} refers to the weight file “${p}”, which was not given. Choose model.json together with its .bin files (or the zip).`);
      return bytes;
    });
    const got = shards.reduce((n, s) => n + s.byteLength, 0);
    const expected = groupBytes(group);
    if (got !== expected)
      throw new ImportError(`The weight file${shards.length > 1 ? 's' : ''} ${group.paths.map((p) => `“${p}”`).join(', ')} ha${shards.length > 1 ? 've' : 's'} ${formatBytes(got)} bytes, but ${what} describes ${formatBytes(expected)} bytes for ${group.weights.length} weights: the weights do not match the model.`);
    weightBytes += got;
    buffers.push(...shards.map(ownBuffer));
  });
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: json.modelTopology,
    weightSpecs: groups.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
    weightData: tf.io.concatenateArrayBuffers(buffers),
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    userDefinedMetadata: json.userDefinedMetadata,
  };
  try {
    const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    return { model, lathe, weightBytes };
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    const hint = /unknown (layer|activation|initializer|regularizer|constraint)/i.test(detail)
      ? 'it uses something this version of TensorFlow.js does not know'
      : /shape|weights are not set|set weights|mismatch/i.test(detail)
        ? 'its weights do not fit its layers'
        : 'TensorFlow.js could not build it';
    throw new ImportError(`${what} could not be loaded: ${hint} (${detail}).`);
  }
}
