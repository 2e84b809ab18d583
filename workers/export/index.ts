// The export/import part of the worker API: recognises what the user gave (a `.lathe` package, a
// model zip, loose model.json + weights, or a wrong file) by its bytes, and routes it. The trainer
// API spreads `createTransferApi(...)` into itself; results are plain values (the page's side may
// transfer the byte arrays).
import type { LatheDb } from '../../shared/db';
import type { JobRecord } from '../../shared/jobs';
import {
  ImportError, PACKAGE_PATHS, sniffFileType, wrongTypeMessage, type ImportOptions, type ImportResult, type InputFile,
} from '../../shared/package-format';
import type { TrainerApi } from '../../shared/protocol';
import { fineTuneImportedModel } from './fine-tune';
import { exportModel } from './model-export';
import { modelSourceFromFiles, modelSourceFromZip } from './model-files';
import { inspectModel, predictWithImportedModel } from './model-import';
import { exportPackage } from './package-export';
import { importPackage } from './package-import';
import { readZip } from './zip';

export interface TransferDeps {
  database: () => Promise<LatheDb>;
  now: () => number;
  /** Sample files, so a package without its dataset can be matched with a built-in sample. */
  sampleFile: (file: string) => Promise<Blob>;
  /** Tensor work (loading models, predicting, fine-tuning) needs a backend first. */
  ensureBackend: () => Promise<unknown>;
  /** Tells the page about a job the import created. */
  onJob: (job: JobRecord) => void;
}

export async function importFiles(deps: TransferDeps, files: InputFile[], options: ImportOptions = {}): Promise<ImportResult> {
  if (files.length === 0) throw new ImportError('No file was given to import.');
  const first = files[0]!;
  const type = sniffFileType(first.bytes);
  if (files.length === 1 && type === 'zip') {
    const entries = readZip(first.name, first.bytes);
    if (entries.has(PACKAGE_PATHS.manifest)) return importPackage(deps, first.name, entries, options, deps.now());
    const source = modelSourceFromZip(first.name, entries);
    if (!source)
      throw new ImportError(`“${first.name}” is a zip, but it holds neither a Lathe package (manifest.json) nor a TensorFlow.js model (model.json).`);
    await deps.ensureBackend();
    return { kind: 'model', model: await inspectModel(source) };
  }
  const types = files.map((f) => sniffFileType(f.bytes));
  if (types.includes('zip')) throw new ImportError('Import one package or zip at a time, without other files.');
  // A lone .bin goes on, so the error says its model.json is missing rather than "unknown file".
  if (files.length === 1 && type !== 'json' && !/\.(json|bin)$/i.test(first.name))
    throw new ImportError(wrongTypeMessage(first.name, type));
  const source = modelSourceFromFiles(files);
  await deps.ensureBackend();
  return { kind: 'model', model: await inspectModel(source) };
}

type TransferApi = Pick<
  TrainerApi,
  'exportModel' | 'exportPackage' | 'importFiles' | 'predictImportedModel' | 'fineTuneImportedModel'
>;

export function createTransferApi(deps: TransferDeps): TransferApi {
  return {
    exportModel: async (jobId, options) => exportModel(await deps.database(), jobId, options, deps.now()),
    exportPackage: async (jobId, options) => exportPackage(await deps.database(), jobId, options, deps.now()),
    async importFiles(files, options) {
      const result = await importFiles(deps, files, options);
      if (result.kind === 'package') deps.onJob(result.job);
      return result;
    },
    async predictImportedModel(files, rows) {
      await deps.ensureBackend();
      return predictWithImportedModel(files, rows);
    },
    async fineTuneImportedModel(files, request) {
      await deps.ensureBackend();
      const job = await fineTuneImportedModel(await deps.database(), files, request, deps.now());
      deps.onJob(job);
      return job;
    },
  };
}
