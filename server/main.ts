// `npm start`'s server process (loaded by scripts/start.mjs): configuration from the environment,
// the first-start token, then the app and /api on one port until SIGINT or SIGTERM.
// Imports server/ modules and node built-ins only.
import { join } from 'node:path';
import { ConfigError, configFromEnv, redactDatabaseUrl, type ServerConfig } from './config';
import { LOG_REDACT, createLathe } from './server';
import { resolveTokens } from './tokens';

/** The configuration, or exit with a message naming the bad variable (before any build starts). */
export function readConfig(): ServerConfig {
  try {
    return configFromEnv(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}

export async function main({ distDir, config }: { distDir: string; config: ServerConfig }): Promise<void> {
  const tokens = resolveTokens(config.tokens, config.dataDir, (line) => console.log(line));
  const opened = createLathe({
    dbPath: config.dbPath,
    database: config.databaseUrl === null ? null : { url: config.databaseUrl },
    resultsDir: config.dataDir === null ? null : join(config.dataDir, 'results'),
    tokens,
    distDir,
    corsOrigins: config.corsOrigins,
    webhookUrls: config.webhookUrls,
    webhookSecret: config.webhookSecret,
    logger: { level: process.env.LATHE_LOG_LEVEL ?? 'warn', redact: LOG_REDACT },
  });
  let lathe: Awaited<typeof opened>;
  try {
    lathe = await opened;
  } catch (err) {
    if (config.databaseUrl === null) throw err;
    // PostgreSQL down, wrong password, no such database: say which, without the password.
    console.error(`Cannot open the PostgreSQL database ${redactDatabaseUrl(config.databaseUrl)}: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }

  let url: string;
  try {
    url = await lathe.listen(config.port, config.host);
  } catch (err) {
    const inUse = err instanceof Error && 'code' in err && err.code === 'EADDRINUSE';
    console.error(inUse ? `Port ${config.port} is already in use; set PORT to another one.` : err);
    await lathe.close();
    process.exit(1);
  }
  console.log(`Lathe is running at ${url}/ (API at ${url}/api, database ${config.databaseUrl === null ? config.dbPath : redactDatabaseUrl(config.databaseUrl)}; Ctrl+C to stop)`);

  const shutdown = (signal: string) => {
    console.log(`\n${signal}: stopping the server.`);
    setTimeout(() => process.exit(0), 2000).unref();
    lathe.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}
