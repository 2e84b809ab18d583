// Bench worker entry (bench.html only, never the app): exposes BenchWorkerApi through Comlink.
// The measuring code lives in workers/bench/; the app's trainer never loads any of it.
import * as Comlink from 'comlink';
import { csvParse } from './bench/csv-parse';
import { describeEnvironment, prepareModel, useBackend, wasmBuild } from './bench/backend-switch';
import { runDecode } from './bench/decode-run';
import { runImages } from './bench/image-runs';
import { runText } from './bench/text-runs';
import { resumeCheck } from './bench/resume-check';
import { runBackend } from './bench/suite';
import { runThreads } from './bench/threads-run';
import type { DecodeResult, DecodeSpec, ImagesRunRequest, ImagesRunResult } from './bench/image-types';
import type { TextRunRequest, TextRunResult } from './bench/text-types';
import type { BenchWorkerApi } from './bench/types';
import { wasmThreadsInUse } from './wasm-threads';

/** The digits sample as the app's worker fetches it (served with the build). */
async function sampleFile(file: string): Promise<Blob> {
  const response = await fetch(new URL(`${import.meta.env.BASE_URL}samples/${file}`, self.location.origin));
  if (!response.ok) throw new Error(`Could not load the sample ${file} (${response.status}).`);
  return response.blob();
}

/** The text sample as the app's worker fetches it. */
async function sampleText(): Promise<string> {
  return (await sampleFile('moby-dick-ch1-30.txt')).text();
}

const api: BenchWorkerApi & {
  runImages(r: ImagesRunRequest): Promise<ImagesRunResult>;
  runDecode(s: DecodeSpec): Promise<DecodeResult>;
  runText(r: TextRunRequest): Promise<TextRunResult>;
} = {
  environment: describeEnvironment,
  runBackend: (request, listener) => runBackend(request, { useBackend, listener: listener ?? null, prepareModel }),
  runThreads: (request) => runThreads(request, { useBackend, threadsInUse: wasmThreadsInUse, build: wasmBuild }),
  runImages: (request) => runImages(request, { useBackend, sampleFile }),
  runDecode,
  runText: (request) => runText(request, { useBackend, sampleText }),
  async resumeCheck(request) {
    const problem = await useBackend(request.backend, request.threads);
    if (problem) throw new Error(`${request.backend} cannot run here: ${problem}`);
    return resumeCheck(request, () => (request.backend === 'wasm' ? wasmThreadsInUse() : null));
  },
  csvParse,
};

Comlink.expose(api);
