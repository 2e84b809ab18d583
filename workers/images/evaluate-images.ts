// An image classifier's evaluation on its job's validation images: the confusion matrix and
// per-class figures tables get, plus a grid of misclassified images beside their predicted and
// true labels (their stored pixels, so the page only paints them).
import { MAX_EVALUATION_IMAGES, type Evaluation, type EvaluationImage } from '../../shared/evaluation';
import { splitRows } from '../data';
import { classificationFigures } from '../evaluate';
import { imageLogits, type ImageModel } from './image-model';

function softmax(values: Float32Array): number[] {
  const max = Math.max(...values);
  const exps = Array.from(values, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export async function evaluateImages(jobId: string, m: ImageModel): Promise<Evaluation> {
  const set = m.dataset.images;
  const { val } = splitRows(m.dataset.rows, m.config.validationSplit, m.config.seed);
  if (val.length === 0) throw new Error('This job has no validation images (its validation split is 0), so there is nothing to evaluate on.');
  const k = set.classNames.length;
  const logits = await imageLogits(m, set, val);
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const wrong: (EvaluationImage & { at: number })[] = [];
  const per = set.size * set.size * set.channels;
  val.forEach((r, i) => {
    const probs = softmax(logits.subarray(i * k, (i + 1) * k));
    const predicted = probs.indexOf(Math.max(...probs));
    const actual = set.labels[r]!;
    confusion[actual]![predicted]!++;
    if (predicted !== actual && wrong.length < MAX_EVALUATION_IMAGES)
      wrong.push({
        at: i, name: set.names[r] ?? `image ${r + 1}`, size: set.size, channels: set.channels, pixels: set.pixels.slice(r * per, (r + 1) * per),
        predicted: set.classNames[predicted]!, actual: set.classNames[actual]!, confidence: probs[predicted]!,
      });
  });
  return {
    jobId, step: m.step, live: m.live, numRows: val.length,
    ...classificationFigures(confusion, set.classNames),
    rows: [],
    images: wrong.map(({ at: _at, ...image }) => image),
  };
}
