// The table part of the worker API: datasets (samples, CSV uploads with progress and cancel,
// list, rename, delete), and what a trained table model gives back: evaluation on the validation
// split, predictions for rows typed into a form, and a CSV answered row by row. A job that this
// worker holds in memory answers from its live model, between training steps.
import type { TrainerApi } from '../shared/protocol';
import * as db from '../shared/db';
import { encodingOf, loadExportSource } from './export/source';
import { checkpointModel, predictRecords, type TableModel } from './export/predict';
import { splitTable } from './data';
import type { TableSource } from './data-source';
import { deleteDatasetChecked, ensureSample, importTableFile, type DatasetDeps } from './datasets';
import { evaluateTable } from './evaluate';
import { predictFile } from './predict-file';
import type { Active } from './run-state';
import { usableRows, validatePlan, type TableEncoding } from '../shared/table';
import { requireTable, type TableDataset } from '../shared/dataset';

export interface TableApiDeps extends DatasetDeps {
  ensureBackend: () => Promise<unknown>;
  /** The run this worker holds for `jobId` (running or paused), if any. */
  live: (jobId: string) => Active | null;
}

type TableApi = Pick<
  TrainerApi,
  | 'sample' | 'importTable' | 'cancelImport' | 'listDatasets' | 'renameDataset' | 'deleteDataset' | 'checkPlan' | 'evaluate'
  | 'predictRecords' | 'predictFile'
>;

/** A job's model: the live one (shared, not disposed by the caller) or one rebuilt from its checkpoint. */
async function modelFor(deps: TableApiDeps, jobId: string): Promise<{ model: TableModel; live: boolean; dispose: () => void }> {
  const a = deps.live(jobId);
  if (a) {
    const encoding = a.session.source.preprocessing.encoding as TableEncoding;
    return { model: { model: a.session.model, encoding }, live: true, dispose: () => undefined };
  }
  await deps.ensureBackend();
  const model = await checkpointModel(await deps.database(), jobId);
  return { model, live: false, dispose: () => model.model.dispose() };
}

export function createTableApi(deps: TableApiDeps): TableApi {
  let importing: AbortController | null = null;
  /** The dataset checkPlan read last: the page checks one dataset's plan many times while it is edited. */
  let cached: TableDataset | null = null;
  return {
    async checkPlan(datasetId, plan) {
      if (cached?.id !== datasetId) {
        const stored = await db.getDataset(await deps.database(), datasetId);
        cached = stored ? requireTable(stored, 'A column plan') : null;
      }
      if (!cached) throw new Error('That dataset is no longer stored.');
      const problems = validatePlan(cached.table, plan);
      if (problems.length > 0 && !cached.table.columns.some((c) => c.name === plan.target)) return { problems, rows: 0, dropped: 0, imputed: 0 };
      const { rows, dropped, imputed } = usableRows(cached.table, plan);
      return { problems, rows: rows.length, dropped, imputed };
    },

    sample: (id) => ensureSample(deps, id),

    async importTable(file, onProgress) {
      importing?.abort();
      const controller = new AbortController();
      importing = controller;
      try {
        return await importTableFile(deps, file, {
          signal: controller.signal,
          // A Comlink proxy: its call returns a promise nobody needs.
          onProgress: onProgress ? (read, total) => void Promise.resolve(onProgress(read, total)).catch(() => undefined) : undefined,
        });
      } finally {
        if (importing === controller) importing = null;
      }
    },

    async cancelImport() {
      importing?.abort();
    },

    listDatasets: async () => db.listDatasets(await deps.database()),
    renameDataset: async (id, name) => {
      if (cached?.id === id) cached = null;
      const trimmed = name.trim();
      if (trimmed === '') throw new Error('A dataset needs a name.');
      return db.renameDataset(await deps.database(), id, trimmed.slice(0, 200));
    },
    deleteDataset: (id, { force }) => {
      if (cached?.id === id) cached = null;
      return deleteDatasetChecked(deps, id, force);
    },

    async evaluate(jobId) {
      const a = deps.live(jobId);
      if (a) {
        const source = a.session.source as TableSource;
        const stored = await db.getDataset(await deps.database(), a.job.datasetId);
        if (!stored) throw new Error('The dataset of this job is no longer stored.');
        const dataset = requireTable(stored, 'This evaluation');
        return evaluateTable({
          jobId, step: a.session.cursor.globalStep, live: a.state === 'running', model: a.session.model,
          encoding: source.data.encoding, dataset, valRows: source.data.valRows,
        });
      }
      await deps.ensureBackend();
      const database = await deps.database();
      const exported = await loadExportSource(database, jobId);
      const { model } = await checkpointModel(database, jobId);
      try {
        return await evaluateTable({
          jobId, step: exported.checkpoint.cursor.globalStep, live: false, model,
          encoding: encodingOf(exported.job, exported.checkpoint, exported.dataset), dataset: exported.dataset,
          valRows: splitTable(exported.dataset, exported.job.config).val,
        });
      } finally {
        model.dispose();
      }
    },

    async predictRecords(jobId, records) {
      const m = await modelFor(deps, jobId);
      try {
        return await predictRecords(m.model, records);
      } finally {
        m.dispose();
      }
    },

    async predictFile(jobId, file) {
      const m = await modelFor(deps, jobId);
      try {
        return await predictFile(m.model, file);
      } finally {
        m.dispose();
      }
    },
  };
}
