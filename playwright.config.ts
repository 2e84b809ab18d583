// End-to-end tests drive the production build (scripts/start.mjs) in Chromium. On this machine and
// in CI that is Debian's /usr/bin/chromium; elsewhere Playwright's own browser.
import { existsSync } from 'node:fs';
import { defineConfig, devices } from '@playwright/test';

const SYSTEM_CHROMIUM = '/usr/bin/chromium';
/** `LATHE_E2E_PORT` lets two checkouts run their e2e suites side by side without sharing a server. */
const PORT = Number(process.env.LATHE_E2E_PORT ?? 4173);
const isCI = Boolean(process.env.CI);

export default defineConfig({
  testDir: 'e2e',
  // Training is CPU-heavy and the machine has 2 cores: one test at a time.
  workers: 1,
  fullyParallel: false,
  forbidOnly: isCI,
  // No retries: a retry would hide a test that fails every time, and costs minutes doing it.
  retries: 0,
  /** Per test, in ms; tests that train to the end set their own. */
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: 'list',
  use: {
    baseURL: `http://localhost:${PORT}`,
    trace: 'retain-on-failure',
    // A click on a button that never appears is a broken assumption: seconds, not minutes.
    actionTimeout: 10_000,
    navigationTimeout: 30_000,
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          ...(existsSync(SYSTEM_CHROMIUM) ? { executablePath: SYSTEM_CHROMIUM } : {}),
          args: [
            '--enable-unsafe-webgpu',
            '--no-sandbox',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run',
            '--disable-dev-shm-usage',
          ],
        },
      },
    },
  ],
  webServer: {
    command: 'node scripts/start.mjs',
    env: { PORT: String(PORT) },
    url: `http://localhost:${PORT}/`,
    reuseExistingServer: !isCI,
    /** A cold build of tfjs and its backends takes a while on 2 cores; in ms. */
    timeout: 300_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
