// The bench's images section as summary rows, on hand-made results: no browser.
import { describe, expect, it } from 'vitest';
import { IMAGES_SCHEMA } from '../../bench/image-section.mjs';
import { validateResult } from '../../bench/schema.mjs';
import { summarize } from '../../bench/summary.mjs';

const decode = { images: 300, width: 320, height: 240, pngBytes: 1e6, decodeMs: 2000, fingerprintMs: 50, storeMs: 100, storedBytes: 8e6, imagesPerSec: 140, bitmapOnlyImagesPerSec: 700 };
const unsupported = (reason: string) => ({ supported: false, reason });

function images() {
  return {
    config: {},
    decode,
    backends: [
      {
        backend: 'wasm', available: true, reason: null, wallMs: 10,
        cnn: { ...unsupported('WASM cannot train convolutions (it has no Conv2DBackpropFilter kernel)'), params: null, loop: null, fit: null, imagesPerSec: null, fitImagesPerSec: null, loopOverFit: null },
        transfer: { supported: true, reason: null, images: 60, storeMs: 30, featuresMs: 3000, trainMs: 800, totalMs: 3830, epochs: 4, valAccuracy: 1, reached: true },
        digits: { ...unsupported('WASM cannot train convolutions (it has no Conv2DBackpropFilter kernel)'), steps: null, epochs: null, trainMs: null, imagesPerSec: null, valAccuracy: null, valImages: null },
      },
      {
        backend: 'webgl', available: true, reason: null, wallMs: 10,
        cnn: { supported: true, reason: null, params: 89314, loop: { afterFirstEpoch: true, steady: { steps: 40, fromStep: 8 } }, fit: {}, imagesPerSec: 180, fitImagesPerSec: 200, loopOverFit: 0.9 },
        transfer: { supported: true, reason: 'validation accuracy stayed below 0.9 for 50 epochs', images: 60, storeMs: 30, featuresMs: 900, trainMs: null, totalMs: null, epochs: 50, valAccuracy: 0.75, reached: false },
        digits: { supported: true, reason: null, steps: 150, epochs: 2, trainMs: 30_000, imagesPerSec: 160, valAccuracy: 0.93, valImages: 600 },
      },
    ],
  };
}

const machine = { wasm: { threads: 1, sharedArrayBuffer: true, multithread: false, simd: true }, cores: 2, pageCrossOriginIsolated: true };
const rowsOf = () => summarize({ backends: [], config: { models: [] }, machine, ui: {}, images: images() }).filter((r) => r.group === 'images');

describe('bench images section', () => {
  it('conforms to its schema, with nulls where a backend cannot run a part', () => {
    expect(validateResult(images(), IMAGES_SCHEMA)).toEqual([]);
    const broken = images();
    (broken.backends[1]!.digits as { valAccuracy: unknown }).valAccuracy = 'high';
    expect(validateResult(broken, IMAGES_SCHEMA)).toEqual(['$.backends[1].digits.valAccuracy: expected number?, got string']);
  });

  it('gives the decode rate against bare createImageBitmap, and the CNN loop against bare fit with its target', () => {
    const rows = rowsOf();
    expect(rows.find((r) => r.figure.includes('decoded and stored'))).toMatchObject({ value: 140, baseline: 700, ratio: 0.2, unit: 'images/s' });
    expect(rows.find((r) => r.figure === 'CNN preset webgl: app loop vs bare fit')).toMatchObject({ value: 180, baseline: 200, ratio: 0.9, met: false });
  });

  it('says in words why a part was not measured, and when transfer learning never became usable', () => {
    const rows = rowsOf();
    expect(rows.find((r) => r.figure === 'CNN preset wasm: not measured')?.note).toContain('cannot train convolutions');
    expect(rows.find((r) => r.figure === 'transfer wasm: last capture → usable model')).toMatchObject({ value: 3830, baseline: 3000 });
    expect(rows.find((r) => r.figure === 'transfer webgl: not measured')?.note).toContain('stayed below 0.9');
    expect(rows.find((r) => r.figure.startsWith('digits webgl: 150 steps'))?.note).toContain('93.0%');
  });
});
