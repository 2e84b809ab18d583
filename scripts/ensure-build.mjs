// `npm run test:e2e` runs this first: builds dist/ when it is missing or older than its sources.
import { buildIfStale } from './build-if-stale.mjs';

try {
  await buildIfStale();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
