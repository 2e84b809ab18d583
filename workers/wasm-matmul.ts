// Routes every transposed matrix product on the WASM backend through XNNPACK. Worker only; wraps
// two of tfjs-backend-wasm's registered kernels (BatchMatMul, _FusedMatMul), nothing else.
//
// Why: tfjs-backend-wasm 4.22 (src/cc/batch_mat_mul_impl.cc, `batchMatMul`/`fused_batch_mat_mul`)
// sends a product to XNNPACK's fully-connected operator, which is SIMD and runs on the thread pool,
// only when neither side is transposed and the batch is 1. Anything with transposeA or transposeB
// falls to `slow_batch_matmul`, a plain blocked triple loop on one thread. Training a Dense layer
// needs exactly those two: dW = xᵀ·dy and dx = dy·Wᵀ (tfjs-core's BatchMatMul gradient and the
// fused matMul's custom gradient). Measured on the 784-256-256-10 MLP, batch 128, here: 38 to 48 ms
// per transposed product against 4 to 6 ms for the same product after an explicit transpose, and
// the transposed ones were about 85% of a training step. Threads could not help with that.
//
// The wrapper materialises the transpose with the WASM Transpose kernel (one pass over the
// operand) and calls tfjs's own kernel without transposes. Results are deterministic (the same
// inputs give the same bits on every run and thread count), but not the same bits as the slow
// loop, whose summation order differs: a WASM run is reproducible, not identical to tfjs's order.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

type KernelArgs = Parameters<tf.KernelFunc>[0];
type Info = tf.TensorInfo;

const WRAPPED = ['BatchMatMul', '_FusedMatMul'] as const;

function batchOf(shape: number[]): number {
  return shape.slice(0, -2).reduce((n, d) => n * d, 1);
}

/** `x` with its last two axes swapped, as a new tensor on the backend (the caller disposes it). */
function swapLastTwo(x: Info, args: KernelArgs, transpose: tf.KernelConfig): Info {
  const rank = x.shape.length;
  const perm = [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
  return transpose.kernelFunc({ inputs: { x }, backend: args.backend, attrs: { perm } }) as Info;
}

function wrap(original: tf.KernelConfig, transpose: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: Info; b: Info };
    const attrs = args.attrs as { transposeA: boolean; transposeB: boolean };
    // Batched products take the slow loop whatever we do; untransposed ones are fast already.
    if ((!attrs.transposeA && !attrs.transposeB) || batchOf(a.shape) !== 1 || batchOf(b.shape) !== 1)
      return original.kernelFunc(args);
    const at = attrs.transposeA ? swapLastTwo(a, args, transpose) : a;
    const bt = attrs.transposeB ? swapLastTwo(b, args, transpose) : b;
    try {
      return original.kernelFunc({
        ...args,
        inputs: { ...args.inputs, a: at, b: bt },
        attrs: { ...args.attrs, transposeA: false, transposeB: false },
      });
    } finally {
      const backend = args.backend as tf.KernelBackend;
      if (at !== a) backend.disposeData(at.dataId);
      if (bt !== b) backend.disposeData(bt.dataId);
    }
  };
}

/**
 * Re-registers the two kernels with the wrapper. Must run before the WASM backend initialises (a
 * kernel's setup runs then); it does at import. Returns the kernels it wrapped.
 */
function install(): string[] {
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!transpose) return [];
  const done: string[] = [];
  for (const name of WRAPPED) {
    const original = tf.getKernel(name, 'wasm');
    if (!original) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...original, kernelFunc: wrap(original, transpose) });
    done.push(name);
  }
  return done;
}

/** The kernels routed through XNNPACK when transposed (both, unless tfjs changes its registry). */
export const WASM_MATMUL_WRAPPED: readonly string[] = install();
