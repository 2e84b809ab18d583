// The page's datasets: the stored list (read straight from IndexedDB, so it shows at once), a CSV
// being added (progress, cancel; the worker reads the file), and rename and delete, which the
// worker carries out. Other tabs hear of every change and read the list again.
import { listDatasets, type LatheDb } from '../../shared/db';
import type { DatasetSummary } from '../../shared/dataset';
import type { DatasetDeleteOutcome, TableImport } from '../../shared/protocol';
import type { TrainerClient } from './trainer-client';

type DatasetsClient = Pick<TrainerClient, 'importTable' | 'cancelImport' | 'renameDataset' | 'deleteDataset'>;

/** File names Lathe reads as tables; anything else dropped on the page goes to Import. */
export const TABLE_FILE = /\.(csv|tsv|txt)$/i;

export interface UploadState {
  fileName: string;
  bytesRead: number;
  totalBytes: number;
}

export interface DatasetsDeps {
  db: LatheDb;
  client: () => DatasetsClient | null;
  /** Tells the other tabs that the list changed. */
  announce: () => void;
}

function message(error: unknown): string {
  if (error instanceof Error) return error.name === 'AbortError' ? 'Cancelled.' : error.message || error.name;
  return String(error);
}

export class DatasetsStore {
  /** Newest first; replaced, never mutated. */
  items: DatasetSummary[] = $state.raw([]);
  upload: UploadState | null = $state(null);
  /** Why the last upload, rename or delete failed, in words (role=alert). */
  error: string | null = $state(null);
  status: string | null = $state(null);
  /** A delete waiting for the user to confirm, with the jobs that would lose their data. */
  confirmDelete: { id: string; name: string; outcome: DatasetDeleteOutcome } | null = $state.raw(null);

  #deps: DatasetsDeps | null = null;

  readonly uploads = $derived(this.items.filter((d) => d.source !== 'sample'));

  async load(deps: DatasetsDeps): Promise<void> {
    this.#deps = deps;
    await this.refresh();
  }

  async refresh(): Promise<void> {
    if (this.#deps) this.items = await listDatasets(this.#deps.db);
  }

  find(id: string): DatasetSummary | undefined {
    return this.items.find((d) => d.id === id);
  }

  #client(): DatasetsClient {
    const client = this.#deps?.client();
    if (!client) throw new Error('Lathe is still starting; try again in a moment.');
    return client;
  }

  /** Reads a table file in the worker, showing progress; resolves with the stored dataset, or null. */
  async add(file: File): Promise<TableImport | null> {
    if (this.upload) {
      this.error = `“${this.upload.fileName}” is still being read; cancel it or wait for it first.`;
      return null;
    }
    this.error = null;
    this.status = null;
    this.upload = { fileName: file.name, bytesRead: 0, totalBytes: file.size };
    try {
      const result = await this.#client().importTable(file, (bytesRead, totalBytes) => {
        if (this.upload) this.upload = { ...this.upload, bytesRead, totalBytes };
      });
      await this.refresh();
      this.#deps?.announce();
      this.status = result.reused
        ? `“${file.name}” is already stored as “${result.dataset.name}”; using that.`
        : `Added “${result.dataset.name}”: ${result.dataset.rows.toLocaleString('en-US')} rows, ${result.dataset.kind === 'table' ? result.dataset.columns.length : 0} columns.`;
      return result;
    } catch (error) {
      this.error = `Could not add “${file.name}”: ${message(error)}`;
      return null;
    } finally {
      this.upload = null;
    }
  }

  cancelUpload(): void {
    void this.#deps?.client()?.cancelImport().catch(() => undefined);
  }

  async rename(id: string, name: string): Promise<void> {
    this.error = null;
    try {
      await this.#client().renameDataset(id, name);
      await this.refresh();
      this.#deps?.announce();
    } catch (error) {
      this.error = `Could not rename: ${message(error)}`;
    }
  }

  /** Deletes at once when no resumable job needs it; otherwise asks first (see `confirmDelete`). */
  async remove(id: string, force = false): Promise<void> {
    this.error = null;
    const name = this.find(id)?.name ?? id;
    try {
      const outcome = await this.#client().deleteDataset(id, { force });
      if (!outcome.deleted) {
        this.confirmDelete = { id, name, outcome };
        return;
      }
      this.confirmDelete = null;
      this.status = `Deleted “${name}”.`;
      await this.refresh();
      this.#deps?.announce();
    } catch (error) {
      this.confirmDelete = null;
      this.error = `Could not delete “${name}”: ${message(error)}`;
    }
  }
}
