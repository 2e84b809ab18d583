// Threaded WASM in the training worker: makes tfjs's threaded SIMD build start its pthreads from
// a Vite-bundled module worker, and decides how many threads the wasm backend gets. Worker only;
// imports tfjs and its wasm backend, nothing from the page.
//
// Why the threaded build failed here (tfjs-backend-wasm 4.22, dist/backend_wasm.js `init()`):
// with threads and SIMD available it hands emscripten
//   mainScriptUrlOrBlob = new Blob(['var WasmBackendModuleThreadedSimd = ' + factory.toString()])
// and every pthread worker (wasm-out/*.worker.js, a classic worker made from a blob) runs
// `importScripts(thatBlob)` and then `WasmBackendModuleThreadedSimd(Module)`. So the factory's
// source text must be self-contained. In the package it is not quite: the factory is the inner
// function of an IIFE that declares `_scriptDir`, and the factory reads it guarded by
// `typeof _scriptDir !== "undefined"`. Vite's minifier sees that `_scriptDir` is a local of the
// enclosing IIFE, renames it (to a one-letter name) and drops the now "useless" typeof guard
// (`e !== void 0 && e && …`). `toString()` returns only the inner function, so in the pthread
// that one-letter name is an undeclared global: the pthread throws a ReferenceError while loading,
// never reports "loaded", and the backend never finishes initialising.
//
// Fix, without patching node_modules: give the factory function its own `toString` that returns
// the package's original, unminified source (imported as a string with Vite's `?raw`, which no
// minifier touches), wrapped so it evaluates to the factory. The worker's own thread still runs
// the bundled factory; only the pthreads evaluate the original text, which is exactly what tfjs's
// own unbundled builds hand them. Nothing is fetched, so this also works offline.
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import * as threadedFactoryModule from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js';
import threadedFactorySource from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js?raw';

/**
 * Most threads the wasm backend can use: its emscripten glue starts a pool of 8 pthread workers
 * (`pthreadPoolSize=8`) and its C++ caps XNNPACK's thread pool at 8 (`max_num_threads`).
 */
export const WASM_MAX_THREADS = 8;

/** tfjs-backend-wasm registers itself with this priority (dist/base.js); re-registering keeps it. */
const WASM_PRIORITY = 2;

type Factory = ((config: unknown) => Promise<unknown>) & { toString(): string };

/**
 * The pthreads' source: the package file, which declares `var WasmBackendModuleThreadedSimd`,
 * wrapped into an expression of that factory. The raw string is referenced once only: the
 * minifier copies a constant string into every place that uses it, and it is 55 kB.
 */
const pthreadSource = `(function () {\n${threadedFactorySource}\nreturn WasmBackendModuleThreadedSimd;\n})()`;

function installSelfContainedSource(): boolean {
  const ns = threadedFactoryModule as unknown as { default?: unknown };
  const factory = (typeof ns.default === 'function' ? ns.default : ns) as unknown;
  if (typeof factory !== 'function' || !/\bvar WasmBackendModuleThreadedSimd\b/.test(pthreadSource)) return false;
  (factory as Factory).toString = () => pthreadSource;
  return true;
}

/** Whether the pthreads can load the factory; false if the package's layout ever changes. */
const sourceInstalled = installSelfContainedSource();

/** Whether this context can run wasm threads at all: cross-origin isolated, with SharedArrayBuffer. */
export function canUseWasmThreads(): boolean {
  return sourceInstalled && typeof SharedArrayBuffer !== 'undefined' && (globalThis.crossOriginIsolated ?? false);
}

function logicalCores(): number {
  return typeof navigator === 'undefined' ? 1 : navigator.hardwareConcurrency || 1;
}

/** The threads a job gets: the setting (or every logical core), at most the cores and the pool. */
export function wantedWasmThreads(setting: number | null, cores: number = logicalCores()): number {
  const limit = Math.max(1, Math.min(cores, WASM_MAX_THREADS));
  return setting === null ? limit : Math.max(1, Math.min(Math.floor(setting), limit));
}

/** The thread count the current wasm backend instance was created with; null before it exists. */
let initialisedWith: number | null = null;
/** The thread count the next wasm initialisation uses. */
let requested = 1;

/**
 * Runs `init` while `navigator.hardwareConcurrency` reads `cores`. tfjs's C++ (backend.cc) sets
 * `num_cores = emscripten_num_logical_cores() / 2` ("many x86-64 processors have 2 threads per
 * core"), and `init_with_threads_count(n)` caps n at num_cores. emscripten_num_logical_cores() is
 * `navigator["hardwareConcurrency"]`, read once while the module's static constructors run, inside
 * the backend factory. On a 2-core machine that halving leaves 1 thread whatever setThreadsCount
 * says; reporting twice the wanted count for the duration of the init lifts it to exactly `n`.
 */
async function withLogicalCores<T>(cores: number, init: () => Promise<T>): Promise<T> {
  const nav = navigator as Navigator & { hardwareConcurrency: number };
  Object.defineProperty(nav, 'hardwareConcurrency', { configurable: true, get: () => cores });
  try {
    return await init();
  } finally {
    delete (nav as { hardwareConcurrency?: number }).hardwareConcurrency;
  }
}

/** Re-registers tfjs's wasm backend factory, wrapped so its initialisation gets `requested` threads. */
function registerWasm(original: () => tf.KernelBackend | Promise<tf.KernelBackend>): void {
  tf.registerBackend(
    'wasm',
    async () => {
      const threads = requested;
      const backend = threads > 1 ? await withLogicalCores(2 * threads, async () => original()) : await original();
      initialisedWith = threads;
      return backend;
    },
    WASM_PRIORITY,
  );
}

const originalFactory = tf.findBackendFactory('wasm');
if (originalFactory) {
  tf.removeBackend('wasm');
  registerWasm(originalFactory);
}

/**
 * Sets the thread count for the next wasm initialisation. When the wasm backend already runs
 * with another count, it is removed (its pthreads terminate) and registered afresh, so the next
 * `tf.setBackend('wasm')` starts it with `threads`. Tensors on the old instance die with it: call
 * this only when no model lives on wasm.
 */
export function configureWasmThreads(threads: number): void {
  const n = canUseWasmThreads() ? Math.max(1, Math.min(threads, WASM_MAX_THREADS)) : 1;
  requested = n;
  if (initialisedWith !== null && initialisedWith !== n && originalFactory) {
    tf.removeBackend('wasm');
    registerWasm(originalFactory);
    initialisedWith = null;
  }
  // One thread: the plain SIMD build, which skips the threaded build's shared-memory overhead.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', n > 1);
  setThreadsCount(n);
}

/** Threads the running wasm backend really uses (XNNPACK's pool), or null before it exists. */
export function wasmThreadsInUse(): number | null {
  if (initialisedWith === null) return null;
  try {
    return getThreadsCount();
  } catch {
    return null;
  }
}

// Until told otherwise (settings), every initialisation gets one thread per logical core.
configureWasmThreads(wantedWasmThreads(null));
