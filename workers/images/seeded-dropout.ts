// Dropout whose masks are drawn from a seed the data source sets for each batch, so a resumed run
// drops exactly the units the uninterrupted one did. tfjs's own Dropout draws from Math.random
// when it has no seed, and repeats one mask forever when it has one; both break exact resume or
// training. It serializes as a plain "Dropout" (the seed is put back after each call), so an
// exported model loads in stock `tf.loadLayersModel`, where dropout does nothing anyway.
import * as tf from '@tensorflow/tfjs';

let batchSeed = 0;

/** Set by the data source before each training batch (see workers/images/image-source.ts). */
export function setDropoutSeed(seed: number): void {
  batchSeed = seed >>> 0;
}

/** The current training batch's seed (the text transformer's blocks mix it with their own salt). */
export function dropoutSeed(): number {
  return batchSeed;
}

type DropoutArgs = ConstructorParameters<typeof tf.layers.Layer>[0] & { rate: number };
type Call = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

/** `salt` tells the layers of one model apart, so each gets its own mask. */
export function seededDropout(args: DropoutArgs, salt: number): tf.layers.Layer {
  const layer = tf.layers.dropout(args);
  const holder = layer as unknown as { seed?: number; call: Call };
  const call = holder.call.bind(layer);
  holder.call = (inputs, kwargs) => {
    const saved = holder.seed;
    holder.seed = (batchSeed ^ Math.imul(salt + 1, 0x9e3779b1)) >>> 0;
    try {
      return call(inputs, kwargs);
    } finally {
      holder.seed = saved;
    }
  };
  return layer;
}
