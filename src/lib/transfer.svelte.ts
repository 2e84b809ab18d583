// Export, import and share on the page: asks the worker (through TrainerClient) for files, hands
// them to the browser (download, Web Share, clipboard), and feeds picked, dropped, launched or
// shared files to `importFiles` as one batch, turning each result into what the user sees.
// Components call these methods; the browser plumbing is in transfer-io.ts, the words in transfer-text.ts.
import type { JobRecord } from '../../shared/jobs';
import type { TablePlan } from '../../shared/table-types';
import type { ExportedFile, ImportedModelInfo, ImportOptions, Prediction } from '../../shared/package-format';
import type { TrainerClient } from './trainer-client';
import { copyText, download, onLaunchFiles, readFiles, shareFiles, takeSharedFiles, toFile } from './transfer-io';
import {
  describeFiles, describePrediction, hasSharedFlag, parseRows, shareDescription, withoutSharedFlag,
} from './transfer-text';

type TransferClient = Pick<
  TrainerClient,
  'exportModel' | 'exportPackage' | 'importFiles' | 'predictImportedModel' | 'fineTuneImportedModel'
>;

export interface TransferDeps {
  /** Null until the app has started. */
  client: () => TransferClient | null;
  /** A package import stored this job: show and select it. */
  jobImported: (job: JobRecord) => void;
  /** Fine-tuning queued this job: show, select, and have the leader start it. */
  jobQueued: (job: JobRecord) => void;
  /** Whether a picked or dropped file is a table (it becomes a dataset, not an import). */
  isTable: (file: File) => boolean;
  addTable: (file: File) => Promise<void>;
  /** A drop of a folder or of images: taken (true) by the image import, which must read it during the event. */
  dropImages?: (transfer: DataTransfer) => boolean;
}

export interface PredictionView {
  /** Raw model outputs per row (logits for Lathe classifiers), for exact comparisons. */
  outputs: number[][];
  lines: string[];
}

export interface ImportedModel {
  info: ImportedModelInfo;
  /** Kept as Files (disk-backed Blobs) and read again for every prediction or fine-tune. */
  files: File[];
}

function message(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

function view(p: Prediction): PredictionView {
  return { outputs: p.outputs, lines: describePrediction(p) };
}

export class Transfer {
  /** What is happening now, e.g. "Exporting…"; null when idle. */
  busy: string | null = $state(null);
  exportError: string | null = $state(null);
  /** Why an import was refused, naming the problem (role=alert). */
  importError: string | null = $state(null);
  importStatus: string | null = $state(null);
  /** A package that needs a dataset Lathe cannot supply by itself: the user chooses its file. */
  needsDataset: { message: string; files: File[] } | null = $state.raw(null);
  imported: ImportedModel | null = $state.raw(null);
  importedPrediction: PredictionView | null = $state.raw(null);
  importedPredictError: string | null = $state(null);
  /** The browser could not share: offer these instead. */
  shareFallback: { file: ExportedFile; description: string } | null = $state.raw(null);
  shareStatus: string | null = $state(null);
  dragging = $state(false);

  #deps: TransferDeps;
  #dragDepth = 0;

  constructor(deps: TransferDeps) {
    this.#deps = deps;
  }

  #client(): TransferClient {
    const client = this.#deps.client();
    if (!client) throw new Error('Lathe is still starting; try again in a moment.');
    return client;
  }

  /** Runs `work` with a busy line; its failure lands in `onError` instead of rejecting. */
  async #run(label: string, work: () => Promise<void>, onError: (text: string) => void): Promise<void> {
    this.busy = label;
    try {
      await work();
    } catch (error) {
      console.error(`Lathe: ${label}`, error);
      onError(message(error));
    } finally {
      this.busy = null;
    }
  }

  // ---- Export and share ----

  exportModel(jobId: string, zip: boolean): Promise<void> {
    this.exportError = null;
    return this.#run(zip ? 'Exporting the model as a zip…' : 'Exporting the model files…', async () => {
      const result = await this.#client().exportModel(jobId, { zip });
      await download(result.kind === 'zip' ? [result.file] : result.files);
    }, (text) => (this.exportError = `Could not export the model: ${text}`));
  }

  exportPackage(jobId: string, includeDataset: boolean): Promise<void> {
    this.exportError = null;
    return this.#run('Exporting the training package…', async () => {
      await download([await this.#client().exportPackage(jobId, { includeDataset })]);
    }, (text) => (this.exportError = `Could not export the training package: ${text}`));
  }

  /** Shares the training package; where the browser cannot share it, offers download and copy. */
  share(job: JobRecord, includeDataset: boolean): Promise<void> {
    this.exportError = null;
    this.shareStatus = null;
    this.shareFallback = null;
    return this.#run('Preparing the package to share…', async () => {
      const file = await this.#client().exportPackage(job.id, { includeDataset });
      const description = shareDescription(file.name, file.bytes.byteLength, job.name, job.checkpointStep);
      const outcome = await shareFiles([toFile(file)], job.name, description);
      if (outcome === 'shared') this.shareStatus = `Shared “${file.name}”.`;
      else if (outcome === 'cancelled') this.shareStatus = 'Sharing was cancelled.';
      else this.shareFallback = { file, description };
    }, (text) => (this.exportError = `Could not share: ${text}`));
  }

  shareDownload(): Promise<void> {
    const fallback = this.shareFallback;
    if (!fallback) return Promise.resolve();
    return this.#run('Downloading…', () => download([fallback.file]), (text) => (this.exportError = `Could not download: ${text}`));
  }

  async shareCopy(): Promise<void> {
    const fallback = this.shareFallback;
    if (!fallback) return;
    try {
      await copyText(fallback.description);
      this.shareStatus = 'Copied the file name and a description. Send the downloaded file with it.';
    } catch (error) {
      this.shareStatus = `Could not copy (${message(error)}). Download the file and send it instead.`;
    }
  }

  dismissShare(): void {
    this.shareFallback = null;
    this.shareStatus = null;
  }

  // ---- Import ----

  /** Imports everything given at once (a package, a model zip, or model.json with its weights). */
  importFiles(files: readonly File[]): Promise<void> {
    const tables = files.filter((f) => this.#deps.isTable(f));
    const picked = files.filter((f) => !this.#deps.isTable(f));
    this.importError = null;
    this.importStatus = null;
    this.needsDataset = null;
    const addTables = async (): Promise<void> => {
      for (const t of tables) await this.#deps.addTable(t);
    };
    if (picked.length === 0) return addTables();
    const what = describeFiles(picked.map((f) => f.name));
    return this.#run(`Importing ${what}…`, () => this.#import(picked), (text) => (this.importError = text)).then(addTables);
  }

  /** The file of the dataset a package was exported without; its fingerprint must match. */
  supplyDataset(file: File): Promise<void> {
    const pending = this.needsDataset;
    if (!pending) return Promise.resolve();
    this.importError = null;
    return this.#run(`Importing with “${file.name}”…`, async () => {
      await this.#import(pending.files, { datasetFile: file });
      this.needsDataset = null;
    }, (text) => (this.importError = text));
  }

  async #import(files: File[], options: ImportOptions = {}): Promise<void> {
    const result = await this.#client().importFiles(await readFiles(files), options);
    if (result.kind === 'package') {
      this.#deps.jobImported(result.job);
      const how =
        result.dataset === 'supplied'
          ? options.datasetFile ? ` with the dataset from “${(options.datasetFile as File).name}”` : ' with the built-in sample dataset'
          : result.dataset === 'already-stored' ? ' with its dataset, which was already stored' : '';
      this.importStatus = `Imported “${result.job.name}”${how}.`;
    } else if (result.kind === 'model') {
      this.imported = { info: result.model, files };
      this.importedPrediction = null;
      this.importedPredictError = null;
      this.importStatus = `Loaded the model “${result.model.fileName}”.`;
    } else {
      // Neither inside the package, nor stored, nor a built-in sample: ask for its file.
      this.needsDataset = { message: result.message, files };
    }
  }

  /** Drag-and-drop onto the page: only drags that carry files show the drop zone. */
  dragEnter(event: DragEvent): void {
    if (!event.dataTransfer?.types.includes('Files')) return;
    event.preventDefault();
    this.#dragDepth++;
    this.dragging = true;
  }

  dragOver(event: DragEvent): void {
    if (!this.dragging) return;
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
  }

  dragLeave(): void {
    this.#dragDepth = Math.max(0, this.#dragDepth - 1);
    if (this.#dragDepth === 0) this.dragging = false;
  }

  drop(event: DragEvent): Promise<void> {
    const files = event.dataTransfer ? [...event.dataTransfer.files] : [];
    if (files.length > 0 || this.dragging) event.preventDefault();
    this.#dragDepth = 0;
    this.dragging = false;
    if (event.dataTransfer && this.#deps.dropImages?.(event.dataTransfer)) return Promise.resolve();
    return this.importFiles(files);
  }

  /** Files from the installed app's file handlers and from the share target. Never rejects. */
  async takeStartupFiles(search: string): Promise<void> {
    onLaunchFiles(
      (files) => void this.importFiles(files),
      (error) => (this.importError = `Could not open the files Lathe was launched with: ${message(error)}`),
    );
    if (!hasSharedFlag(search)) return;
    try {
      const files = await takeSharedFiles();
      history.replaceState(history.state, '', withoutSharedFlag(location.href));
      if (files.length === 0) this.importError = 'The shared files did not arrive; share them again or open them with Import.';
      else await this.importFiles(files);
    } catch (error) {
      this.importError = `Could not read the shared files: ${message(error)}`;
    }
  }

  // ---- Predictions and fine-tuning ----

  predictImported(text: string): Promise<void> {
    const model = this.imported;
    this.importedPredictError = null;
    if (!model) return Promise.resolve();
    const parsed = parseRows(text, model.info.numInputs);
    if (!parsed.ok) {
      this.importedPredictError = parsed.error;
      return Promise.resolve();
    }
    return this.#run('Predicting…', async () => {
      this.importedPrediction = view(await this.#client().predictImportedModel(await readFiles(model.files), parsed.rows));
    }, (text) => (this.importedPredictError = text));
  }

  /** A queued job fine-tuning the imported model on the dataset (and plan) chosen in the setup panel. */
  fineTune(dataset: { id: string; name: string } | null, plan: TablePlan | null): Promise<void> {
    const model = this.imported;
    this.importedPredictError = null;
    if (!model) return Promise.resolve();
    if (!dataset) {
      this.importedPredictError = 'Choose a dataset in the setup panel first (it is still loading).';
      return Promise.resolve();
    }
    const name = `${model.info.fileName} fine-tuned on ${dataset.name}`;
    return this.#run('Preparing the fine-tuning job…', async () => {
      const request = { name, datasetId: dataset.id, ...(plan ? { config: { table: plan } } : {}) };
      const job = await this.#client().fineTuneImportedModel(await readFiles(model.files), request);
      this.#deps.jobQueued(job);
      this.importStatus = `Queued “${job.name}”.`;
    }, (text) => (this.importedPredictError = `Could not fine-tune: ${text}`));
  }

  closeImported(): void {
    this.imported = null;
    this.importedPrediction = null;
    this.importedPredictError = null;
  }
}
