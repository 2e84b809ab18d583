// The browser's side of picking images: the files of a directory picker (`webkitdirectory`) and of
// a dropped folder (walked through `webkitGetAsEntry`, whose entries must be taken during the drop
// event itself), each with its relative path, so the worker can read the classes from the folders.
// Only File handles are gathered here: nothing is read or decoded on the page.
import type { ImageFileEntry } from '../../shared/protocol';
import { isImageName } from '../../shared/image-labels';

/** Files from `<input type=file webkitdirectory>`: their `webkitRelativePath` names the folders. */
export function entriesFromPicker(files: FileList | readonly File[]): ImageFileEntry[] {
  return [...files].map((file) => ({ file, path: file.webkitRelativePath || file.name, label: null }));
}

/** Files picked for one class. */
export function entriesForClass(files: FileList | readonly File[], label: string): ImageFileEntry[] {
  return [...files].map((file) => ({ file, path: file.name, label }));
}

function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  // readEntries returns at most 100 entries per call in Chromium: call it until it returns none.
  return new Promise((resolve, reject) => {
    const all: FileSystemEntry[] = [];
    const next = (): void =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(all);
        else {
          all.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, prefix: string, out: ImageFileEntry[], signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ file, path, label: null });
  } else if (entry.isDirectory) {
    for (const child of await readAll((entry as FileSystemDirectoryEntry).createReader())) await walk(child, path, out, signal);
  }
}

/**
 * A drop that carries a folder or images: its entries, taken now (they vanish after the event),
 * and a walk that lists every file under them. Null when the drop holds neither (a package, a CSV).
 */
export function imageDrop(transfer: DataTransfer): ((signal: AbortSignal) => Promise<ImageFileEntry[]>) | null {
  const entries = [...transfer.items].map((item) => item.webkitGetAsEntry?.() ?? null).filter((e): e is FileSystemEntry => e !== null);
  const hasFolder = entries.some((e) => e.isDirectory);
  const allImages = entries.length > 0 && entries.every((e) => e.isFile && isImageName(e.name));
  if (!hasFolder && !allImages) return null;
  return async (signal) => {
    const out: ImageFileEntry[] = [];
    for (const e of entries) await walk(e, '', out, signal);
    return out;
  };
}
