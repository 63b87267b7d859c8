/** Anomaly models persisted in the `models` table, one row per version. */
import type { ModelStore, PersistedModel } from '../scoring/model-store.js';
import type { Pool } from './pool.js';

const KEEP_VERSIONS = 20;

export class PgModelStore implements ModelStore {
  constructor(private readonly pool: Pool) {}

  async loadLatest(): Promise<PersistedModel | null> {
    const r = await this.pool.query<{ model: unknown }>('SELECT model FROM models ORDER BY version DESC LIMIT 1');
    // Returned as stored: the manager validates it, and even a row it cannot use tells it
    // which version numbers are taken.
    return (r.rows[0]?.model as PersistedModel | undefined) ?? null;
  }

  async save(m: PersistedModel): Promise<void> {
    await this.pool.query(
      `INSERT INTO models (version, trained_at, training_rows, thresholds, model) VALUES ($1, to_timestamp($2 / 1000.0), $3, $4, $5)
       ON CONFLICT (version) DO UPDATE SET trained_at = EXCLUDED.trained_at, training_rows = EXCLUDED.training_rows,
         thresholds = EXCLUDED.thresholds, model = EXCLUDED.model`,
      [m.version, m.trainedAtMs, m.rowsUsed, JSON.stringify(m.thresholds), JSON.stringify(m)],
    );
    await this.pool.query('DELETE FROM models WHERE version <= $1', [m.version - KEEP_VERSIONS]);
  }
}
