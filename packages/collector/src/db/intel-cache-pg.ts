/** Reputation verdicts cached in `intel_cache` until they expire, shared across restarts. */
import type { IntelCache, Verdict, VerdictSource } from '../intel/types.js';
import type { Pool } from './pool.js';

export class PgIntelCache implements IntelCache {
  constructor(private readonly pool: Pool) {}

  async get(source: VerdictSource, ip: string): Promise<Verdict | undefined> {
    const r = await this.pool.query<{ verdict: Verdict }>(`SELECT verdict FROM intel_cache WHERE source = $1 AND ip = $2::inet AND expires_at > now()`, [
      source,
      ip,
    ]);
    return r.rows[0]?.verdict;
  }

  async put(verdict: Verdict, ttlMs: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO intel_cache (source, ip, verdict, fetched_at, expires_at)
       VALUES ($1, $2::inet, $3, to_timestamp($4 / 1000.0), now() + make_interval(secs => $5))
       ON CONFLICT (source, ip) DO UPDATE SET verdict = EXCLUDED.verdict, fetched_at = EXCLUDED.fetched_at, expires_at = EXCLUDED.expires_at`,
      [verdict.source, verdict.ip, JSON.stringify(verdict), verdict.fetchedAtMs, ttlMs / 1000],
    );
  }
}
