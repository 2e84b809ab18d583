// `npm start`: builds dist/ if it is missing or stale, then serves the production build on
// http://$HOST:$PORT (default localhost:4173) with cross-origin isolation headers.
import { join } from 'node:path';
import { PROJECT_ROOT, buildIfStale } from './build-if-stale.mjs';
import { serve } from './static-server.mjs';

const port = Number(process.env.PORT ?? 4173);
const host = process.env.HOST ?? 'localhost';

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a whole number from 0 to 65535, not "${process.env.PORT}".`);
  process.exit(1);
}

try {
  await buildIfStale();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}

let server;
try {
  server = await serve({ root: join(PROJECT_ROOT, 'dist'), port, host });
} catch (err) {
  const inUse = err && typeof err === 'object' && 'code' in err && err.code === 'EADDRINUSE';
  console.error(inUse ? `Port ${port} is already in use; set PORT to another one.` : err);
  process.exit(1);
}

const address = server.address();
const shownPort = address && typeof address === 'object' ? address.port : port;
const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
console.log(`Lathe is running at http://${shownHost}:${shownPort}/ (Ctrl+C to stop)`);

function shutdown(signal) {
  console.log(`\n${signal}: stopping the server.`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.once('SIGINT', () => shutdown('SIGINT'));
process.once('SIGTERM', () => shutdown('SIGTERM'));
