// Storage quota: asks once for persistent storage and formats what IndexedDB uses for the header.
import { formatBytes } from '../../shared/format';

export interface StorageManagerLike {
  persist?: () => Promise<boolean>;
  persisted?: () => Promise<boolean>;
  estimate?: () => Promise<StorageEstimate>;
}

export interface StorageReport {
  usage: number | null;
  quota: number | null;
  persistent: boolean | null;
}

function defaultStorage(): StorageManagerLike | null {
  return typeof navigator !== 'undefined' && navigator.storage ? navigator.storage : null;
}

let persistRequest: Promise<boolean> | null = null;

/** Asks the browser not to evict our checkpoints. Asked once per page; later calls share the answer. */
export function requestPersistence(storage: StorageManagerLike | null = defaultStorage()): Promise<boolean> {
  persistRequest ??= storage?.persist ? storage.persist().catch(() => false) : Promise.resolve(false);
  return persistRequest;
}

export async function readStorage(storage: StorageManagerLike | null = defaultStorage()): Promise<StorageReport> {
  const [estimate, persistent] = await Promise.all([
    storage?.estimate ? storage.estimate().catch(() => null) : null,
    storage?.persisted ? storage.persisted().catch(() => null) : null,
  ]);
  return { usage: estimate?.usage ?? null, quota: estimate?.quota ?? null, persistent };
}

export { formatBytes };

export function formatStorage(r: StorageReport): string {
  if (r.usage === null) return 'Storage use unknown';
  const of = r.quota === null ? '' : ` of ${formatBytes(r.quota)}`;
  const kind = r.persistent === null ? '' : r.persistent ? ' (persistent)' : ' (not persistent)';
  return `${formatBytes(r.usage)} used${of}${kind}`;
}
