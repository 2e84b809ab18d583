// An image dataset's data source and objective for a job: a CNN reads (augmented) pixel batches,
// transfer learning reads the base's features. The one place that knows which model kinds an
// image dataset trains with.
import type { TrainConfig } from '../../shared/config';
import type { ImageDataset } from '../../shared/dataset';
import type { DataSource } from '../data-source';
import { classificationObjective, type Objective } from '../objective';
import { FeatureSource } from './feature-source';
import { ImageSource, type ImageInput } from './image-source';

/** A CNN takes pixels in [0, 1]. */
export function cnnInput(size: number, channels: 1 | 3): ImageInput {
  return { size, channels, scale: 1 / 255, offset: 0 };
}

export async function prepareImageSource(
  dataset: ImageDataset, config: TrainConfig, onProgress?: (done: number, total: number) => void,
): Promise<{ source: DataSource; objective: Objective }> {
  const m = config.model;
  const objective = classificationObjective(dataset.classNames.length);
  if (m.kind === 'cnn') return { source: new ImageSource(dataset, config, cnnInput(m.imageSize, dataset.channels), m.augment), objective };
  if (m.kind === 'transfer') return { source: await FeatureSource.create(dataset, config, onProgress), objective };
  throw new Error(`“${dataset.name}” is a dataset of images: train it with the CNN or with transfer learning, not a ${m.kind.toUpperCase()}.`);
}
