// The pure rules behind image datasets: which class a file belongs to, which files are images and
// how large, how an image is cropped and resized, the seeded augmentation (same seed, same bytes;
// nothing else), and which backends can train which models.
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { augmentInto, batchRng, centerCrop, drawAugment, fromRgba, mixSeed, resizeSquare } from '../../shared/image-math';
import { labelsFromAssigned, labelsFromPaths, readImageHeader, tooLargeReason } from '../../shared/image-labels';
import { validateConfig } from '../../shared/config';
import { SAMPLES } from '../../shared/samples';
import { describeChoice, kernelPlan, registryHas } from '../../workers/backend-kernels';

describe('folder to label', () => {
  it('a dropped folder whose subfolders are the classes: folder name = class, sorted by name with numbers by value', () => {
    const r = labelsFromPaths(['shapes/square/1.png', 'shapes/circle/a.PNG', 'shapes/10/x.jpg', 'shapes/2/y.jpeg']);
    expect(r.classNames).toEqual(['2', '10', 'circle', 'square']);
    expect(r.items).toEqual([
      { index: 0, label: 3 },
      { index: 1, label: 2 },
      { index: 2, label: 1 },
      { index: 3, label: 0 },
    ]);
    expect(r.skipped).toEqual([]);
  });

  it('class folders dropped directly (no common root) are the classes too', () => {
    expect(labelsFromPaths(['cat/1.png', 'dog/2.png']).classNames).toEqual(['cat', 'dog']);
  });

  it('deeper folders belong to the class above them; loose files and non-images are skipped and listed; system files are ignored', () => {
    const r = labelsFromPaths(['data/cat/big/1.png', 'data/dog/2.png', 'data/readme.txt', 'data/loose.png', 'data/dog/.DS_Store', 'data/__MACOSX/dog/._2.png', 'data/dog/notes.pdf']);
    expect(r.classNames).toEqual(['cat', 'dog']);
    expect(r.items.map((i) => i.index)).toEqual([0, 1]);
    expect(r.skipped).toEqual([
      { name: 'data/readme.txt', reason: 'not an image file (by its name)' },
      { name: 'data/loose.png', reason: 'not inside a class folder' },
      { name: 'data/dog/notes.pdf', reason: 'not an image file (by its name)' },
    ]);
  });

  it('a folder with a single class folder inside gives one class (which the import then refuses)', () => {
    expect(labelsFromPaths(['only/cats/1.png', 'only/cats/2.png']).classNames).toEqual(['only']);
    expect(labelsFromPaths(['cats/1.png', 'cats/2.png']).classNames).toEqual(['cats']);
  });

  it('files given a class keep it, trimmed; blank classes are dropped', () => {
    expect(labelsFromAssigned([' b ', 'a', '', 'b'])).toEqual({ classNames: ['a', 'b'], items: [{ index: 0, label: 1 }, { index: 1, label: 0 }, { index: 3, label: 1 }] });
  });
});

describe('image headers', () => {
  it('reads the size of PNG, GIF, BMP and JPEG files without decoding them, and refuses huge ones', () => {
    const png = new Uint8Array(24);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    new DataView(png.buffer).setUint32(16, 40_000);
    new DataView(png.buffer).setUint32(20, 30_000);
    expect(readImageHeader(png)).toEqual({ format: 'png', width: 40_000, height: 30_000 });
    expect(tooLargeReason(40_000, 30_000)).toMatch(/too large to decode \(40000×30000 px/);
    expect(tooLargeReason(4000, 3000)).toBeNull();
    const gif = new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x20, 0x01, 0x10, 0x00]);
    expect(readImageHeader(gif)).toEqual({ format: 'gif', width: 288, height: 16 });
    // JPEG: SOI, an APP0 segment of 16 bytes, then SOF0 with height 480 and width 640.
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, ...new Array<number>(14).fill(0), 0xff, 0xc0, 0, 17, 8, 0x01, 0xe0, 0x02, 0x80, 3, 0, 0, 0]);
    expect(readImageHeader(jpeg)).toEqual({ format: 'jpeg', width: 640, height: 480 });
    expect(readImageHeader(new TextEncoder().encode('hello, not an image'))).toEqual({ format: 'unknown', width: null, height: null });
  });
});

describe('crop and resize', () => {
  it('the center crop keeps the largest centered square of a landscape or portrait image', () => {
    expect(centerCrop(640, 480)).toEqual({ sx: 80, sy: 0, sw: 480, sh: 480 });
    expect(centerCrop(300, 500)).toEqual({ sx: 0, sy: 100, sw: 300, sh: 300 });
    expect(centerCrop(7, 7)).toEqual({ sx: 0, sy: 0, sw: 7, sh: 7 });
    expect(centerCrop(5, 2)).toEqual({ sx: 1, sy: 0, sw: 2, sh: 2 });
  });

  it('downscaling averages each output pixel over the area it covers; upscaling repeats pixels', () => {
    // 4×4 grey → 2×2: each output is the mean of a 2×2 block.
    const src = Uint8Array.from([0, 10, 100, 110, 20, 30, 120, 130, 200, 200, 0, 0, 200, 200, 0, 4]);
    expect(Array.from(resizeSquare(src, 4, 2, 1))).toEqual([15, 115, 200, 1]);
    // 3×3 → 2×2 covers 1.5 px a side: corners weigh 1, edges 0.5, the middle 0.25.
    const three = Uint8Array.from([90, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(resizeSquare(three, 3, 2, 1))).toEqual([40, 0, 0, 0]);
    expect(Array.from(resizeSquare(Uint8Array.from([1, 2, 3, 4]), 2, 4, 1))).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    // RGB channels stay apart.
    expect(Array.from(resizeSquare(Uint8Array.from([255, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 255]), 2, 1, 3))).toEqual([128, 0, 128]);
  });

  it('RGBA becomes RGB or grey (BT.601 luma)', () => {
    const rgba = Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 255]);
    expect(Array.from(fromRgba(rgba, 3))).toEqual([255, 0, 0, 0, 255, 0]);
    expect(Array.from(fromRgba(rgba, 1))).toEqual([76, 150]);
  });
});

describe('seeded augmentation', () => {
  const opts = { flip: true, shift: 0.25, brightness: 0.3 };
  const size = 8;
  const src = Uint8Array.from({ length: size * size }, (_, i) => i * 3);

  function augmented(epochSeed: number, batch: number): Float32Array {
    const rng = batchRng(epochSeed, batch);
    const out = new Float32Array(4 * size * size);
    for (let i = 0; i < 4; i++) augmentInto(src, 0, size, 1, drawAugment(rng, opts, size), out, i * size * size);
    return out;
  }

  it('the same epoch seed and batch give the same images; another batch or epoch gives others', () => {
    expect(augmented(123, 4)).toEqual(augmented(123, 4));
    expect(augmented(123, 5)).not.toEqual(augmented(123, 4));
    expect(augmented(124, 4)).not.toEqual(augmented(123, 4));
    expect(mixSeed(1, 2)).not.toBe(mixSeed(2, 1));
  });

  it('draws stay within the options, and the draw count never depends on them', () => {
    const a = batchRng(9, 0);
    const b = batchRng(9, 0);
    for (let i = 0; i < 200; i++) {
      const d = drawAugment(a, opts, size);
      expect(Math.abs(d.dx)).toBeLessThanOrEqual(2);
      expect(Math.abs(d.dy)).toBeLessThanOrEqual(2);
      expect(d.gain).toBeGreaterThanOrEqual(0.7);
      expect(d.gain).toBeLessThanOrEqual(1.3);
      const off = drawAugment(b, { flip: false, shift: 0, brightness: 0 }, size);
      expect(off).toEqual({ flip: false, dx: 0, dy: 0, gain: 1 });
    }
    expect(a.state).toEqual(b.state);
  });

  it('a flip mirrors, a shift repeats the edge pixels into the gap, brightness scales and clamps', () => {
    const row = Uint8Array.from([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160]);
    const out = new Float32Array(16);
    augmentInto(row, 0, 4, 1, { flip: true, dx: 0, dy: 0, gain: 1 }, out, 0);
    expect(Array.from(out.subarray(0, 4))).toEqual([40, 30, 20, 10]);
    augmentInto(row, 0, 4, 1, { flip: false, dx: 1, dy: 0, gain: 1 }, out, 0);
    expect(Array.from(out.subarray(0, 4))).toEqual([10, 10, 20, 30]);
    augmentInto(row, 0, 4, 1, { flip: false, dx: 0, dy: 0, gain: 2 }, out, 0);
    expect(Array.from(out.subarray(12, 16))).toEqual([255, 255, 255, 255]);
  });
});

describe('kernel-aware backend choice', () => {
  const order = ['cpu', 'wasm', 'webgl', 'webgpu'] as const;

  it("the real registry: tfjs 4.22's WASM lacks Conv2DBackpropFilter, so a CNN cannot train there; an MLP and transfer's head can", () => {
    expect(registryHas('Conv2DBackpropFilter', 'wasm')).toBe(false);
    expect(registryHas('Conv2DBackpropFilter', 'cpu')).toBe(true);
    const cnn = kernelPlan('cnn', ['cpu', 'wasm'], registryHas);
    expect(cnn.allowed).toEqual(['cpu']);
    expect(cnn.excluded[0]).toMatchObject({ backend: 'wasm', missing: ['Conv2DBackpropFilter'] });
    expect(kernelPlan('mlp', ['cpu', 'wasm'], registryHas).allowed).toEqual(['cpu', 'wasm']);
    expect(kernelPlan('transfer', ['cpu', 'wasm'], registryHas).allowed).toEqual(['cpu', 'wasm']);
  });

  it('says in words why a backend was skipped and which one is used', () => {
    const has = (kernel: string, backend: string): boolean => !(backend === 'wasm' && kernel === 'Conv2DBackpropFilter');
    const plan = kernelPlan('cnn', order, has);
    expect(plan.allowed).toEqual(['cpu', 'webgl', 'webgpu']);
    expect(describeChoice(plan, 'webgl')).toBe('WASM cannot train convolutions (it has no Conv2DBackpropFilter kernel); using WebGL');
    expect(describeChoice(kernelPlan('mlp', order, has), 'wasm')).toBeNull();
  });
});

describe('image configs', () => {
  it('the digits sample recommends a valid CNN; bad CNN and transfer settings are named', () => {
    expect(validateConfig(SAMPLES.find((s) => s.id === 'sample:digits')!.recommended)).toEqual([]);
    const base = SAMPLES.find((s) => s.id === 'sample:digits')!.recommended;
    const bad = { ...base, model: { kind: 'cnn' as const, imageSize: 4, blocks: [{ filters: 0, kernelSize: 3 }], dense: -1, dropout: 0.9, augment: { flip: true, shift: 0.5, brightness: 0 } } };
    expect(validateConfig(bad)).toEqual([
      'Block 1: filters must be a whole number from 1 to 512.',
      'Image size must be a whole number of px from 8 to 256 for 1 blocks.',
      'Dense units must be a whole number from 0 to 4096.',
      'Dropout must be from 0 to 0.8.',
      'Augmentation shift must be from 0 to 0.25 of the side.',
    ]);
    expect(validateConfig({ ...base, model: { kind: 'transfer', base: 'mobilenet-v2', imageSize: 16, hidden: 100 } })).toEqual(['The base model takes images from 32 to 224 px.']);
  });
});
