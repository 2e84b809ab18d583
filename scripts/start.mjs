// `npm start`: builds dist/ if it is missing or stale, then serves the production build and the
// sync API (/api) on http://$HOST:$PORT (default localhost:4173) with the Fastify server in
// server/ (configuration by environment: README.md).
import { join } from 'node:path';
import { PROJECT_ROOT, buildIfStale } from './build-if-stale.mjs';
import { loadMain } from './load-server.mjs';

const { readConfig, main } = await loadMain();
const config = readConfig();

try {
  await buildIfStale();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}

await main({ distDir: join(PROJECT_ROOT, 'dist'), config });
