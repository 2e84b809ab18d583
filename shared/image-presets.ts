// The image presets the setup form starts from (the page) and the bench measures (the worker):
// one definition, so the bench times the model a user actually gets.
import { DEFAULT_CONFIG, type TrainConfig } from './config';

/** For a user's own images: the CNN preset, at 32 px (resized from the stored 96 px). */
export const CNN_CONFIG: TrainConfig = {
  ...DEFAULT_CONFIG,
  model: {
    kind: 'cnn',
    imageSize: 32,
    blocks: [{ filters: 16, kernelSize: 3 }, { filters: 32, kernelSize: 3 }, { filters: 64, kernelSize: 3 }],
    dense: 64,
    dropout: 0.25,
    augment: { flip: true, shift: 0.1, brightness: 0.2 },
  },
  learningRate: 0.001,
  batchSize: 32,
  epochs: 20,
  validationSplit: 0.2,
};

/** Transfer learning as Teachable Machine does it: Dense 100 relu on the base's features, Adam at 0.001. */
export const TRANSFER_CONFIG: TrainConfig = {
  ...DEFAULT_CONFIG,
  model: { kind: 'transfer', base: 'mobilenet-v2', imageSize: 96, hidden: 100 },
  optimizer: 'adam',
  learningRate: 0.001,
  batchSize: 16,
  epochs: 50,
  validationSplit: 0.2,
};
