// The text part of the worker API: a .txt file or pasted text becomes a dataset (decoded and
// checked here, never on the page), and a text job's model writes text: streamed character by
// character, stoppable, from the live weights while the job trains or is paused in this worker,
// else from its newest checkpoint, or from its seeded initial weights before it has trained.
import * as tf from '@tensorflow/tfjs';
import { isTextModel, type TrainConfig } from '../../shared/config';
import type { TextDataset } from '../../shared/dataset';
import * as db from '../../shared/db';
import type { TrainerApi } from '../../shared/protocol';
import { CharTokenizer, textFitsSequence } from '../../shared/text';
import { validateGenerateRequest, type GenerateRequest, type GenerateResult } from '../../shared/text-generation';
import { probeSpecFor, type ProbeSpec } from '../backend-probe';
import { decodeTensors, verifyCheckpoint } from '../checkpoint-codec';
import { storeDataset, type DatasetDeps } from '../datasets';
import { buildModel } from '../model';
import type { Active } from '../run-state';
import { loadModelSource } from '../export/model-files';
import { modelSourceFor } from '../export/model-import';
import { generateText, nextCharacters, type StopFlag, type TextModelSource } from './generate';
import { decodeTextBytes, textDataset } from './text-dataset';
import { textModelOf, TextSource, type TextEncoding } from './text-source';

export interface TextApiDeps extends DatasetDeps {
  ensureBackend: (spec?: ProbeSpec) => Promise<unknown>;
  /** The run this worker holds for `jobId` (running or paused), if any. */
  live: (jobId: string) => Active | null;
}

type TextApi = Pick<TrainerApi, 'importText' | 'generateText' | 'generateImportedText' | 'stopGeneration' | 'nextCharacters'>;

/** Why a config cannot train on a text dataset (empty when it can). */
export function modelFitsText(dataset: TextDataset | Omit<TextDataset, 'text'>, config: TrainConfig): string[] {
  if (!isTextModel(config.model)) return [`“${dataset.name}” is a text: train it with a character model (LSTM, GRU or transformer), not a ${config.model.kind.toUpperCase()}.`];
  return textFitsSequence(dataset.characters, config.validationSplit, config.model.sequenceLength, `“${dataset.name}”`);
}

function textOf(d: Awaited<ReturnType<typeof db.getDataset>>, what: string): TextDataset {
  if (!d) throw new Error(`The dataset of ${what} is no longer stored.`);
  if (d.kind !== 'text') throw new Error(`${what} was not trained on a text, so it cannot write text.`);
  return d;
}

export function createTextApi(deps: TextApiDeps): TextApi {
  const running = new Set<StopFlag>();

  /**
   * Where a job's characters come from. While this worker holds the job, its live model (read
   * afresh at every character, so generation follows training); once the run ends or is dropped,
   * its newest checkpoint, loaded after the run has finished writing it. A job that has no
   * checkpoint yet generates from the initial weights its seed gives.
   */
  async function modelSource(jobId: string): Promise<TextModelSource & { dispose(): void }> {
    const database = await deps.database();
    const job = await db.getJob(database, jobId);
    if (!job) throw new Error(`There is no job with id ${jobId}.`);
    const dataset = textOf(await db.getDataset(database, job.datasetId), `“${job.name}”`);
    const m = textModelOf(job.config);
    let active = deps.live(jobId);
    let encoding: TextEncoding = { kind: 'text', vocabulary: dataset.vocabulary, sequenceLength: m.sequenceLength };
    if (active?.session.source instanceof TextSource) encoding = active.session.source.preprocessing.encoding as TextEncoding;
    let rebuilt: { model: tf.LayersModel; step: number; weights: GenerateResult['weights'] } | null = null;
    const load = async (): Promise<NonNullable<typeof rebuilt>> => {
      await deps.ensureBackend(probeSpecFor(dataset, job.config));
      const model = buildModel(job.config, { numFeatures: m.sequenceLength, numOutputs: encoding.vocabulary.length + 1, inputShape: [m.sequenceLength] });
      const all = await db.listCheckpoints(database, jobId);
      for (const c of all) {
        if (!(await verifyCheckpoint(c))) continue;
        const weights = decodeTensors(c.weightSpecs, c.weightData);
        try {
          model.setWeights(weights);
        } catch (err) {
          model.dispose();
          throw err;
        } finally {
          tf.dispose(weights);
        }
        if (c.encoding) encoding = c.encoding as TextEncoding;
        return { model, step: c.cursor.globalStep, weights: 'checkpoint' };
      }
      if (all.length > 0) {
        model.dispose();
        throw new Error(`All ${all.length} checkpoints of “${job.name}” failed their checksum, so it cannot write text.`);
      }
      return { model, step: 0, weights: 'initial' };
    };
    const source = {
      tokenizer: new CharTokenizer(encoding.vocabulary),
      sequenceLength: m.sequenceLength,
      async current() {
        if (active) {
          // Checked right before the (synchronous) forward pass: a live model is disposed only after its run has ended.
          if (deps.live(jobId) === active)
            return { model: active.session.model, step: active.session.cursor.globalStep, weights: 'live' as const, training: active.state === 'running' };
          // The run ended (or was dropped) meanwhile: wait until it has written its last checkpoint.
          await active.loop?.catch(() => undefined);
          active = null;
        }
        rebuilt ??= await load();
        return rebuilt;
      },
      dispose() {
        rebuilt?.model.dispose();
      },
    };
    return source;
  }

  async function run(source: TextModelSource, request: GenerateRequest, onChars?: (chars: string) => void): Promise<GenerateResult> {
    const stop: StopFlag = { stopped: false };
    running.add(stop);
    try {
      // onChars is a Comlink proxy: its call is a promise nobody needs.
      return await generateText(source, request, (c) => void Promise.resolve(onChars?.(c)).catch(() => undefined), stop);
    } finally {
      running.delete(stop);
    }
  }

  return {
    async importText(input) {
      const now = deps.now();
      if ('file' in input) {
        const fileName = typeof (input.file as { name?: unknown }).name === 'string' ? (input.file as File).name : 'text.txt';
        const { text, notices } = decodeTextBytes(new Uint8Array(await input.file.arrayBuffer()), `“${fileName}”`);
        const name = fileName.replace(/\.(txt|text|md)$/i, '') || fileName;
        return storeDataset(deps, await textDataset(text, { name, sourceId: 'text', source: 'upload', fileName, notices, now }));
      }
      const name = input.name.trim().slice(0, 200) || 'Pasted text';
      return storeDataset(deps, await textDataset(input.text, { name, sourceId: 'text', source: 'upload', fileName: null, notices: [], now }));
    },

    async generateText(jobId, request, onChars) {
      const problems = validateGenerateRequest(request);
      if (problems.length > 0) throw new Error(problems.join(' '));
      const source = await modelSource(jobId);
      try {
        return await run(source, request, onChars);
      } finally {
        source.dispose();
      }
    },

    async generateImportedText(files, request, onChars) {
      const problems = validateGenerateRequest(request);
      if (problems.length > 0) throw new Error(problems.join(' '));
      await deps.ensureBackend();
      const loaded = await loadModelSource(modelSourceFor(files));
      try {
        const meta = loaded.lathe;
        if (!meta?.vocabulary || !meta.text)
          throw new Error('This model has no character vocabulary in its metadata (it is not a Lathe text model), so it cannot write text.');
        const step = meta.step;
        return await run({
          tokenizer: new CharTokenizer(meta.vocabulary),
          sequenceLength: meta.text.sequenceLength,
          current: () => Promise.resolve({ model: loaded.model, step, weights: 'imported' as const }),
        }, request, onChars);
      } finally {
        loaded.model.dispose();
      }
    },

    async stopGeneration() {
      for (const stop of running) stop.stopped = true;
    },

    async nextCharacters(jobId, prompt) {
      if (prompt.length === 0) throw new Error('Write a prompt (at least one character).');
      const source = await modelSource(jobId);
      try {
        return await nextCharacters(source, prompt);
      } finally {
        source.dispose();
      }
    },
  };
}
