// Loads the TypeScript server (server/) into plain Node 20.
//
// Why tsx and not a tsc build step: server/ imports shared/*.ts, whose imports are written for a
// bundler (no file extensions), which Node's ESM loader cannot resolve after a plain tsc emit;
// Node 20 has no built-in type stripping either. tsx (a dependency, esbuild inside) strips the
// types as modules load, so `npm start` on a fresh machine needs nothing but `npm install`, and
// there is no compiled copy that could go stale. Type checking stays with `npm run check`.
import { tsImport } from 'tsx/esm/api';

/** @returns {Promise<typeof import('../server/server.ts')>} */
export function loadServer() {
  return tsImport('../server/server.ts', import.meta.url);
}

/** @returns {Promise<typeof import('../server/main.ts')>} */
export function loadMain() {
  return tsImport('../server/main.ts', import.meta.url);
}
