// Configuration by environment: LATHE_TOKENS' format, CORS origins, webhook settings, and the
// token generated on the first start (stored beside the database, printed once).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configFromEnv, parseTokens } from '../../server/config';
import { TOKEN_FILE, TokenTable, resolveTokens } from '../../server/tokens';
import { tempDir } from './helpers';

describe('configuration', () => {
  it('has defaults: port 4173, localhost, ./data/lathe.db, no CORS, no webhooks', () => {
    const c = configFromEnv({}, '/srv/lathe');
    expect(c).toMatchObject({ port: 4173, host: 'localhost', dbPath: '/srv/lathe/data/lathe.db', dataDir: '/srv/lathe/data', tokens: [], corsOrigins: [], webhookUrls: [], webhookSecret: null });
  });

  it('reads LATHE_TOKENS as user:token pairs, several tokens per user allowed', () => {
    expect(parseTokens('alice:tok-aaaaaaaaaaaaaaaa, bob:tok-bbbbbbbbbbbbbbbb,alice:tok-cccccccccccccccc')).toEqual([
      { user: 'alice', token: 'tok-aaaaaaaaaaaaaaaa' },
      { user: 'bob', token: 'tok-bbbbbbbbbbbbbbbb' },
      { user: 'alice', token: 'tok-cccccccccccccccc' },
    ]);
    const table = new TokenTable(parseTokens('alice:tok-aaaaaaaaaaaaaaaa'));
    expect(table.userFor('Bearer tok-aaaaaaaaaaaaaaaa')).toBe('alice');
    expect(table.userFor('bearer tok-aaaaaaaaaaaaaaaa')).toBe('alice');
    expect(table.userFor('Bearer tok-aaaaaaaaaaaaaaab')).toBeNull();
    expect(table.userFor(undefined)).toBeNull();
  });

  it('refuses bad values, naming the variable', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ LATHE_TOKENS: 'justatoken-without-user' }, /LATHE_TOKENS entry 1/],
      [{ LATHE_TOKENS: 'alice:short' }, /at least 16/],
      [{ LATHE_TOKENS: 'al ice:tok-aaaaaaaaaaaaaaaa' }, /user name/],
      [{ PORT: 'http' }, /PORT/],
      [{ LATHE_CORS_ORIGINS: 'https://a.example/path' }, /LATHE_CORS_ORIGINS/],
      [{ LATHE_WEBHOOK_URLS: 'ftp://x' }, /LATHE_WEBHOOK_URLS/],
      [{ LATHE_WEBHOOK_URLS: 'https://hooks.example/x' }, /LATHE_WEBHOOK_SECRET/],
      [{ LATHE_WEBHOOK_SECRET: 'whsec_short' }, /LATHE_WEBHOOK_SECRET/],
    ];
    for (const [env] of bad) expect(() => configFromEnv(env), JSON.stringify(env)).toThrow(ConfigError);
    for (const [env, message] of bad) expect(() => configFromEnv(env)).toThrow(message);
  });

  it('generates a token on the first start, stores it owner-only beside the database, and prints it only then', () => {
    const dir = tempDir();
    try {
      const printed: string[] = [];
      const first = resolveTokens([], dir.path, (l) => printed.push(l));
      expect(first).toHaveLength(1);
      expect(first[0]!.token.length).toBeGreaterThanOrEqual(43);
      expect(printed).toHaveLength(1);
      expect(printed[0]).toContain(first[0]!.token);
      const file = join(dir.path, TOKEN_FILE);
      expect(existsSync(file)).toBe(true);
      expect(statSync(file).mode & 0o077).toBe(0);
      expect(readFileSync(file, 'utf8').trim()).toBe(`default:${first[0]!.token}`);
      const second = resolveTokens([], dir.path, (l) => printed.push(l));
      expect(second).toEqual(first);
      expect(printed).toHaveLength(1);
      // Configured tokens win, and no file is needed.
      expect(resolveTokens([{ user: 'x', token: 'y'.repeat(16) }], dir.path, (l) => printed.push(l))).toEqual([{ user: 'x', token: 'y'.repeat(16) }]);
    } finally {
      dir.remove();
    }
  });
});
