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
import {
  computeFingerprint, fingerprintDataset, tableDatasetFromMatrix, validateDataset, type Dataset, type DatasetSummary, type TableDatasetInput,
  type TextSummary,
} from '../../shared/dataset';
import * as db from '../../shared/db';
import { sha256Hex } from '../../shared/hash';
import { emptyProgress, type JobRecord } from '../../shared/jobs';
import {
  ImportError, PACKAGE_PATHS, parsePackageManifest, type ImportOptions, type ImportResult, type MatrixMeta, type PackageManifest,
} from '../../shared/package-format';
import { isSampleId } from '../../shared/samples';
import type { TableEncoding } from '../../shared/table';
import { resealCheckpoint, verifyCheckpoint } from '../checkpoint-codec';
import { splitRows, splitTable } from '../data';
import { sampleDataset, tableDataset, type DatasetDeps } from '../datasets';
import { readTable } from '../table/read-table';
import { imagesFromFiles, tableFromFiles, textFromFiles } from './dataset-files';
import { decodeTextBytes, textDataset } from '../text/text-dataset';
import { textWindowsPerEpoch } from '../text/text-source';
import { outputsOf } from './source';
import { formatBytes, ownBuffer, parseJsonBytes } from './zip';

const IMPORTED_SUFFIX = ' (imported)';

function checkFiles(fileName: string, manifest: PackageManifest, entries: Map<string, Uint8Array>): Promise<void[]> {
  const listed = new Set(manifest.files.map((f) => f.path));
  const required: string[] = [PACKAGE_PATHS.weights, PACKAGE_PATHS.optimizer];
  const kind = (manifest.dataset.meta as DatasetSummary).kind;
  if (manifest.dataset.included)
    required.push(
      ...(manifest.formatVersion === 1
        ? [PACKAGE_PATHS.features, PACKAGE_PATHS.targets]
        : kind === 'images' ? [PACKAGE_PATHS.images, PACKAGE_PATHS.labels, PACKAGE_PATHS.pixels]
        : kind === 'text' ? [PACKAGE_PATHS.text]
        : [PACKAGE_PATHS.columns, PACKAGE_PATHS.numbers, PACKAGE_PATHS.codes]),
    );
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
  // Image models' shapes are checked when the checkpoint is restored into the model its config builds.
  if (config.model.kind !== 'mlp') return;
  const { inputs, outputs } = modelWidths(manifest);
  const dims = [inputs, ...config.model.hidden.map((h) => h.units), outputs];
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

function isMatrixMeta(manifest: PackageManifest): boolean {
  return manifest.formatVersion === 1;
}

/** Inputs and outputs the model must have: from the checkpoint's encoding, or a format-1 matrix's shape. */
function modelWidths(manifest: PackageManifest): { inputs: number; outputs: number } {
  const encoding = manifest.checkpoint.encoding as TableEncoding | undefined;
  if (encoding) return { inputs: encoding.inputNames.length, outputs: outputsOf(encoding) };
  if (isMatrixMeta(manifest)) {
    const meta = manifest.dataset.meta as MatrixMeta;
    return { inputs: meta.numFeatures, outputs: meta.task === 'classification' ? meta.classNames.length : 1 };
  }
  // A checkpoint from before encodings were kept: trust the shapes' own chain for the ends.
  const specs = manifest.checkpoint.weightSpecs;
  return { inputs: specs[0]?.shape[0] ?? 0, outputs: specs[specs.length - 1]?.shape[0] ?? 0 };
}

function floats(bytes: Uint8Array, path: string, expected: number): Float32Array {
  if (bytes.byteLength !== expected * 4)
    throw new ImportError(`${path} has ${formatBytes(bytes.byteLength)} bytes, but the dataset needs ${formatBytes(expected * 4)} (${expected} float32 values).`);
  return new Float32Array(ownBuffer(bytes));
}

type DatasetOutcome = { dataset: Dataset; how: 'included' | 'supplied' | 'already-stored' } | null;

/** A format-1 matrix as rows of a stored dataset, under the package's id and fingerprint. */
async function matrixDataset(meta: MatrixMeta, input: TableDatasetInput, now: number, what: string): Promise<Dataset> {
  const problems = validateDataset(input);
  if (problems.length > 0) throw new ImportError(`${what} is invalid: ${problems.join(' ')}`);
  const fingerprint = await fingerprintDataset(input);
  if (fingerprint !== meta.fingerprint)
    throw new ImportError(`${what} does not match the one its checkpoint was trained on (fingerprint ${fingerprint.slice(0, 12)} ≠ ${meta.fingerprint.slice(0, 12)}).`);
  return tableDatasetFromMatrix(input, fingerprint, now, { id: meta.id });
}

/**
 * The dataset a package's checkpoint was trained on: inside the package, already stored (found by
 * fingerprint), a built-in sample Lathe makes itself, or the CSV the user chose; null when none of
 * these, so the page asks for it. Whatever the source, its fingerprint must match.
 */
async function resolveDataset(
  deps: DatasetDeps, manifest: PackageManifest, entries: Map<string, Uint8Array>, options: ImportOptions, now: number,
): Promise<DatasetOutcome> {
  const database = await deps.database();
  const wanted = manifest.checkpoint.datasetFingerprint;
  const matrix = isMatrixMeta(manifest) ? (manifest.dataset.meta as MatrixMeta) : null;
  if (manifest.dataset.included) {
    if (matrix) {
      const features = floats(entries.get(PACKAGE_PATHS.features)!, PACKAGE_PATHS.features, matrix.numSamples * matrix.numFeatures);
      const targets = floats(entries.get(PACKAGE_PATHS.targets)!, PACKAGE_PATHS.targets, matrix.numSamples);
      const { fingerprint: _f, createdAt: _c, ...rest } = matrix;
      return { dataset: await matrixDataset(matrix, { ...rest, features, targets }, now, "The package's dataset"), how: 'included' };
    }
    const meta = manifest.dataset.meta as DatasetSummary;
    const dataset: Dataset =
      meta.kind === 'images' ? { ...meta, images: imagesFromFiles(entries) }
      : meta.kind === 'text' ? textFromFiles(entries, meta)
      : { ...meta, kind: 'table', table: tableFromFiles(entries) };
    const fingerprint = await computeFingerprint(dataset);
    if (fingerprint !== wanted || meta.fingerprint !== wanted)
      throw new ImportError(`The package's dataset does not match the one its checkpoint was trained on (fingerprint ${fingerprint.slice(0, 12)} ≠ ${wanted.slice(0, 12)}).`);
    return { dataset, how: 'included' };
  }
  const stored = await db.datasetByFingerprint(database, wanted);
  if (stored) {
    const dataset = await db.getDataset(database, stored.id);
    if (dataset) return { dataset, how: 'already-stored' };
  }
  const sourceId = manifest.dataset.meta.id.split('@')[0]!;
  if (isSampleId(sourceId)) {
    // Made in memory and stored with the job only if it is the right data.
    const dataset = await sampleDataset(deps, sourceId);
    if (dataset.fingerprint === wanted) return { dataset, how: 'supplied' };
  }
  if (!options.datasetFile) return null;
  if ((manifest.dataset.meta as DatasetSummary).kind === 'images')
    throw new ImportError(`The package was exported without its images, and no stored dataset matches them: export it again with “include the dataset” on.`);
  if ((manifest.dataset.meta as DatasetSummary).kind === 'text') return chosenText(manifest, options.datasetFile, now);
  const { table, notices } = await readTable(options.datasetFile).catch((err: unknown) => {
    throw new ImportError(`The chosen file could not be read: ${err instanceof Error ? err.message : String(err)}`);
  });
  const fileName = (options.datasetFile as File).name ?? 'table.csv';
  let dataset = await tableDataset(table, { sourceId: 'upload', name: manifest.dataset.meta.name, fileName, source: 'upload', notices, now });
  const names = matrix
    ? { featureNames: matrix.featureNames, targetName: matrix.targetName, classNames: matrix.classNames, task: matrix.task }
    : (manifest.dataset.meta as DatasetSummary & { matrix?: undefined }).matrix;
  // Data first seen as a numeric matrix is identified by it: rebuild it from the chosen file's columns.
  if (names) dataset = { ...dataset, id: manifest.dataset.meta.id, matrix: names };
  const fingerprint = await computeFingerprint(dataset).catch(() => '');
  if (fingerprint !== wanted)
    throw new ImportError(
      `“${fileName}” is not the dataset “${manifest.job.name}” was trained on (its rows, columns or values differ), so training could not continue the same run. Choose the original file.`,
    );
  return { dataset: { ...dataset, fingerprint }, how: 'supplied' };
}

/** The text file the user chose for a package exported without its text; it must be the same text. */
async function chosenText(manifest: PackageManifest, file: Blob, now: number): Promise<DatasetOutcome> {
  const fileName = (file as File).name ?? 'text.txt';
  const meta = manifest.dataset.meta as TextSummary;
  let dataset: Dataset;
  try {
    const { text, notices } = decodeTextBytes(new Uint8Array(await file.arrayBuffer()), `“${fileName}”`);
    dataset = await textDataset(text, { name: meta.name, sourceId: meta.id.split('@')[0]!, source: 'upload', fileName, notices, now });
  } catch (err) {
    throw new ImportError(`The chosen file could not be read: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (dataset.fingerprint !== manifest.checkpoint.datasetFingerprint)
    throw new ImportError(`“${fileName}” is not the text “${manifest.job.name}” was trained on, so training could not continue the same run. Choose the original file.`);
  return { dataset, how: 'supplied' };
}

function importedJob(manifest: PackageManifest, dataset: Dataset, id: string, checkpoint: db.CheckpointRecord, fileName: string, now: number): JobRecord {
  const { config } = manifest;
  const { cursor, history } = checkpoint;
  const done = cursor.epoch >= config.epochs;
  const numTrain =
    dataset.kind === 'images' ? splitRows(dataset.rows, config.validationSplit, config.seed).train.length
    : dataset.kind === 'text' ? textWindowsPerEpoch(dataset.characters, config)
    : splitTable(dataset, config).train.length;
  const stepsPerEpoch = Math.ceil(numTrain / config.batchSize);
  const total = stepsPerEpoch * config.epochs;
  const last = history[history.length - 1];
  return {
    id, name: `${manifest.job.name}${IMPORTED_SUFFIX}`, state: done ? 'completed' : 'paused',
    datasetId: dataset.id, config, configHash: manifest.configHash,
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

function needsText(fileName: string, manifest: PackageManifest, meta: TextSummary): ImportResult {
  const file = meta.fileName ? ` (from “${meta.fileName}”)` : '';
  return {
    kind: 'needs-dataset', fileName, jobName: manifest.job.name,
    dataset: { name: meta.name, fileName: meta.fileName, rows: meta.characters, columns: [], fingerprint: manifest.checkpoint.datasetFingerprint },
    message: `“${fileName}” was exported without its text, and no stored dataset matches it. Choose the text file of “${meta.name}”${file}: ${meta.characters} characters.`,
  };
}

export async function importPackage(
  deps: DatasetDeps, fileName: string, entries: Map<string, Uint8Array>, options: ImportOptions, now: number,
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
  const resolved = await resolveDataset(deps, manifest, entries, options, now);
  const meta = manifest.dataset.meta;
  if (!resolved) {
    const matrix = isMatrixMeta(manifest) ? (meta as MatrixMeta) : null;
    const summary = matrix ? null : (meta as DatasetSummary);
    if (summary?.kind === 'text') return needsText(fileName, manifest, summary);
    const columns = matrix ? [...matrix.featureNames, matrix.targetName] : summary!.kind === 'table' ? summary!.columns.map((c) => c.name) : [];
    const rows = matrix ? matrix.numSamples : summary!.rows;
    const file = summary?.fileName ? ` (from “${summary.fileName}”)` : '';
    return {
      kind: 'needs-dataset', fileName, jobName: manifest.job.name,
      dataset: { name: meta.name, fileName: summary?.fileName ?? null, rows, columns, fingerprint: manifest.checkpoint.datasetFingerprint },
      message: `“${fileName}” was exported without its dataset, and no stored dataset matches it. Choose the file of “${meta.name}”${file}: ${rows} rows with the columns ${columns.join(', ')}.`,
    };
  }
  const server = options.serverJob;
  const jobId = server?.id ?? crypto.randomUUID();
  const stored = await resealCheckpoint(checkpoint, jobId, checkpoint.seq);
  const imported = importedJob({ ...manifest, config }, resolved.dataset, jobId, stored, fileName, now);
  // A checkpoint claimed from the server's queue: the server's job, under its own name, resumed by the runner.
  const job: JobRecord = server
    ? {
        ...imported, name: server.name, serverJob: { generation: server.generation }, breakpoint: server.breakpoint,
        notice: `Claimed from the server at step ${stored.cursor.globalStep}.`,
        log: appendEntry(sanitizeLog(manifest.job.log), { at: now, kind: 'imported', text: `Claimed from the server (lease ${server.generation}) at step ${stored.cursor.globalStep}` }),
      }
    : imported;
  const database = await deps.database();
  const written = await db.putImportedJob(database, job, stored, resolved.how === 'already-stored' ? null : resolved.dataset);
  return { kind: 'package', job: written, dataset: resolved.how };
}
