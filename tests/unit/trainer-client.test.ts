// TrainerClient against an in-process fake worker (a MessageChannel with Comlink on both ends).
import * as Comlink from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../shared/jobs';
import type { TrainerApi, WorkerEvent, WorkerEventListener, WorkerSettings } from '../../shared/protocol';
import { TrainerClient, TrainerTimeoutError, WorkerCrashedError, type WorkerLike } from '../../src/lib/trainer-client';

const SETTINGS: WorkerSettings = { backend: 'cpu', checkpointIntervalSec: 10, historyEverySteps: 10 };

/** A Worker stand-in: messages go over a MessagePort, `error` events are ours to fire. */
class FakeWorker extends EventTarget implements WorkerLike {
  terminated = false;
  readonly #port: MessagePort;

  constructor(port: MessagePort) {
    super();
    this.#port = port;
  }
  postMessage(message: unknown, transfer?: Transferable[]): void {
    this.#port.postMessage(message, transfer ?? []);
  }
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject): void {
    if (type === 'message') this.#port.addEventListener('message', listener);
    else super.addEventListener(type, listener);
  }
  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject): void {
    if (type === 'message') this.#port.removeEventListener('message', listener);
    else super.removeEventListener(type, listener);
  }
  start(): void {
    this.#port.start();
  }
  terminate(): void {
    this.terminated = true;
    this.#port.close();
  }
  crash(message: string): void {
    this.dispatchEvent(Object.assign(new Event('error'), { message }));
  }
}

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

function fakeApi(overrides: Partial<TrainerApi> = {}): TrainerApi & { settings: WorkerSettings | null; emit: WorkerEventListener } {
  const api = {
    settings: null as WorkerSettings | null,
    emit: (() => undefined) as WorkerEventListener,
    init(s: WorkerSettings, listener: WorkerEventListener) {
      api.settings = s;
      api.emit = listener;
      return Promise.resolve();
    },
    backend: never,
    updateSettings: () => Promise.resolve(),
    submit: never,
    start: (jobId: string) => Promise.resolve({ id: jobId, state: 'running' } as JobRecord),
    pause: never,
    resume: () => Promise.resolve(null),
    cancel: never,
    setBreakpoint: never,
    activeJob: () => Promise.resolve(null),
    memory: () => Promise.resolve({ numTensors: 0, numBytes: 0 }),
    ping: () => Promise.resolve(1),
    // Export and import (issue 4): not exercised by these tests.
    exportModel: never,
    exportPackage: never,
    importFiles: never,
    sample: never,
    importTable: never,
    cancelImport: never,
    listDatasets: never,
    renameDataset: never,
    deleteDataset: never,
    checkPlan: never,
    evaluate: never,
    predictRecords: never,
    predictFile: never,
    importImages: never,
    cancelImageImport: never,
    captureFrame: never,
    clearCapture: never,
    predictImage: never,
    importText: never,
    generateText: never,
    generateImportedText: never,
    stopGeneration: never,
    nextCharacters: never,
    predictImportedModel: never,
    fineTuneImportedModel: never,
    ...overrides,
  };
  return api;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function rig(apis: ReturnType<typeof fakeApi>[], options: { heartbeatTimeoutMs?: number } = {}) {
  const workers: FakeWorker[] = [];
  const crashes: (string | null)[] = [];
  const events: WorkerEvent[] = [];
  const client = new TrainerClient({
    settings: SETTINGS,
    onEvent: (e) => events.push(e),
    onCrash: (jobId) => crashes.push(jobId),
    createWorker: () => {
      const { port1, port2 } = new MessageChannel();
      const api = apis[workers.length] ?? fakeApi();
      Comlink.expose(api, port2);
      const worker = new FakeWorker(port1);
      workers.push(worker);
      cleanups.push(() => port2.close());
      return worker;
    },
    callTimeoutMs: 100,
    startTimeoutMs: 200,
    heartbeatIntervalMs: 10,
    heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 60,
  });
  cleanups.push(() => client.dispose());
  return { client, workers, crashes, events };
}

describe('TrainerClient', () => {
  it('starts no worker until the first call, then initialises it with the settings', async () => {
    const api = fakeApi();
    const { client, workers } = rig([api]);
    expect(workers).toHaveLength(0);
    await client.updateSettings(SETTINGS);
    expect(workers).toHaveLength(0);
    expect(await client.activeJob()).toBeNull();
    expect(workers).toHaveLength(1);
    expect(api.settings).toEqual(SETTINGS);
  });

  it('a call the worker never answers fails with a timeout instead of hanging', async () => {
    const { client } = rig([fakeApi()]);
    await expect(client.pause('a')).rejects.toBeInstanceOf(TrainerTimeoutError);
  });

  it('a worker error fails pending calls, reports the running job, and the next call gets a fresh worker', async () => {
    const first = fakeApi();
    const { client, workers, crashes } = rig([first, fakeApi()]);
    await client.start('job-1');
    const pending = client.pause('job-1');
    first.ping = never;
    workers[0]!.crash('out of memory');
    await expect(pending).rejects.toBeInstanceOf(WorkerCrashedError);
    expect(workers[0]!.terminated).toBe(true);
    expect(crashes).toEqual(['job-1']);

    expect(await client.resume('job-1')).toBeNull();
    expect(workers).toHaveLength(2);
  });

  it('an error event from a worker that still answers (e.g. a WASM thread failing) does not kill it', async () => {
    const { client, workers, crashes } = rig([fakeApi()]);
    await client.start('job-1');
    workers[0]!.crash('Uncaught [object ErrorEvent]');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(crashes).toEqual([]);
    expect(workers[0]!.terminated).toBe(false);
  });

  it('a worker that fails before it is initialised is dropped at once', async () => {
    const { client, workers, crashes } = rig([fakeApi({ init: never })]);
    const pending = client.activeJob();
    await new Promise((resolve) => setTimeout(resolve, 10));
    workers[0]!.crash('SyntaxError in the worker script');
    await expect(pending).rejects.toBeInstanceOf(WorkerCrashedError);
    expect(crashes).toEqual([null]);
  });

  it('a training worker that stops answering pings is declared dead', async () => {
    const api = fakeApi();
    const { client, workers, crashes } = rig([api]);
    await client.start('job-1');
    api.ping = never;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(crashes).toEqual(['job-1']);
    expect(workers[0]!.terminated).toBe(true);
  });

  it('an idle worker is not pinged, so it is never declared dead', async () => {
    const api = fakeApi({ ping: never });
    const { client, crashes } = rig([api]);
    await client.activeJob();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(crashes).toEqual([]);
  });

  it('passes worker events on and stops the heartbeat once the job leaves running', async () => {
    const api = fakeApi();
    const { client, crashes, events } = rig([api]);
    await client.start('job-1');
    api.emit({ type: 'job', job: { id: 'job-1', state: 'completed' } as JobRecord });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(events.map((e) => e.type)).toEqual(['job']);
    api.ping = never;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(crashes).toEqual([]);
  });
});
