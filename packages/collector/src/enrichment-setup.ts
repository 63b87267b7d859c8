/**
 * Builds the enrichment and scoring side of the collector from configuration: GeoIP,
 * threat feeds, reputation services, the anomaly model and the detectors, plus the timers
 * that keep them fresh (model retraining off the ingest path, feed reloads).
 */
import type { Logger } from 'pino';
import type { FlowRecord } from '@nta/shared';
import type { CollectorConfig } from './config.js';
import type { Pool } from './db/pool.js';
import type { Enrichment, ThreatLookup } from './ingest/enrich.js';
import type { HealthReport } from './api/app.js';
import type { StoredFlow } from './types.js';
import { openGeoResolver, type GeoResolver } from './geo/geo-resolver.js';
import { ThreatFeeds } from './intel/threat-feeds.js';
import { parseFeedList } from './intel/feed-list.js';
import { ModelManager } from './scoring/model-manager.js';
import { createDetectorSet } from './scoring/detectors/detector-set.js';
import { PgModelStore } from './db/model-store-pg.js';

export interface RunningEnrichment {
  enrichment: Enrichment;
  /** Feeds scored flows to the model's training reservoir. */
  observe(flows: readonly StoredFlow[]): void;
  geoInfo?: (ip: string) => ReturnType<GeoResolver['lookup']>;
  health(): HealthReport['checks'];
  start(): void;
  stop(): Promise<void>;
}

export async function startEnrichment(config: Readonly<CollectorConfig>, deps: { pool: Pool; log: Logger }): Promise<RunningEnrichment> {
  const log = deps.log.child({ part: 'enrichment' });

  let geo: GeoResolver | undefined;
  let geoError: string | undefined;
  if (!config.geo.disabled) {
    try {
      geo = await openGeoResolver({
        cityDbPaths: config.geo.cityDbPath ? [config.geo.cityDbPath] : undefined,
        asnDbPath: config.geo.asnDbPath,
        loadAsnInBackground: true,
        logger: log,
      });
    } catch (err) {
      // An operator's own file that cannot be read is a configuration error; the bundled data missing is not fatal.
      if (config.geo.cityDbPath || config.geo.asnDbPath) throw err;
      geoError = (err as Error).message;
      log.warn({ err }, 'GeoIP databases unavailable; flows are stored without country and ASN');
    }
  }

  const feedList = parseFeedList(config.intel.feeds, { refreshMs: config.intel.feedsRefreshMs });
  if (feedList.errors.length > 0) throw new Error(`THREAT_FEEDS: ${feedList.errors.join('; ')}`);
  const feeds = feedList.feeds.length > 0 ? new ThreatFeeds({ feeds: feedList.feeds, log }) : undefined;
  if (feeds) await feeds.start();

  const threats: ThreatLookup | undefined = feeds ? { match: (ip) => feeds.match(ip) } : undefined;

  const models = new ModelManager({
    store: new PgModelStore(deps.pool),
    retrainIntervalMs: config.modelRetrainMs,
    onError: (err, during) => log.warn({ err, during }, 'anomaly model problem'),
  });
  await models.init().catch((err) => log.warn({ err }, 'could not load the stored anomaly model; a new one will be trained'));
  const detectors = createDetectorSet({
    currentModel: () => models.model,
    onError: (err, detector) => log.error({ err, detector }, 'detector failed on a batch'),
  });

  let retrainTimer: NodeJS.Timeout | undefined;
  return {
    enrichment: { geo, threats, scorer: { scoreBatch: (flows: readonly FlowRecord[]) => models.scoreBatch(flows) }, detectors },
    observe: (flows) => models.observe(flows, flows.map((f) => f.level)),
    geoInfo: geo ? (ip) => geo.lookup(ip) : undefined,
    health: () => ({
      geoip: { ok: geo !== undefined || config.geo.disabled, detail: geo ? geo.info().databases.map((d) => ({ role: d.role, state: d.state, type: d.databaseType, licence: d.licence })) : (geoError ?? 'disabled') },
      threatFeeds: { ok: true, detail: feeds?.stats() ?? [] },
      model: { ok: true, detail: models.stats() },
    }),
    start() {
      retrainTimer = setInterval(() => models.retrainIfDue(Date.now()), 5_000).unref();
    },
    async stop() {
      clearInterval(retrainTimer);
      feeds?.stop();
      await models.waitForTraining().catch(() => {});
      geo?.close();
    },
  };
}
