// Types of lathe-layers.js (plain JavaScript, so it can be shipped beside an export unchanged).
import type * as tfjs from '@tensorflow/tfjs';

type LayerArgs = NonNullable<ConstructorParameters<typeof tfjs.layers.Layer>[0]>;

export interface PositionEmbeddingArgs extends LayerArgs {
  /** Positions the model has embeddings for: the training window's length. */
  maxLength: number;
  seed?: number | null;
}

export interface TransformerBlockArgs extends LayerArgs {
  heads: number;
  ffUnits: number;
  dropout?: number;
  /** Tells the blocks' dropout masks apart (the block's index). */
  dropoutSalt?: number;
  seed?: number | null;
}

export interface LatheLayerClasses {
  LathePositionEmbedding: new (args: PositionEmbeddingArgs) => tfjs.layers.Layer;
  LatheTransformerBlock: new (args: TransformerBlockArgs) => tfjs.layers.Layer;
  LatheLayerNorm: new (args?: LayerArgs) => tfjs.layers.Layer;
}

export declare const LATHE_LAYER_CLASS_NAMES: readonly string[];

export declare function registerLatheLayers(tf: typeof tfjs, options?: { dropoutSeed?: () => number }): LatheLayerClasses;
