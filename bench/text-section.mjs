// @ts-check
// The text section of `npm run bench` (issue 10): its sizes, the run (bench.html's runText, one
// fresh worker per backend), its schema and its summary rows. Self-contained like the images
// section, so run.mjs, schema.mjs and summary.mjs each take it in with a line or two.

/** @typedef {import('./config.mjs').BackendName} BackendName */
/** @typedef {import('./config.mjs').BenchConfig} BenchConfig */

/** The target: training keeps at least this share of its speed while generating. */
export const WHILE_GENERATING_TARGET = 0.8;

export const TEXT_FULL = {
  /**
   * The recurrent preset as the Moby-Dick sample recommends it (LSTM 128, embedding 32, windows of
   * 40 characters, batch 32) on the sample's first 20,000 characters; 200 characters generated.
   */
  text: {
    id: 'lstm128', characters: 20_000, units: null, sequenceLength: null, batchSize: 32, epochs: 20,
    budgetMs: 10_000, maxMs: 40_000, generateChars: 200, rounds: 3, windowSteps: 8,
  },
  backendTimeoutMs: 400_000,
};

export const TEXT_QUICK = {
  /** Every code path, little work: a 16-unit LSTM on 3,000 characters, windows of 16. */
  text: {
    id: 'lstm16', characters: 3_000, units: 16, sequenceLength: 16, batchSize: 16, epochs: 20,
    budgetMs: 600, maxMs: 2_500, generateChars: 20, rounds: 1, windowSteps: 3,
  },
  backendTimeoutMs: 90_000,
};

/**
 * A backend's entry when it did not run: every field of every part present, null, with the reason.
 * @param {BackendName} backend
 * @param {string} reason
 * @param {number | null} wallMs
 */
function notRun(backend, reason, wallMs) {
  /** @param {Record<string, unknown>} spec */
  const part = (spec) => ({ ...Object.fromEntries(Object.keys(spec).map((k) => [k, null])), supported: false, reason });
  const [b] = /** @type {[typeof TEXT_SCHEMA.backends[0] & {}]} */ (TEXT_SCHEMA.backends);
  return { backend, available: false, reason, wallMs, train: part(b.train), generate: part(b.generate), whileGenerating: part(b.whileGenerating) };
}

/**
 * @param {import('@playwright/test').Browser} browser
 * @param {string} baseUrl
 * @param {BenchConfig} cfg the run's config: which backends run and which are skipped, with why
 * @param {(line: string) => void} log
 */
export async function runTextSection(browser, baseUrl, cfg, log) {
  const sizes = cfg.mode === 'quick' ? TEXT_QUICK : TEXT_FULL;
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${baseUrl}/bench.html`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 30_000 });
    const backends = [];
    for (const backend of /** @type {BackendName[]} */ (['webgpu', 'webgl', 'wasm', 'cpu'])) {
      const skip = cfg.skip[backend] ?? (cfg.backends.includes(backend) ? null : 'not requested');
      const started = Date.now();
      if (skip) {
        backends.push(notRun(backend, skip, null));
        continue;
      }
      log(`text on ${backend}…`);
      const request = { backend, text: sizes.text };
      try {
        const result = await page.evaluate(([req, ms]) => /** @type {any} */ (window).__latheBench.runText(req, ms), /** @type {const} */ ([request, sizes.backendTimeoutMs]));
        backends.push({ ...result, wallMs: Date.now() - started });
      } catch (err) {
        backends.push(notRun(backend, `bench failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, Date.now() - started));
      }
      log(`text on ${backend}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    return { config: sizes, backends };
  } finally {
    await context.close();
  }
}

const PART = { supported: 'boolean', reason: 'string?' };

/** bench/schema.mjs's spec for `text` (schema version 5). */
export const TEXT_SCHEMA = {
  config: 'any',
  backends: [{
    backend: 'string', available: 'boolean', reason: 'string?', wallMs: 'number?',
    train: {
      ...PART, params: 'number?', sequenceLength: 'number?', loop: 'any', fit: 'any',
      charsPerSec: 'number?', fitCharsPerSec: 'number?', loopOverFit: 'number?',
    },
    generate: { ...PART, chars: 'number?', ms: 'number?', charsPerSec: 'number?' },
    whileGenerating: {
      ...PART, windows: 'any', aloneCharsPerSec: 'number?', generatingCharsPerSec: 'number?', ratio: 'number?', generateCharsPerSec: 'number?',
    },
  }],
};

/**
 * Summary rows for the text section; `row` is summary.mjs's row builder.
 * @param {any} result
 * @param {(r: any) => import('./summary.mjs').Row} row
 * @returns {import('./summary.mjs').Row[]}
 */
export function textRows(result, row) {
  const tx = result.text;
  if (!tx) return [];
  const rows = [];
  for (const b of tx.backends) {
    const t = b.train;
    if (t.charsPerSec !== undefined && t.charsPerSec !== null) {
      rows.push(row({ group: 'text', figure: `recurrent preset ${b.backend}: app loop vs bare fit`, value: t.charsPerSec, unit: 'chars/s', baseline: t.fitCharsPerSec, baselineLabel: 'bare model.fit', ratio: t.loopOverFit, target: '≥ 0.95', met: t.loopOverFit === null ? null : t.loopOverFit >= 0.95, note: `${t.loop?.steady?.steps} steps from step ${t.loop?.steady?.fromStep}${t.loop?.afterFirstEpoch ? '' : ' (time-capped warm-up)'}; ${t.params} params, windows of ${t.sequenceLength}` }));
    } else rows.push(row({ group: 'text', figure: `recurrent preset ${b.backend}: not measured`, unit: '', note: t.reason }));
    const g = b.generate;
    if (g.charsPerSec !== undefined && g.charsPerSec !== null) {
      rows.push(row({ group: 'text', figure: `generation ${b.backend}: paused model`, value: g.charsPerSec, unit: 'chars/s', baseline: null, note: `${g.chars} characters in ${g.ms?.toFixed(0)} ms` }));
    } else rows.push(row({ group: 'text', figure: `generation ${b.backend}: not measured`, unit: '', note: g.reason }));
    const c = b.whileGenerating;
    if (c.ratio !== undefined && c.ratio !== null) {
      const met = c.ratio >= WHILE_GENERATING_TARGET;
      rows.push(row({ group: 'text', figure: `training ${b.backend} while generating`, value: c.generatingCharsPerSec, unit: 'chars/s', baseline: c.aloneCharsPerSec, baselineLabel: 'training alone (alternating windows)', ratio: c.ratio, target: `≥ ${WHILE_GENERATING_TARGET}`, met, note: `generating ${c.generateCharsPerSec?.toFixed(1)} chars/s meanwhile; ${c.windows?.length} windows of ${c.windows?.[0]?.steps} steps` }));
    } else rows.push(row({ group: 'text', figure: `training ${b.backend} while generating: not measured`, unit: '', note: c.reason }));
  }
  return rows;
}
