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
import { PgIntelCache } from './db/intel-cache-pg.js';
import { AbuseIpdbClient } from './intel/abuseipdb-client.js';
import { VirusTotalClient } from './intel/virustotal-client.js';
import { ReputationService } from './intel/reputation-service.js';
import type { ReputationClient, Verdict } from './intel/types.js';
import type { AlertCandidate } from './types.js';

/** Where a looked-up address was last seen, so a verdict that arrives later names a host. */
interface Sighting {
  agentId: string;
  hostname: string;
  peer: string;
  flowId: string;
  atMs: number;
}
const MAX_SIGHTINGS = 50_000;

export interface RunningEnrichment {
  enrichment: Enrichment;
  /** Feeds scored flows to the model's training reservoir. */
  observe(flows: readonly StoredFlow[]): void;
  geoInfo?: (ip: string) => ReturnType<GeoResolver['lookup']>;
  health(): HealthReport['checks'];
  start(): void;
  stop(): Promise<void>;
}

export interface EnrichmentDeps {
  pool: Pool;
  log: Logger;
  /** A reputation service judged an address malicious after its flows were stored. */
  onThreatAlert?(alert: AlertCandidate): void;
}

export async function startEnrichment(config: Readonly<CollectorConfig>, deps: EnrichmentDeps): Promise<RunningEnrichment> {
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

  const clients: ReputationClient[] = [];
  if (config.intel.abuseIpDb) clients.push(new AbuseIpdbClient(config.intel.abuseIpDb));
  if (config.intel.virusTotal) clients.push(new VirusTotalClient(config.intel.virusTotal));
  const sightings = new Map<string, Sighting>();
  const reputation =
    clients.length > 0
      ? new ReputationService({
          clients,
          cache: new PgIntelCache(deps.pool),
          log,
          // A verdict fetched after the flows were stored still raises the alert, on the host that saw the address.
          onVerdict: (v, origin) => {
            if (origin !== 'api' || v.level === 'normal') return;
            const seen = sightings.get(v.ip);
            if (seen) deps.onThreatAlert?.(verdictAlert(v, seen));
          },
        })
      : undefined;

  const listedBy = (ip: string): readonly string[] => {
    const fromFeeds = feeds?.match(ip) ?? [];
    const verdict = reputation?.lookup(ip);
    return verdict?.level === 'malicious' ? [...fromFeeds, verdict.source] : fromFeeds;
  };
  const threats: ThreatLookup | undefined = feeds || reputation ? { match: listedBy } : undefined;

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
    observe: (flows) => {
      models.observe(flows, flows.map((f) => f.level));
      if (reputation) {
        // Remember who saw the public ends whose verdict is still being fetched.
        for (const f of flows) {
          for (const [ip, peer] of [[f.dst, f.src], [f.src, f.dst]] as const) {
            if (f.threat || sightings.has(ip) || (f.dstCountry === 'private' && ip === f.dst) || (f.srcCountry === 'private' && ip === f.src)) continue;
            if (sightings.size >= MAX_SIGHTINGS) sightings.delete(sightings.keys().next().value!);
            sightings.set(ip, { agentId: f.agentId, hostname: f.hostname, peer, flowId: f.flowId, atMs: f.lastSeenMs });
          }
        }
      }
    },
    geoInfo: geo ? (ip) => geo.lookup(ip) : undefined,
    health: () => ({
      geoip: { ok: geo !== undefined || config.geo.disabled, detail: geo ? geo.info().databases.map((d) => ({ role: d.role, state: d.state, type: d.databaseType, licence: d.licence })) : (geoError ?? 'disabled') },
      threatFeeds: { ok: true, detail: feeds?.stats() ?? [] },
      reputation: { ok: true, detail: reputation?.stats() ?? 'no API keys configured' },
      model: { ok: true, detail: models.stats() },
    }),
    start() {
      retrainTimer = setInterval(() => models.retrainIfDue(Date.now()), 5_000).unref();
    },
    async stop() {
      clearInterval(retrainTimer);
      feeds?.stop();
      await reputation?.stop();
      await models.waitForTraining().catch(() => {});
      geo?.close();
    },
  };
}

function verdictAlert(v: Verdict, seen: Sighting): AlertCandidate {
  return {
    kind: 'threat_intel',
    level: v.level === 'malicious' ? 'malicious' : 'suspicious',
    agentId: seen.agentId,
    hostname: seen.hostname,
    subject: v.ip,
    target: seen.peer,
    detector: `${v.source}/1`,
    summary: `${v.ip} talked with ${seen.peer}: ${v.summary}`,
    evidence: { source: v.source, score: v.score, summary: v.summary, details: v.details },
    firstSeenMs: seen.atMs,
    lastSeenMs: seen.atMs,
    flowIds: [seen.flowId],
  };
}
