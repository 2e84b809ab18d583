// The bench page's main thread (bench.html): the only code that knows the bench worker exists. It
// runs each call in a fresh worker, races it against a timeout and the worker's death, and hands
// plain JSON to bench/run.mjs through `window.__latheBench`. DOM only: no tfjs here.
import * as Comlink from 'comlink';

/** The bench worker's API as the page sees it; the shape is documented in bench/schema.mjs. */
interface BenchRemote {
  environment(): Promise<unknown>;
  runBackend(request: unknown, listener?: (event: unknown) => void): Promise<unknown>;
  runThreads(request: unknown): Promise<unknown>;
  resumeCheck(request: unknown): Promise<unknown>;
  csvParse(request: { file: File; parser: string }): Promise<unknown>;
  runImages(request: unknown): Promise<unknown>;
  runDecode(spec: unknown): Promise<unknown>;
  runText(request: unknown): Promise<unknown>;
}

export interface LatheBenchPage {
  environment(timeoutMs: number): Promise<unknown>;
  runBackend(request: { backend: string }, timeoutMs: number): Promise<unknown>;
  /** WASM with `threads` threads on one model: a fresh worker per call, so each initialises anew. */
  runThreads(request: { threads: number }, timeoutMs: number): Promise<unknown>;
  /** Exact resume on one backend (and WASM thread count), in a fresh worker. */
  resumeCheck(request: { backend: string; threads: number | null }, timeoutMs: number): Promise<unknown>;
  /**
   * One pass over the file chosen in the page's file input (`bench-file`), by `parser` ('papaparse'
   * alone or the app's 'app' reader), in a fresh worker.
   */
  csvParse(request: { parser: string }, timeoutMs: number): Promise<unknown>;
  /** The image bench on one backend (workers/bench/image-runs.ts), in a fresh worker. */
  runImages(request: { backend: string }, timeoutMs: number): Promise<unknown>;
  /** Image files decoded and stored per second (workers/bench/decode-run.ts), in a fresh worker. */
  runDecode(spec: unknown, timeoutMs: number): Promise<unknown>;
  /** The text bench on one backend (workers/bench/text-runs.ts), in a fresh worker. */
  runText(request: { backend: string }, timeoutMs: number): Promise<unknown>;
  /** Progress events the page received from the last `runBackend`, as the app's page would. */
  progressEventsReceived: number;
}

const statusEl = document.getElementById('status');
const logEl = document.getElementById('log');

function show(status: string): void {
  if (statusEl) statusEl.textContent = status;
  if (logEl) logEl.textContent += `${new Date().toISOString()} ${status}\n`;
}

/** Runs `call` on a fresh worker that is terminated afterwards, whatever happens. */
async function inFreshWorker<T>(label: string, timeoutMs: number, call: (api: Comlink.Remote<BenchRemote>) => Promise<T>): Promise<T> {
  const worker = new Worker(new URL('../../workers/bench.worker.ts', import.meta.url), { type: 'module' });
  const api = Comlink.wrap<BenchRemote>(worker);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onError: ((event: ErrorEvent) => void) | undefined;
  const failure = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} took longer than ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    onError = (event) => reject(new Error(`the bench worker died during ${label}: ${event.message || 'unknown error'}`));
    worker.addEventListener('error', onError);
  });
  show(`${label}: running`);
  try {
    const result = await Promise.race([call(api), failure]);
    show(`${label}: done`);
    return result;
  } catch (err) {
    show(`${label}: ${err instanceof Error ? err.message : String(err)}`);
    throw err;
  } finally {
    clearTimeout(timer);
    if (onError) worker.removeEventListener('error', onError);
    api[Comlink.releaseProxy]();
    worker.terminate();
  }
}

const page: LatheBenchPage = {
  progressEventsReceived: 0,
  environment: (timeoutMs) => inFreshWorker('environment', timeoutMs, (api) => api.environment()),
  runBackend(request, timeoutMs) {
    page.progressEventsReceived = 0;
    const listener = Comlink.proxy(() => {
      page.progressEventsReceived++;
    });
    return inFreshWorker(`backend ${request.backend}`, timeoutMs, (api) => api.runBackend(request, listener));
  },
  runThreads: (request, timeoutMs) =>
    inFreshWorker(`wasm, ${request.threads} thread(s)`, timeoutMs, (api) => api.runThreads(request)),
  runImages: (request, timeoutMs) => inFreshWorker(`images on ${request.backend}`, timeoutMs, (api) => api.runImages(request)),
  runText: (request, timeoutMs) => inFreshWorker(`text on ${request.backend}`, timeoutMs, (api) => api.runText(request)),
  runDecode: (spec, timeoutMs) => inFreshWorker('image decode', timeoutMs, (api) => api.runDecode(spec)),
  resumeCheck: (request, timeoutMs) =>
    inFreshWorker(`resume check on ${request.backend}`, timeoutMs, (api) => api.resumeCheck(request)),
  csvParse(request, timeoutMs) {
    const file = document.querySelector<HTMLInputElement>('[data-testid=bench-file]')?.files?.[0];
    if (!file) return Promise.reject(new Error('No file was chosen in the bench page’s file input.'));
    return inFreshWorker(`CSV parse by ${request.parser}`, timeoutMs, (api) => api.csvParse({ file, parser: request.parser }));
  },
};

(window as unknown as { __latheBench: LatheBenchPage }).__latheBench = page;
document.body.dataset.ready = 'true';
show('ready');
