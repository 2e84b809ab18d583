// The sync server as a child process of bench/server-bench.mjs, so the load tool and the SSE
// clients do not share its event loop: starts server/ on a free port of 127.0.0.1 with a
// temporary database and the options it is given, sends `{ url }` over IPC, and closes on
// disconnect or SIGTERM. Imports scripts/load-server.mjs and node built-ins only.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServer } from '../scripts/load-server.mjs';

const options = JSON.parse(process.argv[2] ?? '{}');
const { createLathe } = await loadServer();
const dataDir = mkdtempSync(join(tmpdir(), 'lathe-server-bench-'));
const lathe = await createLathe({
  dbPath: join(dataDir, 'lathe.db'),
  resultsDir: join(dataDir, 'results'),
  ...options,
});
const url = await lathe.listen(0, '127.0.0.1');
process.send?.({ url });

let closing = false;
async function stop() {
  if (closing) return;
  closing = true;
  await lathe.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
}
process.on('disconnect', () => void stop());
process.on('SIGTERM', () => void stop());
