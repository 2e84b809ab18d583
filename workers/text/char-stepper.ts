// Runs a character model one character at a time, carrying each recurrent layer's state from one
// character to the next, so generating a character costs one time step instead of a whole window.
// It calls the model's own layers (the embedding, each LSTM/GRU layer's cell, the dense head) on
// the model's live variables: the same operations, in the same order, as the layer's own loop over
// a window, so a window fed here gives the logits `model.apply` gives for it. Models of any other
// shape get null from `CharStepper.for` and are run a window at a time (generate.ts nextLogits).
import * as tf from '@tensorflow/tfjs';

/** What the stepper needs of a tfjs-layers RNN layer: its cell, called for one time step. */
interface RecurrentLayer {
  cell: { units: number; call(inputs: tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] };
}

interface Recurrent {
  layer: RecurrentLayer;
  /** LSTM carries (h, c), GRU carries h. */
  states: number;
}

export class CharStepper {
  readonly model: tf.LayersModel;
  #embedding: tf.layers.Layer;
  #recurrent: Recurrent[];
  #head: tf.layers.Layer;
  /** Per recurrent layer, its state after the characters fed since the last reset; null: zeros. */
  #states: tf.Tensor[][] | null = null;
  /** Characters fed since the last reset. */
  held = 0;

  private constructor(model: tf.LayersModel, embedding: tf.layers.Layer, recurrent: Recurrent[], head: tf.layers.Layer) {
    this.model = model;
    this.#embedding = embedding;
    this.#recurrent = recurrent;
    this.#head = head;
  }

  /** A stepper for an embedding → LSTM/GRU layers → dense model (what buildRnn makes), else null. */
  static for(model: tf.LayersModel): CharStepper | null {
    const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
    if (layers.length < 3) return null;
    const [first, ...rest] = layers;
    const head = rest.pop()!;
    if (first!.getClassName() !== 'Embedding' || head.getClassName() !== 'Dense') return null;
    const recurrent: Recurrent[] = [];
    for (const l of rest) {
      const name = l.getClassName();
      const config = l.getConfig();
      // Masking, dropout or a reversed direction would make one step differ from the layer's loop.
      if ((name !== 'LSTM' && name !== 'GRU') || config.goBackwards || config.dropout || config.recurrentDropout || config.stateful) return null;
      recurrent.push({ layer: l as unknown as RecurrentLayer, states: name === 'LSTM' ? 2 : 1 });
    }
    if (first!.getConfig().maskZero) return null;
    return new CharStepper(model, first!, recurrent, head);
  }

  /** Forgets the characters fed so far: the next one starts from zero states, as a window does. */
  reset(): void {
    if (this.#states) tf.dispose(this.#states.flat());
    this.#states = null;
    this.held = 0;
  }

  /**
   * Feeds `ids` after the characters fed so far and returns the logits of the character after the
   * last of them, as a [vocabulary] tensor the caller disposes.
   */
  feed(ids: ArrayLike<number>): tf.Tensor1D {
    if (ids.length === 0) throw new Error('Feed at least one character.');
    const previous = this.#states;
    const { logits, states } = tf.tidy(() => {
      const input = tf.tensor2d(Float32Array.from(ids), [1, ids.length]);
      const embedded = tf.unstack(this.#embedding.apply(input, { training: false }) as tf.Tensor3D, 1);
      let states = previous ?? this.#recurrent.map((r) => Array.from({ length: r.states }, () => tf.zeros([1, r.layer.cell.units])));
      let top: tf.Tensor = embedded[0]!;
      for (const x of embedded) {
        // Time-major: every layer advances one step before the next character, as stacked layers do.
        let h: tf.Tensor = x;
        states = this.#recurrent.map((r, i) => {
          const out = r.layer.cell.call([h, ...states[i]!], { training: false }) as tf.Tensor[];
          h = out[0]!;
          return out.slice(1);
        });
        top = h;
      }
      const logits = (this.#head.apply(top, { training: false }) as tf.Tensor2D).reshape<tf.Tensor1D>([-1]);
      return { logits, states };
    });
    if (previous) tf.dispose(previous.flat());
    this.#states = states;
    this.held += ids.length;
    return logits;
  }

  dispose(): void {
    this.reset();
  }
}
