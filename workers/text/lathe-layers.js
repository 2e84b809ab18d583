// Lathe's custom TensorFlow.js layers for its small causal transformer (character models).
//
// This one file is both the app's own implementation and the file shipped beside an exported
// transformer's model.json, so a stock TF.js user loads the export with the very code that trained
// it. It is plain JavaScript with no imports: the caller passes its `tf` (the @tensorflow/tfjs
// namespace), and `registerLatheLayers(tf)` defines the classes on that tf's `tf.layers.Layer` and
// registers them, which `tf.loadLayersModel` needs before it reads a model.json naming them:
//
//   import * as tf from '@tensorflow/tfjs';
//   import { registerLatheLayers } from './lathe-layers.js';
//   registerLatheLayers(tf);
//   const model = await tf.loadLayersModel('model.json');
//
// Dropout only acts while training (the app passes `training: true`); inference never draws.

/** The class names an exported model.json uses (its layers' "class_name"). */
export const LATHE_LAYER_CLASS_NAMES = ['LathePositionEmbedding', 'LatheTransformerBlock', 'LatheLayerNorm'];

const LAYER_NORM_EPSILON = 1e-5;
/** Added to the attention scores of future positions: exp() of it is exactly 0 in float32. */
const MASKED = -1e9;

/**
 * Defines and registers the layers on `tf`; returns the classes. `options.dropoutSeed` gives the
 * seed of the current training batch (so a resumed run drops the same units); without it,
 * dropout draws from seed 0.
 */
export function registerLatheLayers(tf, options = {}) {
  const dropoutSeed = options.dropoutSeed ?? (() => 0);

  const one = (inputs) => (Array.isArray(inputs) ? inputs[0] : inputs);
  /** A seeded initializer, or an unseeded one when the layer has no seed (a loaded model). */
  const glorot = (seed, k) => tf.initializers.glorotUniform(seed == null ? {} : { seed: (seed + 7919 * (k + 1)) >>> 0 });

  function layerNorm(x, gamma, beta) {
    const mean = tf.mean(x, -1, true);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centered), -1, true);
    return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, LAYER_NORM_EPSILON))), gamma), beta);
  }

  /** A dense projection of the last axis of [batch, time, in] to [batch, time, out]. */
  function project(x, kernel, bias) {
    const [b, t, d] = x.shape;
    const out = kernel.shape[1];
    return tf.reshape(tf.add(tf.matMul(tf.reshape(x, [b * t, d]), kernel), bias), [b, t, out]);
  }

  /** 0 where position i may attend to j (j ≤ i), MASKED where j is in i's future. */
  function causalMask(t) {
    const values = new Float32Array(t * t);
    for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) values[i * t + j] = MASKED;
    return tf.tensor2d(values, [t, t]);
  }

  /** Adds a learned embedding of each position (0 … time − 1) to the token embeddings. */
  class LathePositionEmbedding extends tf.layers.Layer {
    static className = 'LathePositionEmbedding';

    constructor(args) {
      super(args);
      this.maxLength = args.maxLength;
      this.seed = args.seed ?? null;
    }

    build(inputShape) {
      const width = inputShape[inputShape.length - 1];
      const init = tf.initializers.randomNormal({ mean: 0, stddev: 0.02, ...(this.seed == null ? {} : { seed: this.seed }) });
      this.positions = this.addWeight('positions', [this.maxLength, width], 'float32', init);
      this.built = true;
    }

    call(inputs) {
      return tf.tidy(() => {
        const x = one(inputs);
        const time = x.shape[1];
        if (time > this.maxLength) throw new Error(`The model has position embeddings for ${this.maxLength} characters; it was given ${time}.`);
        return tf.add(x, tf.slice(this.positions.read(), [0, 0], [time, -1]));
      });
    }

    getConfig() {
      return { ...super.getConfig(), maxLength: this.maxLength, seed: this.seed };
    }
  }

  /**
   * One pre-norm block: x + attention(norm(x)), then + mlp(norm(·)). Attention is causal and
   * multi-head: queries, keys and values come from one [width, 3 × width] projection and are split
   * into `heads` heads of width / heads each.
   */
  class LatheTransformerBlock extends tf.layers.Layer {
    static className = 'LatheTransformerBlock';

    constructor(args) {
      super(args);
      this.heads = args.heads;
      this.ffUnits = args.ffUnits;
      this.dropout = args.dropout ?? 0;
      this.dropoutSalt = args.dropoutSalt ?? 0;
      this.seed = args.seed ?? null;
    }

    build(inputShape) {
      const d = inputShape[inputShape.length - 1];
      if (d % this.heads !== 0) throw new Error(`Width ${d} is not a multiple of ${this.heads} heads.`);
      const add = (name, shape, init) => this.addWeight(name, shape, 'float32', init);
      const ones = tf.initializers.ones();
      const zeros = tf.initializers.zeros();
      this.norm1Gamma = add('norm1_gamma', [d], ones);
      this.norm1Beta = add('norm1_beta', [d], zeros);
      this.qkvKernel = add('qkv_kernel', [d, 3 * d], glorot(this.seed, 0));
      this.qkvBias = add('qkv_bias', [3 * d], zeros);
      this.outKernel = add('out_kernel', [d, d], glorot(this.seed, 1));
      this.outBias = add('out_bias', [d], zeros);
      this.norm2Gamma = add('norm2_gamma', [d], ones);
      this.norm2Beta = add('norm2_beta', [d], zeros);
      this.ffKernel = add('ff_kernel', [d, this.ffUnits], glorot(this.seed, 2));
      this.ffBias = add('ff_bias', [this.ffUnits], zeros);
      this.ffOutKernel = add('ff_out_kernel', [this.ffUnits, d], glorot(this.seed, 3));
      this.ffOutBias = add('ff_out_bias', [d], zeros);
      this.built = true;
    }

    call(inputs, kwargs) {
      return tf.tidy(() => {
        const x = one(inputs);
        const [b, t, d] = x.shape;
        const h = this.heads;
        const training = kwargs?.training === true && this.dropout > 0;
        // Each dropout site gets its own mask: the batch's seed mixed with this block and the site.
        const drop = (y, site) =>
          training ? tf.dropout(y, this.dropout, undefined, (dropoutSeed() ^ Math.imul(2 * this.dropoutSalt + site + 1, 0x9e3779b1)) >>> 0) : y;

        const normed = layerNorm(x, this.norm1Gamma.read(), this.norm1Beta.read());
        const qkv = project(normed, this.qkvKernel.read(), this.qkvBias.read());
        // [b, t, d] → [b, heads, t, d / heads]
        const split = (y) => tf.transpose(tf.reshape(y, [b, t, h, d / h]), [0, 2, 1, 3]);
        const [q, k, v] = tf.split(qkv, 3, -1).map(split);
        const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d / h)), causalMask(t));
        const context = tf.matMul(tf.softmax(scores), v);
        const merged = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [b, t, d]);
        const attended = tf.add(x, drop(project(merged, this.outKernel.read(), this.outBias.read()), 0));

        const normed2 = layerNorm(attended, this.norm2Gamma.read(), this.norm2Beta.read());
        const hidden = tf.relu(project(normed2, this.ffKernel.read(), this.ffBias.read()));
        return tf.add(attended, drop(project(hidden, this.ffOutKernel.read(), this.ffOutBias.read()), 1));
      });
    }

    getConfig() {
      return { ...super.getConfig(), heads: this.heads, ffUnits: this.ffUnits, dropout: this.dropout, dropoutSalt: this.dropoutSalt, seed: this.seed };
    }
  }

  /** Layer normalization over the last axis (the final norm before the logits). */
  class LatheLayerNorm extends tf.layers.Layer {
    static className = 'LatheLayerNorm';

    build(inputShape) {
      const d = inputShape[inputShape.length - 1];
      this.gamma = this.addWeight('gamma', [d], 'float32', tf.initializers.ones());
      this.beta = this.addWeight('beta', [d], 'float32', tf.initializers.zeros());
      this.built = true;
    }

    call(inputs) {
      return tf.tidy(() => layerNorm(one(inputs), this.gamma.read(), this.beta.read()));
    }
  }

  for (const cls of [LathePositionEmbedding, LatheTransformerBlock, LatheLayerNorm]) tf.serialization.registerClass(cls);
  return { LathePositionEmbedding, LatheTransformerBlock, LatheLayerNorm };
}
