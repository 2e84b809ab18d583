// Imports a resumable training package: validates the manifest, every file's size and SHA-256, the
// weights against the config's layer sizes, the checkpoint's own checksum and the dataset's
// fingerprint, and only then stores job, checkpoint and dataset in one transaction.
//
// The imported job is `paused` (or `completed` when its checkpoint is the end of the run):
// paused means "stopped on purpose at a checkpoint, waiting for the user", which is exactly what a
// package is. `start` accepts a paused job directly and the page's Resume re-queues it, while
// `interrupted` means a worker died mid-run and carries crash notices and auto-resume handling.
import { appendEntry, sanitizeLog } from '../../shared/job-log';
import { canonicalJson, hashConfig, validateConfig, type TrainConfig } from '../../shared/config';
import { fingerprintDataset, validateDataset, type Dataset, type DatasetInput } from '../../shared/dataset';
import * as db from '../../shared/db';
import { sha256Hex } from '../../shared/hash';
import { emptyProgress, type JobRecord } from '../../shared/jobs';
import {
  ImportError, PACKAGE_PATHS, parsePackageManifest, type ImportOptions, type ImportResult, type PackageManifest,
} from '../../shared/package-format';
import { resealCheckpoint, verifyCheckpoint } from '../checkpoint-codec';
import { splitRows } from '../data';
import { outputsFor } from './source';
import { formatBytes, ownBuffer, parseJsonBytes } from './zip';

const IMPORTED_SUFFIX = ' (imported)';

function checkFiles(fileName: string, manifest: PackageManifest, entries: Map<string, Uint8Array>): Promise<void[]> {
  const listed = new Set(manifest.files.map((f) => f.path));
  const required: string[] = [PACKAGE_PATHS.weights, PACKAGE_PATHS.optimizer];
  if (manifest.dataset.included) required.push(PACKAGE_PATHS.features, PACKAGE_PATHS.targets);
  for (const path of required)
    if (!listed.has(path)) throw new ImportError(`The manifest of “${fileName}” does not list ${path}, which a package needs.`);
  return Promise.all(
    manifest.files.map(async (f) => {
      const bytes = entries.get(f.path);
      if (!bytes) throw new ImportError(`“${fileName}” lacks ${f.path}, which its manifest lists.`);
      if (bytes.byteLength !== f.byteLength)
        throw new ImportError(`${f.path} in “${fileName}” has ${formatBytes(bytes.byteLength)} bytes, but the manifest says ${formatBytes(f.byteLength)}.`);
      if ((await sha256Hex(bytes)) !== f.sha256)
        throw new ImportError(`${f.path} in “${fileName}” is damaged: its SHA-256 does not match the manifest.`);
    }),
  );
}

async function checkConfig(manifest: PackageManifest): Promise<TrainConfig> {
  const config = manifest.config;
  const problems = validateConfig(config);
  if (problems.length > 0) throw new ImportError(`The package's training configuration is invalid: ${problems.join(' ')}`);
  const hash = await hashConfig(config);
  const claimed = [manifest.configHash, manifest.job.configHash, manifest.checkpoint.configHash];
  if (claimed.some((h) => h !== hash) || canonicalJson(manifest.job.config) !== canonicalJson(config))
    throw new ImportError(`The package's job, config and checkpoint disagree about the training configuration (hash ${hash.slice(0, 12)}), so it cannot resume the same run.`);
  return config;
}

/** The weight shapes a Dense MLP of this config has; a package whose weights differ is refused. */
function checkWeights(manifest: PackageManifest, weights: Uint8Array, optimizer: Uint8Array): void {
  const { config, checkpoint } = manifest;
  const dims = [manifest.dataset.meta.numFeatures, ...config.model.hidden.map((h) => h.units), outputsFor(manifest.dataset.meta)];
  const expected = dims.slice(1).flatMap((units, i) => [[dims[i]!, units], [units]]);
  const architecture = dims.join('→');
  const got = checkpoint.weightSpecs.map((s) => s.shape);
  if (canonicalJson(got) !== canonicalJson(expected))
    throw new ImportError(`The package's weight shapes (${got.map((s) => s.join('×')).join(', ')}) do not match its model ${architecture}.`);
  const bytes = (specs: { shape: number[] }[]): number => specs.reduce((n, s) => n + 4 * s.shape.reduce((a, b) => a * b, 1), 0);
  if (weights.byteLength !== bytes(checkpoint.weightSpecs))
    throw new ImportError(`${PACKAGE_PATHS.weights} has ${formatBytes(weights.byteLength)} bytes, but the model ${architecture} needs ${formatBytes(bytes(checkpoint.weightSpecs))}.`);
  if (optimizer.byteLength !== bytes(checkpoint.optimizer.specs))
    throw new ImportError(`${PACKAGE_PATHS.optimizer} has ${formatBytes(optimizer.byteLength)} bytes, but its optimizer state needs ${formatBytes(bytes(checkpoint.optimizer.specs))}.`);
  if (checkpoint.optimizer.name !== config.optimizer)
    throw new ImportError(`The package's checkpoint was made with ${checkpoint.optimizer.name}, but its config uses ${config.optimizer}.`);
  const norm = checkpoint.normalization;
  if (norm && (norm.mean.length !== dims[0] || norm.std.length !== dims[0]))
    throw new ImportError(`The package's normalization statistics do not have one value per feature (${dims[0]}).`);
}

function floats(bytes: Uint8Array, path: string, expected: number): Float32Array {
  if (bytes.byteLength !== expected * 4)
    throw new ImportError(`${path} has ${formatBytes(bytes.byteLength)} bytes, but the dataset needs ${formatBytes(expected * 4)} (${expected} float32 values).`);
  return new Float32Array(ownBuffer(bytes));
}

type DatasetOutcome = { dataset: Dataset | null; how: 'included' | 'supplied' | 'already-stored' } | null;

async function resolveDataset(
  database: db.LatheDb, manifest: PackageManifest, entries: Map<string, Uint8Array>, supplied: DatasetInput | undefined,
): Promise<DatasetOutcome> {
  const meta = manifest.dataset.meta;
  const wanted = manifest.checkpoint.datasetFingerprint;
  let input: DatasetInput | null = null;
  let how: 'included' | 'supplied' = 'included';
  if (manifest.dataset.included) {
    const { fingerprint: _f, createdAt: _c, ...rest } = meta;
    const features = floats(entries.get(PACKAGE_PATHS.features)!, PACKAGE_PATHS.features, meta.numSamples * meta.numFeatures);
    input = { ...rest, features, targets: floats(entries.get(PACKAGE_PATHS.targets)!, PACKAGE_PATHS.targets, meta.numSamples) };
  } else if (supplied) {
    input = supplied;
    how = 'supplied';
  } else {
    const existing = await db.getDataset(database, meta.id);
    return existing?.fingerprint === wanted ? { dataset: null, how: 'already-stored' } : null;
  }
  const problems = validateDataset(input);
  if (problems.length > 0) throw new ImportError(`The ${how === 'supplied' ? 'chosen' : "package's"} dataset is invalid: ${problems.join(' ')}`);
  const fingerprint = await fingerprintDataset(input);
  if (fingerprint !== wanted)
    throw new ImportError(how === 'supplied'
      ? `The chosen dataset is not the one “${manifest.job.name}” was trained on (its rows, columns or labels differ), so training could not continue the same run. Choose the original dataset.`
      : `The package's dataset does not match the one its checkpoint was trained on (fingerprint ${fingerprint.slice(0, 12)} ≠ ${wanted.slice(0, 12)}).`);
  // Content-addressed under the package's id, so the same data imported twice is stored once.
  const dataset: Dataset = { ...meta, features: input.features, targets: input.targets, fingerprint };
  return { dataset, how };
}

function importedJob(manifest: PackageManifest, id: string, checkpoint: db.CheckpointRecord, fileName: string, now: number): JobRecord {
  const { config, dataset } = manifest;
  const { cursor, history } = checkpoint;
  const done = cursor.epoch >= config.epochs;
  const stepsPerEpoch = Math.ceil(splitRows(dataset.meta.numSamples, config.validationSplit, config.seed).train.length / config.batchSize);
  const total = stepsPerEpoch * config.epochs;
  const last = history[history.length - 1];
  return {
    id, name: `${manifest.job.name}${IMPORTED_SUFFIX}`, state: done ? 'completed' : 'paused',
    datasetId: dataset.meta.id, config, configHash: manifest.configHash,
    createdAt: now, queuedAt: null, startedAt: null, finishedAt: done ? now : null,
    durationMs: Math.max(0, manifest.job.durationMs), error: null,
    notice: done
      ? `Imported from “${fileName}”: training had finished (step ${cursor.globalStep}).`
      : `Imported from “${fileName}” at step ${cursor.globalStep}. Resume to continue training.`,
    progress: {
      ...emptyProgress(config.epochs), stage: 'training', epoch: cursor.epoch, step: cursor.globalStep, stepsPerEpoch,
      percent: total === 0 ? 100 : Math.min(100, (100 * cursor.globalStep) / total),
      loss: last?.loss ?? null, metrics: { ...(last?.metrics ?? {}) },
    },
    history: [...history], backend: null, backendReason: null,
    checkpointStep: cursor.globalStep, resumedFromStep: null, crashCount: 0,
    // The exporter's log comes along, so the timeline tells where the run has been.
    log: appendEntry(sanitizeLog(manifest.job.log), { at: now, kind: 'imported', text: `Imported from “${fileName}” at step ${cursor.globalStep}` }),
  };
}

export async function importPackage(
  database: db.LatheDb, fileName: string, entries: Map<string, Uint8Array>, options: ImportOptions, now: number,
): Promise<ImportResult> {
  const manifestBytes = entries.get(PACKAGE_PATHS.manifest);
  if (!manifestBytes) throw new ImportError(`“${fileName}” has no ${PACKAGE_PATHS.manifest}, so it is not a Lathe package.`);
  const manifest = parsePackageManifest(parseJsonBytes(manifestBytes, `${PACKAGE_PATHS.manifest} in “${fileName}”`));
  await checkFiles(fileName, manifest, entries);
  const config = await checkConfig(manifest);
  const weights = entries.get(PACKAGE_PATHS.weights)!;
  const optimizerBytes = entries.get(PACKAGE_PATHS.optimizer)!;
  checkWeights(manifest, weights, optimizerBytes);
  const checkpoint: db.CheckpointRecord = {
    ...manifest.checkpoint,
    weightData: ownBuffer(weights),
    optimizer: { ...manifest.checkpoint.optimizer, data: ownBuffer(optimizerBytes) },
  };
  if (!(await verifyCheckpoint(checkpoint)))
    throw new ImportError(`The checkpoint in “${fileName}” fails its checksum: the package was altered or damaged.`);
  const resolved = await resolveDataset(database, manifest, entries, options.dataset);
  const meta = manifest.dataset.meta;
  if (!resolved) {
    return {
      kind: 'needs-dataset', fileName, jobName: manifest.job.name,
      dataset: {
        sourceId: meta.id.split('@')[0]!, name: meta.name, task: meta.task, featureNames: meta.featureNames,
        targetName: meta.targetName, classNames: meta.classNames, numSamples: meta.numSamples, fingerprint: meta.fingerprint,
      },
      message: `“${fileName}” was exported without its dataset. Choose “${meta.name}” (${meta.numSamples} rows: ${meta.featureNames.join(', ')} → ${meta.targetName}) to import it and continue training.`,
    };
  }
  const jobId = crypto.randomUUID();
  const stored = await resealCheckpoint(checkpoint, jobId, checkpoint.seq);
  const job = importedJob({ ...manifest, config }, jobId, stored, fileName, now);
  await db.putImportedJob(database, job, stored, resolved.dataset);
  return { kind: 'package', job, dataset: resolved.how };
}
