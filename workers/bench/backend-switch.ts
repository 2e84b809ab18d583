// Puts one named tfjs backend in charge of the bench worker (no fallback: a bench of "webgpu" that
// silently ran on wasm would be a lie), and describes the environment the figures came from.
import * as tf from '@tensorflow/tfjs';
// Also for its side effects: registers WebGPU and points the WASM backend at Vite-bundled
// binaries, exactly as the app's trainer does.
import { describeWebGlRenderer, wasmThreadsFor } from '../backend';
import { DEFAULT_CONFIG } from '../../shared/config';
import { configureWasmThreads, wantedWasmThreads, wasmThreadsInUse } from '../wasm-threads';
import type { BackendName } from '../../shared/protocol';
import type { ModelSpec, WorkerEnvironment } from './types';

/** SwiftShader WebGPU can take long to create a device; past this the backend counts as unavailable. */
const INIT_TIMEOUT_MS = 60_000;

interface AdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
}

async function requestAdapter(): Promise<AdapterLike | null> {
  if (typeof navigator === 'undefined') return null;
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return null;
  return ((await gpu.requestAdapter()) as AdapterLike | null) ?? null;
}

function timeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

/**
 * Switches to `name`; returns null on success, otherwise why it cannot run here. `wasmThreads`
 * sets WASM's thread count first (default: one per logical core, as the app does).
 */
export async function useBackend(name: BackendName, wasmThreads: number | null = null): Promise<string | null> {
  try {
    if (name === 'wasm') configureWasmThreads(wantedWasmThreads(wasmThreads));
    if (name === 'webgpu') {
      if (typeof navigator === 'undefined' || !('gpu' in navigator)) return 'no navigator.gpu in this browser/context';
      if (!(await requestAdapter())) return 'navigator.gpu.requestAdapter() returned null';
    }
    const ok = await timeout(tf.setBackend(name), INIT_TIMEOUT_MS, `${name} initialisation`);
    if (!ok || tf.getBackend() !== name) return `tf.setBackend('${name}') failed`;
    await tf.ready();
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * Before each model of a backend's bench: WASM gets the thread count the app would give that
 * model (workers/backend.ts wasmThreadsFor, the automatic setting); returns the threads in use.
 */
export async function prepareModel(backend: BackendName, spec: ModelSpec): Promise<number | null> {
  if (backend !== 'wasm') return null;
  const probeSpec = {
    config: { ...DEFAULT_CONFIG, model: { kind: 'mlp' as const, hidden: spec.hidden.map((units) => ({ units, activation: 'relu' as const })) } },
    numFeatures: spec.features,
    numOutputs: spec.classes,
  };
  const problem = await useBackend('wasm', wasmThreadsFor(probeSpec, null));
  if (problem) throw new Error(`WASM could not start for ${spec.id}: ${problem}`);
  return wasmThreadsInUse();
}

/** The WASM build tfjs initialised: threaded SIMD, SIMD (one thread) or plain. */
export async function wasmBuild(): Promise<string> {
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const threads = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  return simd && threads ? 'threaded-simd' : simd ? 'simd' : 'plain';
}

async function wasmFacts(): Promise<WorkerEnvironment['wasm']> {
  const problem = await useBackend('wasm');
  const sharedArrayBuffer = typeof SharedArrayBuffer !== 'undefined';
  if (problem) return { threads: null, simd: null, multithread: null, sharedArrayBuffer, reason: problem };
  return {
    threads: wasmThreadsInUse(),
    simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
    multithread: Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')),
    sharedArrayBuffer,
    reason: null,
  };
}

export async function describeEnvironment(): Promise<WorkerEnvironment> {
  const adapter = await requestAdapter().catch(() => null);
  const info = adapter?.info;
  return {
    crossOriginIsolated: self.crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency,
    userAgent: navigator.userAgent,
    webgpuAdapter: adapter
      ? {
          vendor: info?.vendor ?? '',
          architecture: info?.architecture ?? '',
          device: info?.device ?? '',
          description: info?.description ?? '',
        }
      : null,
    webglRenderer: describeWebGlRenderer(),
    wasm: await wasmFacts(),
  };
}
