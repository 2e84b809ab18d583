// Decides whether dist/ is older than the sources it is built from, and rebuilds it with the
// project's own Vite when it is. Node built-ins only; used by start.mjs and ensure-build.mjs.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** What a production build depends on besides the HTML entry pages (folders are walked recursively). */
export const BUILD_INPUTS = [
  'src',
  'workers',
  'shared',
  'public',
  'vite.config.ts',
  'package.json',
  'package-lock.json',
  'tsconfig.base.json',
];

/** BUILD_INPUTS plus every HTML page at the top level (index.html and any other Vite entry). */
export function buildInputs(root = PROJECT_ROOT) {
  const pages = readdirSync(root).filter((name) => name.endsWith('.html'));
  return [...BUILD_INPUTS, ...pages];
}

/**
 * Written into dist/ after a successful build, with its mtime set to when the build *started*, so
 * a source edited during a build still counts as newer. Vite empties dist/ before writing, so a
 * stamp never outlives the build it describes.
 */
export const BUILD_STAMP = '.lathe-build-stamp';

/** Newest modification time (ms) of a file or of any file under a folder; 0 when absent. */
export function newestMtimeMs(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a deleted file only shows as a newer folder mtime
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    newest = Math.max(newest, newestMtimeMs(join(path, entry.name)));
  }
  return newest;
}

/** Returns why dist/ needs a build, or null when it is up to date. */
export function staleReason(root = PROJECT_ROOT) {
  const index = join(root, 'dist', 'index.html');
  const stamp = join(root, 'dist', BUILD_STAMP);
  if (!existsSync(index)) return 'dist/ has no build';
  // A plain `vite build` writes no stamp; its index.html is written near the end of the build.
  const builtAt = statSync(existsSync(stamp) ? stamp : index).mtimeMs;
  for (const input of buildInputs(root)) {
    if (newestMtimeMs(join(root, input)) > builtAt) return `${input} changed since the last build`;
  }
  return null;
}

/** Runs `vite build` with the local binary; rejects if it fails. */
export function viteBuild(root = PROJECT_ROOT) {
  const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  if (!existsSync(vite)) return Promise.reject(new Error('Vite is not installed: run `npm install` first.'));
  const startedAt = new Date();
  return new Promise((resolvePromise, reject) => {
    // Always a production build: a caller such as Vitest sets NODE_ENV=test, which would make
    // import.meta.env.PROD false and silently drop production-only code (the service worker).
    const env = { ...process.env, NODE_ENV: 'production' };
    const child = spawn(process.execPath, [vite, 'build'], { cwd: root, stdio: 'inherit', env });
    // Stopping us mid-build stops the build too, rather than leaving it running on its own.
    const forward = (sig) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      if (code !== 0) {
        reject(new Error(`vite build failed (${signal ?? `exit code ${code}`})`));
        return;
      }
      const stamp = join(root, 'dist', BUILD_STAMP);
      writeFileSync(stamp, `${startedAt.toISOString()}\n`);
      utimesSync(stamp, startedAt, startedAt);
      resolvePromise();
    });
  });
}

/** Builds when dist/ is missing or stale. Returns true when it built. */
export async function buildIfStale({ root = PROJECT_ROOT, log = console.log } = {}) {
  const reason = staleReason(root);
  if (reason === null) {
    log('dist/ is up to date; skipping the build.');
    return false;
  }
  log(`Building, because ${reason}.`);
  await viteBuild(root);
  return true;
}
