// Build-time image assets, made from npm packages (nothing is downloaded at run time):
// - the transfer-learning base: nsfwjs's MobileNetV2 layers model (MIT, uint8-quantized), cut at
//   `out_relu` with a GlobalAveragePooling2D appended, so it maps any square RGB image in [-1, 1]
//   to 1,280 features; only the weights of the kept layers are written;
// - the digits sample: the first DIGITS_PER_CLASS images of each digit of the `mnist` package
//   (MIT; MNIST by LeCun, Cortes and Burges), in Lathe's compact image file (see
//   workers/images/sample-file.ts), deflate-compressed.
// Used by the Vite plugin below (the build and dev server), and by unit tests and benches in Node.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { deflateSync } from 'node:zlib';

const require = createRequire(import.meta.url);
/** nsfwjs's package exports do not list its model files: reach them from its root folder. */
const nsfwjsRoot = () => join(dirname(require.resolve('nsfwjs')), '..', '..');

/** Served under the app's base: `models/mobilenet-v2/model.json` and its one weights file. */
export const MOBILENET_DIR = 'models/mobilenet-v2';
export const MOBILENET_WEIGHTS_FILE = 'weights.bin';
/** Served as `samples/digits.bin`. */
export const DIGITS_FILE = 'samples/digits.bin';
/** 300 × 10 classes = 3,000 images of 28 × 28 grey pixels (2.35 MB raw, about 0.5 MB deflated). */
export const DIGITS_PER_CLASS = 300;
const DIGIT_PX = 28;
/** Lathe's image file: magic, then a little-endian u32 header length, a JSON header, deflated body. */
export const IMAGE_FILE_MAGIC = 'LTHI';

const CUT_LAYER = 'out_relu';
const POOL_LAYER = 'features';

/** Bytes one weight takes in the manifest's storage (quantized weights are 1 or 2 bytes a value). */
function storedBytes(w) {
  const n = w.shape.reduce((a, b) => a * b, 1);
  const dtype = w.quantization?.dtype ?? w.dtype;
  return n * (dtype === 'uint8' ? 1 : dtype === 'uint16' || dtype === 'float16' ? 2 : 4);
}

/**
 * The base model's `model.json` (as an object) and its weights, cut at out_relu and pooled.
 * @returns {{ modelJson: { modelTopology: unknown, weightsManifest: { paths: string[], weights: any[] }[] }, weights: Buffer }}
 */
export function mobileNetFiles() {
  const models = join(nsfwjsRoot(), 'dist', 'models', 'mobilenet_v2');
  const source = require(join(models, 'model.min.js'));
  const weightsB64 = require(join(models, 'group1-shard1of1.min.js'));
  const all = Buffer.from(weightsB64, 'base64');
  const topology = structuredClone(source.modelTopology);
  const config = topology.model_config.config;
  const cut = config.layers.findIndex((l) => l.name === CUT_LAYER);
  if (cut < 0) throw new Error(`nsfwjs's MobileNetV2 has no ${CUT_LAYER} layer; its version changed.`);
  config.layers = config.layers.slice(0, cut + 1);
  // Any square size: the convolutions do not care, and the pooling removes the spatial axes.
  config.layers[0].config.batch_input_shape = [null, null, null, 3];
  config.layers.push({
    name: POOL_LAYER,
    class_name: 'GlobalAveragePooling2D',
    config: { name: POOL_LAYER, trainable: false, data_format: 'channels_last' },
    inbound_nodes: [[[CUT_LAYER, 0, 0, {}]]],
  });
  config.output_layers = [[POOL_LAYER, 0, 0]];
  const kept = new Set(config.layers.map((l) => l.name));
  const parts = [];
  const weights = [];
  let offset = 0;
  for (const w of source.weightsManifest[0].weights) {
    const bytes = storedBytes(w);
    if (kept.has(w.name.split('/')[0])) {
      parts.push(all.subarray(offset, offset + bytes));
      weights.push(w);
    }
    offset += bytes;
  }
  if (offset !== all.length) throw new Error(`nsfwjs's weights are ${all.length} bytes, the manifest says ${offset}.`);
  const modelJson = {
    format: 'layers-model',
    generatedBy: 'nsfwjs MobileNetV2, cut at out_relu by Lathe (scripts/image-assets.mjs)',
    modelTopology: topology,
    weightsManifest: [{ paths: [MOBILENET_WEIGHTS_FILE], weights }],
  };
  return { modelJson, weights: Buffer.concat(parts) };
}

/**
 * Lathe's image file: a header ({count, size, channels, classNames}) and zlib-deflated labels + pixels.
 * @param {{ size: number, channels: 1 | 3, classNames: string[], labels: Uint16Array, pixels: Uint8Array }} set
 * @returns {Buffer}
 */
export function encodeImageFile({ size, channels, classNames, labels, pixels }) {
  const header = Buffer.from(JSON.stringify({ version: 1, count: labels.length, size, channels, classNames }));
  const body = Buffer.concat([Buffer.from(labels.buffer, labels.byteOffset, labels.byteLength), Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength)]);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  return Buffer.concat([Buffer.from(IMAGE_FILE_MAGIC), length, header, deflateSync(body, { level: 9 })]);
}

/**
 * The digits sample file: DIGITS_PER_CLASS images of each digit, in class order.
 * @returns {Buffer}
 */
export function digitsSampleFile() {
  const per = DIGITS_PER_CLASS;
  const px = DIGIT_PX * DIGIT_PX;
  const labels = new Uint16Array(per * 10);
  const pixels = new Uint8Array(per * 10 * px);
  for (let d = 0; d < 10; d++) {
    const raw = require(`mnist/src/digits/${d}.json`).data;
    if (raw.length < per * px) throw new Error(`mnist has only ${raw.length / px} images of ${d}.`);
    for (let i = 0; i < per * px; i++) pixels[d * per * px + i] = Math.round(raw[i] * 255);
    labels.fill(d, d * per, (d + 1) * per);
  }
  return encodeImageFile({ size: DIGIT_PX, channels: 1, classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], labels, pixels });
}

/** @type {Map<string, Buffer> | null} */
let cached = null;

/**
 * Every generated file, by its path under the app's base. Made once per process (about 3 s).
 * @returns {Map<string, Buffer>}
 */
export function imageAssetFiles() {
  if (!cached) {
    const { modelJson, weights } = mobileNetFiles();
    cached = new Map([
      [`${MOBILENET_DIR}/model.json`, Buffer.from(JSON.stringify(modelJson))],
      [`${MOBILENET_DIR}/${MOBILENET_WEIGHTS_FILE}`, weights],
      [DIGITS_FILE, digitsSampleFile()],
    ]);
  }
  return cached;
}

/**
 * Vite plugin: emits the files into the build, and serves them from the dev server.
 * @returns {import('vite').Plugin}
 */
export function imageAssets() {
  return {
    name: 'lathe-image-assets',
    generateBundle() {
      // Only the app's own build (not its workers' sub-builds) writes them.
      if (this.environment?.config?.consumer === 'client' || this.environment === undefined)
        for (const [fileName, source] of imageAssetFiles()) this.emitFile({ type: 'asset', fileName, source });
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? '').split('?')[0].replace(/^\//, '');
        const file = imageAssetFiles().get(path);
        if (!file) return next();
        res.setHeader('Content-Type', path.endsWith('.json') ? 'application/json' : 'application/octet-stream');
        res.end(file);
      });
    },
  };
}
