import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresBinDir, startPostgres, timescaledbRoot, type PostgresFlavor, type PostgresHandle } from '../helpers/postgres.js';

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

async function canConnect(url: string): Promise<boolean> {
  return query(url, 'SELECT 1').then(
    () => true,
    () => false,
  );
}

const RECOVERY_LOG = 'not properly shut down; automatic recovery in progress';

describe.each<PostgresFlavor>(['postgres', 'timescaledb'])('postgres helper (%s)', (flavor) => {
  let server: PostgresHandle;

  beforeAll(async () => {
    server = await startPostgres({ flavor });
  });
  afterAll(async () => {
    await server?.cleanup();
  });

  it(`postgres helper (${flavor}) - serves the expected PostgreSQL on loopback as user postgres`, async () => {
    expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
    const [row] = await query<{ version: string; user: string; num: string; fsync: string; sync: string }>(
      server.url,
      `SELECT version(), current_user AS user, current_setting('server_version_num') AS num,
              current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sync`,
    );
    expect(row.user).toBe('postgres');
    expect(row.fsync).toBe('off');
    expect(row.sync).toBe('on');
    if (flavor === 'postgres') {
      // The same build `postgres --version` reports, e.g. "postgres (PostgreSQL) 15.18 (Debian ...)".
      const reported = execFileSync(join(postgresBinDir(), 'postgres'), ['--version'], { encoding: 'utf8' });
      const release = /\(PostgreSQL\) (\S+)/.exec(reported)?.[1];
      expect(release).toBeDefined();
      expect(row.version).toContain(`PostgreSQL ${release}`);
    } else {
      expect(Math.floor(Number(row.num) / 10_000)).toBe(17);
    }
  });

  if (flavor === 'timescaledb') {
    it('postgres helper (timescaledb) - TimescaleDB 2.19 Apache edition: hypertable, time_bucket, drop_chunks', async () => {
      const url = await server.createDatabase();
      await query(url, 'CREATE EXTENSION timescaledb');
      const [ext] = await query<{ extversion: string; license: string }>(
        url,
        `SELECT extversion, current_setting('timescaledb.license') AS license FROM pg_extension WHERE extname = 'timescaledb'`,
      );
      expect(ext.extversion).toMatch(/^2\.19\./);
      expect(ext.license).toBe('apache');

      await query(url, 'CREATE TABLE flows (ts timestamptz NOT NULL, bytes bigint NOT NULL)');
      await query(url, `SELECT create_hypertable('flows', by_range('ts', INTERVAL '1 day'))`);
      // Five days, one row per hour, bytes = hour index: each daily bucket's sum is known.
      const start = Date.parse('2026-01-01T00:00:00Z');
      const hours = 5 * 24;
      const times = Array.from({ length: hours }, (_, i) => new Date(start + i * 3_600_000).toISOString());
      const bytes = Array.from({ length: hours }, (_, i) => i);
      await query(url, 'INSERT INTO flows SELECT * FROM unnest($1::timestamptz[], $2::bigint[])', [times, bytes]);

      const chunks = await query<{ n: string }>(url, `SELECT count(*) AS n FROM show_chunks('flows')`);
      expect(Number(chunks[0].n)).toBe(5);
      const buckets = await query<{ day: Date; total: string }>(
        url,
        `SELECT time_bucket(INTERVAL '1 day', ts) AS day, sum(bytes) AS total FROM flows GROUP BY 1 ORDER BY 1`,
      );
      const expectedTotals = [0, 1, 2, 3, 4].map((d) => bytes.slice(d * 24, d * 24 + 24).reduce((a, b) => a + b, 0));
      expect(buckets.map((b) => Number(b.total))).toEqual(expectedTotals);
      expect(buckets[0].day.toISOString()).toBe('2026-01-01T00:00:00.000Z');

      // Chunks wholly before Jan 3 go; the rows of Jan 3..5 stay.
      const dropped = await query(url, `SELECT drop_chunks('flows', older_than => '2026-01-03T00:00:00Z'::timestamptz)`);
      expect(dropped).toHaveLength(2);
      const [left] = await query<{ n: string; first: Date }>(url, 'SELECT count(*) AS n, min(ts) AS first FROM flows');
      expect(Number(left.n)).toBe(3 * 24);
      expect(left.first.toISOString()).toBe('2026-01-03T00:00:00.000Z');
    });
  }

  it(`postgres helper (${flavor}) - stop then start keeps the port and the data`, async () => {
    const url = await server.createDatabase();
    await query(url, 'CREATE TABLE kept (id int PRIMARY KEY)');
    await query(url, 'INSERT INTO kept SELECT generate_series(1, 1000)');
    const port = server.port;

    await server.stop();
    expect(server.pid).toBeUndefined();
    expect(await canConnect(url)).toBe(false);

    await server.start();
    expect(server.port).toBe(port);
    const [row] = await query<{ n: string }>(url, 'SELECT count(*) AS n FROM kept');
    expect(Number(row.n)).toBe(1000);
    expect(server.logTail()).not.toContain(RECOVERY_LOG);
  });

  it(`postgres helper (${flavor}) - kill is immediate and the next start recovers committed rows`, async () => {
    const url = await server.createDatabase();
    await query(url, 'CREATE TABLE durable (id int PRIMARY KEY)');
    // Committed one by one with synchronous_commit on: each is in the WAL before COMMIT returns.
    for (let i = 1; i <= 50; i++) await query(url, 'INSERT INTO durable VALUES ($1)', [i]);

    await server.kill();
    expect(await canConnect(url)).toBe(false);
    await server.start();

    expect(server.logTail()).toContain(RECOVERY_LOG);
    const [row] = await query<{ n: string; max: number }>(url, 'SELECT count(*) AS n, max(id) AS max FROM durable');
    expect(Number(row.n)).toBe(50);
    expect(row.max).toBe(50);
  });

  it(`postgres helper (${flavor}) - createDatabase gives isolated databases`, async () => {
    const a = await server.createDatabase();
    const b = await server.createDatabase('nta_helper_named_db');
    expect(a).not.toBe(b);
    expect(b).toBe(`postgres://postgres@127.0.0.1:${server.port}/nta_helper_named_db`);

    await query(a, 'CREATE TABLE t (v text)');
    await query(b, 'CREATE TABLE t (v text)');
    await query(a, `INSERT INTO t VALUES ('only in a')`);
    expect(await query(a, 'SELECT v FROM t')).toEqual([{ v: 'only in a' }]);
    expect(await query(b, 'SELECT v FROM t')).toEqual([]);

    await expect(server.createDatabase('nta_helper_named_db')).rejects.toThrow(/already exists/);
    await expect(server.createDatabase('bad"name')).rejects.toThrow(/not a plain database name/);
  });
});

describe('postgres helper - data dirs and missing binaries', () => {
  it('postgres helper - a given data dir is initialised once and kept by cleanup', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'nta-pg-test-'));
    // As root the server runs as `postgres`, which must be able to reach the data dir.
    chmodSync(parent, 0o755);
    const dataDir = join(parent, 'cluster');
    try {
      const first = await startPostgres({ flavor: 'postgres', dataDir });
      expect(first.dataDir).toBe(dataDir);
      await query(first.url, 'CREATE TABLE survivor (v int)');
      await query(first.url, 'INSERT INTO survivor VALUES (42)');
      await first.cleanup();
      expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);

      const second = await startPostgres({ flavor: 'postgres', dataDir });
      try {
        expect(await query(second.url, 'SELECT v FROM survivor')).toEqual([{ v: 42 }]);
      } finally {
        await second.cleanup();
      }
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('postgres helper - a timescaledb data dir outside the tree is refused with the reason', async () => {
    const outside = join(tmpdir(), 'nta-pg-outside-tree');
    await expect(startPostgres({ flavor: 'timescaledb', dataDir: outside })).rejects.toThrow(
      `must lie inside ${timescaledbRoot()}`,
    );
    expect(existsSync(outside)).toBe(false);
  });

  it('postgres helper - missing binaries name the setup command', async () => {
    const saved = { bin: process.env.NTA_PG_BIN, root: process.env.NTA_TIMESCALEDB_ROOT };
    process.env.NTA_PG_BIN = '/nonexistent/pg/bin';
    process.env.NTA_TIMESCALEDB_ROOT = '/nonexistent/trixie';
    try {
      await expect(startPostgres({ flavor: 'postgres' })).rejects.toThrow(/NTA_PG_BIN.*scripts\/setup\.sh --test/);
      await expect(startPostgres({ flavor: 'timescaledb' })).rejects.toThrow(/\/nonexistent\/trixie.*scripts\/setup\.sh --test/);
    } finally {
      for (const [key, value] of [['NTA_PG_BIN', saved.bin], ['NTA_TIMESCALEDB_ROOT', saved.root]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});
