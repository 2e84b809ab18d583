// TrainerClient: the only page code that knows a training worker exists. It starts the worker on
// first use, races every call against a timeout and the worker's death, and reports deaths.
import * as Comlink from 'comlink';
import { transferablesOf, type DatasetSummary } from '../../shared/dataset';
import type { Evaluation } from '../../shared/evaluation';
import type { SampleId } from '../../shared/samples';
import type { TablePlan } from '../../shared/table-types';
import type { Breakpoint, JobRecord, JobState } from '../../shared/jobs';
import type {
  ExportedFile, FineTuneRequest, ImportOptions, ImportResult, InputFile, ModelExport, Prediction,
} from '../../shared/package-format';
import type {
  BackendInfo,
  CaptureCounts,
  DatasetDeleteOutcome,
  ImageImport,
  ImageImportRequest,
  PlanCheck,
  SubmitRequest,
  TableImport,
  TensorMemory,
  TrainerApi,
  WorkerEvent,
  WorkerSettings,
} from '../../shared/protocol';
import type { GenerateRequest, GenerateResult, NextCharacters } from '../../shared/text-generation';

/** Default budget for one call to the worker. */
export const CALL_TIMEOUT_MS = 15_000;
/** The first WebGPU step compiles shaders, which takes minutes on a software adapter. */
export const START_TIMEOUT_MS = 180_000;
/** Export, import, prediction and fine-tuning read and write whole files; a big one takes a while. */
export const FILE_CALL_TIMEOUT_MS = 180_000;
/** Reading a table file of hundreds of MB takes minutes; progress shows, and the user can cancel. */
export const TABLE_IMPORT_TIMEOUT_MS = 900_000;
/** Generating thousands of characters between training steps on a slow backend takes minutes; Stop ends it sooner. */
export const GENERATE_TIMEOUT_MS = 900_000;
/** How often a worker that is training is asked whether it is still alive. */
export const HEARTBEAT_INTERVAL_MS = 3_000;
/** A worker that has not answered a ping for this long is taken as dead. */
export const HEARTBEAT_TIMEOUT_MS = 30_000;

export class WorkerCrashedError extends Error {
  constructor(reason: string) {
    super(`The training worker stopped: ${reason}`);
    this.name = 'WorkerCrashedError';
  }
}

export class TrainerTimeoutError extends Error {
  constructor(
    readonly call: string,
    readonly timeoutMs: number,
  ) {
    super(`The training worker did not answer "${call}" within ${Math.round(timeoutMs / 1000)} s.`);
    this.name = 'TrainerTimeoutError';
  }
}

/** What the client needs of a Worker; tests hand in a MessagePort-backed fake. */
export interface WorkerLike extends Comlink.Endpoint {
  terminate(): void;
}

export interface TrainerClientOptions {
  settings: WorkerSettings;
  onEvent: (event: WorkerEvent) => void;
  /** Called after the worker died and was dropped; `jobId` is the job it was running, if any. */
  onCrash: (jobId: string | null, error: WorkerCrashedError) => void;
  createWorker?: () => WorkerLike;
  /** Tests shorten these; the defaults are the constants above. */
  callTimeoutMs?: number;
  startTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
}

export function createTrainerWorker(): WorkerLike {
  return new Worker(new URL('../../workers/trainer.worker.ts', import.meta.url), { type: 'module' });
}

/** One spawned worker; everything pending on it fails together when it dies. */
interface Live {
  worker: WorkerLike;
  api: Comlink.Remote<TrainerApi>;
  ready: Promise<void>;
  initialised: boolean;
  pending: Set<(error: Error) => void>;
  onError: (event: Event) => void;
}

export class TrainerClient {
  #opts: Required<Omit<TrainerClientOptions, 'settings'>>;
  #settings: WorkerSettings;
  #live: Live | null = null;
  /** The job this worker is running, learned from its events; the heartbeat watches only then. */
  #runningJobId: string | null = null;
  #startsInFlight = 0;
  #heartbeat: ReturnType<typeof setInterval> | null = null;
  #pingInFlight = false;
  #disposed = false;

  constructor(options: TrainerClientOptions) {
    this.#settings = options.settings;
    this.#opts = {
      onEvent: options.onEvent,
      onCrash: options.onCrash,
      createWorker: options.createWorker ?? createTrainerWorker,
      callTimeoutMs: options.callTimeoutMs ?? CALL_TIMEOUT_MS,
      startTimeoutMs: options.startTimeoutMs ?? START_TIMEOUT_MS,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? HEARTBEAT_TIMEOUT_MS,
    };
  }

  get isRunning(): boolean {
    return this.#live !== null;
  }

  async updateSettings(settings: WorkerSettings): Promise<void> {
    this.#settings = settings;
    // A worker that does not exist yet gets these settings in `init`.
    if (this.#live) await this.#call('updateSettings', (api) => api.updateSettings(settings));
  }

  /** Data handed in as arrays is transferred: the caller must not reuse it. */
  submit(request: SubmitRequest): Promise<JobRecord> {
    const buffers = 'dataset' in request ? transferablesOf(request.dataset) : [];
    return this.#call('submit', (api) => api.submit(Comlink.transfer(request, buffers)));
  }

  // ---- Datasets, evaluation and predictions (issue 8) ----

  sample(id: SampleId): Promise<TableImport> {
    return this.#call('sample', (api) => api.sample(id), FILE_CALL_TIMEOUT_MS);
  }

  /** The file is read by the worker as it streams; the page never holds its text. */
  importTable(file: File, onProgress: (bytesRead: number, totalBytes: number) => void): Promise<TableImport> {
    // The worker releases this proxy (and its MessagePort) when the import ends.
    return this.#call('importTable', (api) => api.importTable(file, Comlink.proxy(onProgress)), TABLE_IMPORT_TIMEOUT_MS);
  }

  cancelImport(): Promise<void> {
    return this.#call('cancelImport', (api) => api.cancelImport());
  }

  listDatasets(): Promise<DatasetSummary[]> {
    return this.#call('listDatasets', (api) => api.listDatasets());
  }

  renameDataset(id: string, name: string): Promise<DatasetSummary> {
    return this.#call<DatasetSummary>('renameDataset', (api) => api.renameDataset(id, name));
  }

  deleteDataset(id: string, options: { force: boolean }): Promise<DatasetDeleteOutcome> {
    return this.#call('deleteDataset', (api) => api.deleteDataset(id, options));
  }

  checkPlan(datasetId: string, plan: TablePlan): Promise<PlanCheck> {
    return this.#call('checkPlan', (api) => api.checkPlan(datasetId, plan), FILE_CALL_TIMEOUT_MS);
  }

  evaluate(jobId: string): Promise<Evaluation> {
    return this.#call<Evaluation>('evaluate', (api) => api.evaluate(jobId), FILE_CALL_TIMEOUT_MS);
  }

  predictRecords(jobId: string, records: Record<string, string>[]): Promise<Prediction> {
    return this.#call('predictRecords', (api) => api.predictRecords(jobId, records), FILE_CALL_TIMEOUT_MS);
  }

  predictFile(jobId: string, file: File): Promise<ExportedFile> {
    return this.#call('predictFile', (api) => api.predictFile(jobId, file), TABLE_IMPORT_TIMEOUT_MS);
  }

  // ---- Images (issue 9): decoding, camera frames and image predictions happen in the worker ----

  /** The files are handed over as File handles; the worker reads and decodes them. */
  importImages(request: ImageImportRequest, onProgress: (done: number, total: number) => void): Promise<ImageImport> {
    // The worker releases this proxy (and its MessagePort) when the import ends.
    return this.#call('importImages', (api) => api.importImages(request, Comlink.proxy(onProgress)), TABLE_IMPORT_TIMEOUT_MS);
  }

  cancelImageImport(): Promise<void> {
    return this.#call('cancelImageImport', (api) => api.cancelImageImport());
  }

  /** The frame is transferred: it is closed here. */
  captureFrame(label: string, frame: ImageBitmap): Promise<CaptureCounts> {
    return this.#call('captureFrame', (api) => api.captureFrame(label, Comlink.transfer(frame, [frame])));
  }

  clearCapture(label: string | null): Promise<CaptureCounts> {
    return this.#call('clearCapture', (api) => api.clearCapture(label));
  }

  importText(input: { file: Blob } | { text: string; name: string }): Promise<TableImport> {
    return this.#call('importText', (api) => api.importText(input), TABLE_IMPORT_TIMEOUT_MS);
  }

  /** `onChars` gets each character as it is written; the worker releases the proxy when the generation ends. */
  generateText(jobId: string, request: GenerateRequest, onChars: (chars: string) => void): Promise<GenerateResult> {
    return this.#call('generateText', (api) => api.generateText(jobId, request, Comlink.proxy(onChars)), GENERATE_TIMEOUT_MS);
  }

  generateImportedText(files: InputFile[], request: GenerateRequest, onChars: (chars: string) => void): Promise<GenerateResult> {
    return this.#call('generateImportedText', (api) => api.generateImportedText(Comlink.transfer(files, buffersOf(files)), request, Comlink.proxy(onChars)), GENERATE_TIMEOUT_MS);
  }

  stopGeneration(): Promise<void> {
    return this.#call('stopGeneration', (api) => api.stopGeneration());
  }

  nextCharacters(jobId: string, prompt: string): Promise<NextCharacters> {
    return this.#call('nextCharacters', (api) => api.nextCharacters(jobId, prompt), FILE_CALL_TIMEOUT_MS);
  }

  /** A camera frame is transferred; a file is handed over as is. */
  predictImage(jobId: string, image: Blob | ImageBitmap): Promise<Prediction> {
    const call = image instanceof Blob ? image : Comlink.transfer(image, [image]);
    return this.#call('predictImage', (api) => api.predictImage(jobId, call), FILE_CALL_TIMEOUT_MS);
  }

  async start(jobId: string): Promise<JobRecord> {
    this.#startsInFlight++;
    try {
      const job = await this.#call('start', (api) => api.start(jobId), this.#opts.startTimeoutMs);
      this.#noteState(job.id, job.state);
      return job;
    } finally {
      this.#startsInFlight--;
    }
  }

  async pause(jobId: string): Promise<JobRecord> {
    const job = await this.#call('pause', (api) => api.pause(jobId));
    this.#noteState(job.id, job.state);
    return job;
  }

  async resume(jobId: string): Promise<JobRecord | null> {
    const job = await this.#call('resume', (api) => api.resume(jobId));
    if (job) this.#noteState(job.id, job.state);
    return job;
  }

  async cancel(jobId: string): Promise<JobRecord> {
    const job = await this.#call('cancel', (api) => api.cancel(jobId));
    this.#noteState(job.id, job.state);
    return job;
  }

  setBreakpoint(jobId: string, breakpoint: Breakpoint | null): Promise<JobRecord> {
    return this.#call('setBreakpoint', (api) => api.setBreakpoint(jobId, breakpoint));
  }

  activeJob(): Promise<{ jobId: string; state: JobState } | null> {
    return this.#call('activeJob', (api) => api.activeJob());
  }

  backend(): Promise<BackendInfo> {
    return this.#call('backend', (api) => api.backend(), this.#opts.startTimeoutMs);
  }

  memory(): Promise<TensorMemory> {
    return this.#call('memory', (api) => api.memory());
  }

  exportModel(jobId: string, options: { zip: boolean }): Promise<ModelExport> {
    return this.#call<ModelExport>('exportModel', (api) => api.exportModel(jobId, options), FILE_CALL_TIMEOUT_MS);
  }

  exportPackage(jobId: string, options: { includeDataset: boolean }): Promise<ExportedFile> {
    return this.#call('exportPackage', (api) => api.exportPackage(jobId, options), FILE_CALL_TIMEOUT_MS);
  }

  /** The files' buffers are transferred: the caller must not reuse them. */
  importFiles(files: InputFile[], options: ImportOptions = {}): Promise<ImportResult> {
    return this.#call<ImportResult>('importFiles', (api) => api.importFiles(Comlink.transfer(files, unique(buffersOf(files))), options), FILE_CALL_TIMEOUT_MS);
  }

  /** The files' buffers are transferred. */
  predictImportedModel(files: InputFile[], rows: number[][]): Promise<Prediction> {
    return this.#call('predictImportedModel', (api) => api.predictImportedModel(Comlink.transfer(files, buffersOf(files)), rows), FILE_CALL_TIMEOUT_MS);
  }

  /** The files' buffers are transferred. */
  fineTuneImportedModel(files: InputFile[], request: FineTuneRequest): Promise<JobRecord> {
    return this.#call('fineTuneImportedModel', (api) => api.fineTuneImportedModel(Comlink.transfer(files, unique(buffersOf(files))), request), FILE_CALL_TIMEOUT_MS);
  }

  dispose(): void {
    this.#disposed = true;
    this.#drop(new WorkerCrashedError('the page closed it.'));
  }

  async #call<T>(name: string, fn: (api: Comlink.Remote<TrainerApi>) => Promise<T>, timeoutMs?: number): Promise<T> {
    const live = this.#spawn();
    await live.ready;
    if (live !== this.#live) throw new WorkerCrashedError('it died before the call could be sent.');
    return this.#race(live, name, fn(live.api), timeoutMs ?? this.#opts.callTimeoutMs);
  }

  #spawn(): Live {
    if (this.#disposed) throw new WorkerCrashedError('the page closed it.');
    if (this.#live) return this.#live;
    const worker = this.#opts.createWorker();
    const api = Comlink.wrap<TrainerApi>(worker);
    const live: Live = {
      worker,
      api,
      ready: Promise.resolve(),
      initialised: false,
      pending: new Set(),
      onError: (event) => this.#onWorkerError(live, event),
    };
    worker.addEventListener('error', live.onError);
    worker.addEventListener('messageerror', live.onError);
    this.#live = live;
    const listener = (event: WorkerEvent): void => this.#onWorkerEvent(live, event);
    live.ready = this.#race(live, 'init', api.init(this.#settings, Comlink.proxy(listener)), this.#opts.callTimeoutMs)
      .then(() => {
        live.initialised = true;
      })
      .catch((error: unknown) => {
        // A worker that cannot even initialise is useless; the next call tries a fresh one.
        if (live === this.#live) this.#drop(new WorkerCrashedError('it could not initialise.'));
        throw error;
      });
    // Every call awaits `ready` and sees its failure; this only keeps it from counting as unhandled.
    void live.ready.catch(() => undefined);
    return live;
  }

  /** Settles with `work`, or rejects on timeout or when `live` dies first. */
  #race<T>(live: Live, name: string, work: Promise<T>, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fail = (error: Error): void => {
        clearTimeout(timer);
        live.pending.delete(fail);
        reject(error);
      };
      const timer = setTimeout(() => fail(new TrainerTimeoutError(name, timeoutMs)), timeoutMs);
      live.pending.add(fail);
      work.then(
        (value) => {
          clearTimeout(timer);
          live.pending.delete(fail);
          resolve(value);
        },
        (error: unknown) => fail(error instanceof Error ? error : new Error(String(error))),
      );
    });
  }

  /**
   * A worker that fails before `init` answers is dead. Later, an `error` event may come from the
   * worker's own sub-workers (the WASM backend's threads) while it keeps working, so it only
   * counts as death if the worker then fails to answer a ping.
   */
  #onWorkerError(live: Live, event: Event): void {
    if (live !== this.#live) return;
    const reason = describeWorkerError(event);
    if (!live.initialised) {
      this.#die(live, reason);
      return;
    }
    const timeoutMs = this.#startsInFlight > 0 ? this.#opts.startTimeoutMs : this.#opts.heartbeatTimeoutMs;
    void this.#race(live, 'ping', live.api.ping(), timeoutMs).catch(() => this.#die(live, reason));
  }

  #onWorkerEvent(live: Live, event: WorkerEvent): void {
    // A dead worker's last words must not flip state on the next one.
    if (live !== this.#live) return;
    if (event.type === 'job') this.#noteState(event.job.id, event.job.state);
    else if (event.type === 'progress') this.#noteState(event.progress.jobId, event.progress.state);
    this.#opts.onEvent(event);
  }

  #noteState(jobId: string, state: JobState): void {
    if (state === 'running') this.#runningJobId = jobId;
    else if (this.#runningJobId === jobId) this.#runningJobId = null;
    this.#syncHeartbeat();
  }

  #syncHeartbeat(): void {
    const wanted = this.#runningJobId !== null && this.#live !== null;
    if (wanted && this.#heartbeat === null) {
      this.#heartbeat = setInterval(() => this.#beat(), this.#opts.heartbeatIntervalMs);
    } else if (!wanted && this.#heartbeat !== null) {
      clearInterval(this.#heartbeat);
      this.#heartbeat = null;
    }
  }

  #beat(): void {
    const live = this.#live;
    // A start may legitimately block the worker for minutes (shader compilation).
    if (!live || this.#pingInFlight || this.#startsInFlight > 0) return;
    this.#pingInFlight = true;
    void this.#race(live, 'ping', live.api.ping(), this.#opts.heartbeatTimeoutMs)
      .catch((error: unknown) => {
        if (error instanceof TrainerTimeoutError)
          this.#die(live, `it stopped answering (no heartbeat for ${Math.round(error.timeoutMs / 1000)} s).`);
      })
      .finally(() => {
        this.#pingInFlight = false;
      });
  }

  #die(live: Live, reason: string): void {
    if (live !== this.#live) return;
    const jobId = this.#runningJobId;
    const error = new WorkerCrashedError(reason);
    this.#drop(error);
    this.#opts.onCrash(jobId, error);
  }

  /** Fails everything pending, then terminates and forgets the worker; the next call spawns a new one. */
  #drop(error: WorkerCrashedError): void {
    const live = this.#live;
    this.#live = null;
    this.#runningJobId = null;
    this.#syncHeartbeat();
    if (!live) return;
    for (const fail of [...live.pending]) fail(error);
    live.worker.removeEventListener('error', live.onError);
    live.worker.removeEventListener('messageerror', live.onError);
    live.api[Comlink.releaseProxy]();
    live.worker.terminate();
  }
}

function buffersOf(files: InputFile[]): ArrayBuffer[] {
  return unique(files.map((f) => f.bytes.buffer).filter((b): b is ArrayBuffer => b instanceof ArrayBuffer));
}

/** A buffer listed twice makes postMessage throw. */
function unique(buffers: ArrayBuffer[]): ArrayBuffer[] {
  return [...new Set(buffers)];
}

function describeWorkerError(event: Event): string {
  if (event.type === 'messageerror') return 'a message from it could not be read.';
  const message = (event as ErrorEvent).message;
  return message && !message.includes('[object') ? message : 'it failed to load or threw an uncaught error.';
}
