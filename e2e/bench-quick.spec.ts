// `npm test` runs the bench harness once on its tiny configuration and checks only that every
// field of its JSON result is produced with the right type. No timing thresholds: the bench is
// not a test, and this machine is shared.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { runBench } from '../bench/run.mjs';
import { validateResult } from '../bench/schema.mjs';

test('the quick bench writes a result with every field present and of the right type', async () => {
  // Its own build check, server and browser: about two minutes on 2 cores, and more at a high load
  // average (the CSV import, the two-device sync and the images sections each open the app afresh).
  test.setTimeout(300_000);
  const out = mkdtempSync(join(tmpdir(), 'lathe-bench-'));
  const lines: string[] = [];
  try {
    const { file, problems } = await runBench({ quick: true, outDir: out, log: (line) => lines.push(line) });
    const written = JSON.parse(readFileSync(file, 'utf8')) as {
      mode: string;
      errors: { section: string; message: string }[];
      backends: { backend: string; reason: string | null; models: { id: string }[] }[];
      summary: unknown[];
      ui: {
        csvImport: { file: { rows: number }; parse: { app: { rows: number } } };
        syncAToB: { changes: { state: string }[] };
      };
      images: { backends: { backend: string; cnn: { imagesPerSec: number | null }; transfer: { totalMs: number | null } }[] };
      text: { backends: { backend: string; train: { charsPerSec: number | null; reason: string | null }; generate: { charsPerSec: number | null }; whileGenerating: { ratio: number | null } }[] };
    };
    expect(written.errors, 'no bench section failed').toEqual([]);
    expect(problems, 'the result as returned conforms to bench/schema.mjs').toEqual([]);
    expect(validateResult(written), 'the JSON file conforms to bench/schema.mjs').toEqual([]);
    expect(written.mode).toBe('quick');
    expect(written.backends.map((b) => b.backend)).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    for (const b of written.backends) {
      expect(b.models.length > 0 || (b.reason ?? '') !== '', `${b.backend} is measured or says why not`).toBe(true);
    }
    // At least one backend measured every model, so the per-model fields were checked for real.
    expect(written.backends.some((b) => b.models.map((m) => m.id).join() === 'iris,mlp784')).toBe(true);
    expect(written.summary.length).toBeGreaterThan(0);
    // The CSV import read every row of the generated file; device B saw each of A's changes in turn.
    expect(written.ui.csvImport.file.rows).toBeGreaterThan(1000);
    expect(written.ui.csvImport.parse.app.rows).toBe(written.ui.csvImport.file.rows);
    expect(written.ui.syncAToB.changes.map((c) => c.state)).toEqual(['paused', 'running', 'paused', 'running']);
    // The images section measured for real: the CNN on cpu, transfer learning on WASM (quick's choice).
    const imagesOn = (name: string) => written.images.backends.find((b) => b.backend === name);
    expect(imagesOn('cpu')?.cnn.imagesPerSec).toBeGreaterThan(0);
    expect(imagesOn('wasm')?.transfer.totalMs).toBeGreaterThan(0);
    // The text section measured on cpu; WASM says why a recurrent model cannot train there.
    const textOn = (name: string) => written.text.backends.find((b) => b.backend === name);
    expect(textOn('cpu')?.train.charsPerSec).toBeGreaterThan(0);
    expect(textOn('cpu')?.generate.charsPerSec).toBeGreaterThan(0);
    expect(textOn('cpu')?.whileGenerating.ratio).toBeGreaterThan(0);
    expect(textOn('wasm')?.train.reason).toContain('UnsortedSegmentSum');
  } finally {
    await test.info().attach('bench log', { body: lines.join('\n'), contentType: 'text/plain' });
    rmSync(out, { recursive: true, force: true });
  }
});
