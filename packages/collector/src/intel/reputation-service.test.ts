import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbuseIpdbClient } from './abuseipdb-client.js';
import { startFakeAbuseIpdb, startFakeVirusTotal } from './fixtures/fake-reputation-apis.js';
import type { FakeApi } from './fixtures/fake-reputation-apis.js';
import { InMemoryIntelCache } from './memory-intel-cache.js';
import { ReputationService } from './reputation-service.js';
import type { ReputationServiceOptions, VerdictOrigin } from './reputation-service.js';
import type { IntelCache, Verdict } from './types.js';
import { VirusTotalClient } from './virustotal-client.js';

const MINUTE = 60_000;

describe('reputation-service', () => {
  let abuse: FakeApi;
  let vt: FakeApi;
  let clock: number;
  let sleeps: number;
  const services: ReputationService[] = [];

  beforeEach(async () => {
    [abuse, vt] = await Promise.all([startFakeAbuseIpdb(), startFakeVirusTotal()]);
    clock = 1_700_000_000_000;
    sleeps = 0;
  });

  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.stop()));
    await Promise.all([abuse.close(), vt.close()]);
  });

  const abuseClient = (timeoutMs = 2_000): AbuseIpdbClient => new AbuseIpdbClient({ apiKey: 'a', baseUrl: abuse.baseUrl, timeoutMs, now: () => clock });
  const vtClient = (timeoutMs = 2_000): VirusTotalClient => new VirusTotalClient({ apiKey: 'v', baseUrl: vt.baseUrl, timeoutMs, now: () => clock });

  /** The service on a clock the test moves; workers nap 2 ms per wait so frozen time means "no token yet". */
  function start(options: Partial<ReputationServiceOptions> & Pick<ReputationServiceOptions, 'clients'>) {
    const delivered: [Verdict, VerdictOrigin][] = [];
    const service = new ReputationService({
      onVerdict: (v, origin) => {
        delivered.push([v, origin]);
      },
      now: () => clock,
      sleep: (_ms, signal) =>
        new Promise<void>((resolve) => {
          sleeps++;
          const done = (): void => {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            resolve();
          };
          const timer = setTimeout(done, 2);
          signal.addEventListener('abort', done, { once: true });
        }),
      ...options,
    });
    services.push(service);
    return { service, delivered };
  }

  /** Lets the workers run through several waits, to show that they keep waiting. */
  const letWorkersSpin = async (): Promise<void> => {
    const target = sleeps + 20;
    await vi.waitFor(() => expect(sleeps).toBeGreaterThanOrEqual(target), { timeout: 10_000, interval: 5 });
  };

  it('reputation-service - answers undefined at once, then the most severe verdict once fetched, from memory', async () => {
    abuse.behaviours.set('45.148.10.121', 'bad');
    vt.behaviours.set('45.148.10.121', 'medium');
    const { service, delivered } = start({ clients: [abuseClient(), vtClient()] });
    expect(service.lookup('45.148.10.121')).toBeUndefined();
    await vi.waitFor(() => expect(delivered).toHaveLength(2));
    expect(delivered.map(([v, origin]) => [v.source, v.level, origin]).sort()).toEqual([
      ['abuseipdb', 'malicious', 'api'],
      ['virustotal', 'suspicious', 'api'],
    ]);
    expect(service.lookup('45.148.10.121')).toMatchObject({ source: 'abuseipdb', level: 'malicious', score: 100 });
    expect(service.lookupAll('45.148.10.121').map((v) => v.source).sort()).toEqual(['abuseipdb', 'virustotal']);
    expect(abuse.requests).toHaveLength(1);
    expect(vt.requests).toHaveLength(1);
    expect(service.stats()).toMatchObject({ cacheHits: 4, requests: 2, queued: 0 });
  });

  it('reputation-service - only public addresses are looked up, in canonical form', async () => {
    const { service, delivered } = start({ clients: [abuseClient()] });
    for (const ip of ['10.0.0.1', '192.168.1.1', '::1', 'fe80::1', 'not-an-ip', '']) expect(service.lookup(ip)).toBeUndefined();
    service.lookup('2A00:1450:4001:080B:0000:0000:0000:200E');
    await vi.waitFor(() => expect(delivered).toHaveLength(1));
    expect(abuse.requests.map((r) => r.ip)).toEqual(['2a00:1450:4001:80b::200e']);
    expect(service.stats().skippedNonPublic).toBe(6);
  });

  it('reputation-service - the queue is de-duplicated and bounded; the overflow is dropped and counted', async () => {
    abuse.fallback = 'slow';
    const { service } = start({ clients: [abuseClient(60_000)], maxQueue: 3 });
    for (let k = 0; k < 5; k++) service.lookup('8.8.8.8');
    for (let k = 1; k <= 10; k++) service.lookup(`9.9.9.${k}`);
    await vi.waitFor(() => expect(abuse.requests).toHaveLength(1));
    expect(service.stats()).toMatchObject({ queued: 3, dropped: 8 });
    await service.stop();
    expect(abuse.requests).toHaveLength(1);
  });

  it('reputation-service - honours the rate limit: requests the fake received never exceed the tokens', async () => {
    const { service, delivered } = start({ clients: [vtClient()], rateLimits: { virustotal: [{ requests: 2, perMs: MINUTE }] } });
    for (let k = 1; k <= 5; k++) service.lookup(`203.0.114.${k}`);
    await vi.waitFor(() => expect(vt.requests).toHaveLength(2));
    await letWorkersSpin();
    expect(vt.requests).toHaveLength(2);
    expect(service.stats().services.virustotal?.throttled).toBeGreaterThan(0);

    clock += MINUTE / 2;
    await letWorkersSpin();
    expect(vt.requests).toHaveLength(2);

    clock += MINUTE / 2;
    await vi.waitFor(() => expect(vt.requests).toHaveLength(4));
    await letWorkersSpin();
    expect(vt.requests).toHaveLength(4);

    clock += MINUTE;
    await vi.waitFor(() => expect(delivered).toHaveLength(5));
    expect(vt.requests).toHaveLength(5);
  });

  it('reputation-service - a 429 pauses the service for Retry-After and the same address is retried after it', async () => {
    abuse.behaviours.set('185.220.101.4', 'rate-limited');
    abuse.retryAfterS = 120;
    const { service, delivered } = start({ clients: [abuseClient()] });
    service.lookup('185.220.101.4');
    service.lookup('185.220.101.5');
    await vi.waitFor(() => expect(service.stats().rateLimited).toBe(1));
    expect(service.stats().services.abuseipdb?.pausedUntilMs).toBe(clock + 120_000);
    await letWorkersSpin();
    expect(abuse.requests).toHaveLength(1);

    abuse.behaviours.set('185.220.101.4', 'bad');
    clock += 120_000;
    await vi.waitFor(() => expect(delivered).toHaveLength(2));
    expect(abuse.requests.map((r) => r.ip)).toEqual(['185.220.101.4', '185.220.101.4', '185.220.101.5']);
    expect(service.lookup('185.220.101.4')?.level).toBe('malicious');
  });

  it('reputation-service - a rejected API key pauses the service instead of burning requests', async () => {
    vt.fallback = 'unauthorized';
    const { service } = start({ clients: [vtClient()], timings: { authPauseMs: 30 * MINUTE } });
    service.lookup('1.2.3.4');
    service.lookup('1.2.3.5');
    await vi.waitFor(() => expect(service.stats().errors.auth).toBe(1));
    await letWorkersSpin();
    expect(vt.requests).toHaveLength(1);
    vt.fallback = 'clean';
    clock += 30 * MINUTE;
    await vi.waitFor(() => expect(vt.requests).toHaveLength(3));
  });

  it('reputation-service - the circuit opens after repeated failures, half-opens after the cooldown, closes on success', async () => {
    abuse.fallback = 'server-error';
    const { service, delivered } = start({ clients: [abuseClient()], circuit: { failureThreshold: 3, openMs: MINUTE } });
    for (let k = 1; k <= 6; k++) service.lookup(`5.5.5.${k}`);
    await vi.waitFor(() => expect(service.stats().services.abuseipdb?.circuit).toBe('open'));
    await letWorkersSpin();
    expect(abuse.requests).toHaveLength(3);

    clock += MINUTE;
    await vi.waitFor(() => expect(abuse.requests).toHaveLength(4));
    await letWorkersSpin();
    expect(service.stats().services.abuseipdb?.circuit).toBe('open');
    expect(abuse.requests).toHaveLength(4);

    abuse.fallback = 'clean';
    clock += 2 * MINUTE;
    await vi.waitFor(() => expect(delivered).toHaveLength(2));
    expect(abuse.requests).toHaveLength(6);
    expect(service.stats()).toMatchObject({ errors: { server: 4 }, services: { abuseipdb: { circuit: 'closed' } } });
  });

  it('reputation-service - a timed-out lookup is counted and not retried before errorRetryMs', async () => {
    abuse.fallback = 'slow';
    const { service } = start({ clients: [abuseClient(200)], timings: { errorRetryMs: 10 * MINUTE } });
    service.lookup('7.7.7.7');
    await vi.waitFor(() => expect(service.stats().errors.timeout).toBe(1));
    expect(service.lookup('7.7.7.7')).toBeUndefined();
    expect(service.stats().queued).toBe(0);
    expect(abuse.requests).toHaveLength(1);
    clock += 10 * MINUTE;
    service.lookup('7.7.7.7');
    await vi.waitFor(() => expect(abuse.requests).toHaveLength(2));
  });

  it('reputation-service - VirusTotal "not found" is a normal verdict kept for the short TTL only', async () => {
    vt.fallback = 'not-found';
    const { service, delivered } = start({ clients: [vtClient()] });
    service.lookup('6.6.6.6');
    await vi.waitFor(() => expect(delivered).toHaveLength(1));
    expect(delivered[0][0]).toMatchObject({ level: 'normal', details: { notFound: true } });
    expect(service.lookup('6.6.6.6')?.level).toBe('normal');
    clock += 10 * MINUTE + 1;
    expect(service.lookup('6.6.6.6')).toBeUndefined();
    await vi.waitFor(() => expect(vt.requests).toHaveLength(2));
  });

  it('reputation-service - verdicts reach the durable cache, where a restarted service finds them without a request', async () => {
    const cache = new InMemoryIntelCache({ now: () => clock });
    abuse.fallback = 'bad';
    const first = start({ clients: [abuseClient()], cache });
    first.service.lookup('91.92.93.94');
    await vi.waitFor(() => expect(cache.size).toBe(1));
    await first.service.stop();

    const second = start({ clients: [abuseClient()], cache });
    expect(second.service.lookup('91.92.93.94')).toBeUndefined();
    await vi.waitFor(() => expect(second.delivered).toHaveLength(1));
    expect(second.delivered[0]).toMatchObject([{ level: 'malicious', ip: '91.92.93.94' }, 'cache']);
    expect(second.service.lookup('91.92.93.94')?.level).toBe('malicious');
    expect(abuse.requests).toHaveLength(1);
    expect(second.service.stats().services.abuseipdb?.persistentCacheHits).toBe(1);
  });

  it('reputation-service - nothing throws: failing callbacks and cache, malformed and huge answers are counted', async () => {
    const brokenCache: IntelCache = {
      get: () => Promise.reject(new Error('database down')),
      put: () => {
        throw new Error('database down');
      },
    };
    abuse.behaviours.set('11.0.0.1', 'malformed').set('11.0.0.2', 'huge').set('11.0.0.3', 'bad').set('11.0.0.4', 'medium');
    let calls = 0;
    const { service } = start({
      clients: [abuseClient()],
      cache: brokenCache,
      onVerdict: async (v) => {
        calls++;
        if (v.level === 'malicious') throw new Error('alert store down');
        return Promise.reject(new Error('async failure'));
      },
    });
    for (let k = 1; k <= 4; k++) expect(() => service.lookup(`11.0.0.${k}`)).not.toThrow();
    await vi.waitFor(() => expect(calls).toBe(2));
    await vi.waitFor(() => expect(service.stats().errors).toMatchObject({ malformed: 1, tooLarge: 1, callback: 2 }));
    expect(service.stats().errors.cache).toBeGreaterThanOrEqual(4);
    expect(service.lookup('11.0.0.3')?.level).toBe('malicious');
  });

  it('reputation-service - without configured clients every lookup is undefined and nothing is queued', async () => {
    const { service } = start({ clients: [] });
    expect(service.lookup('8.8.8.8')).toBeUndefined();
    expect(service.stats()).toMatchObject({ queued: 0, requests: 0, services: {} });
  });
});
