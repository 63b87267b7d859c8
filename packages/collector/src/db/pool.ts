/**
 * The PostgreSQL connection pool. Every session runs in UTC so date_trunc buckets and
 * partition bounds mean the same thing whatever the server's default time zone. JIT is
 * off: the statistics queries are large enough to trigger it, and compiling them cost
 * more than it saved.
 */
import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export function createPool(databaseUrl: string, max = 8): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    options: '-c TimeZone=UTC -c statement_timeout=120000 -c jit=off',
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    application_name: 'nta-collector',
  });
  // An idle client that loses its server emits 'error' on the pool; without a listener
  // that would crash the process during a database outage.
  pool.on('error', () => {});
  // A checked-out client whose socket fails (EPIPE mid-COPY) emits 'error' too; the query in
  // progress already rejects, so the event itself needs only a listener.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/** bigint/numeric aggregates arrive as strings; they fit in a double for any realistic count. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  if (typeof v === 'bigint') return Number(v);
  return 0;
}

export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // A client whose ROLLBACK fails has lost its server: destroy it rather than reuse it.
    await client.query('ROLLBACK').catch(() => (broken = true));
    throw err;
  } finally {
    client.release(broken);
  }
}
