import { describe, expect, it } from 'vitest';
import type { AlertCandidate, StoredFlow } from '../../types.js';
import { Level } from '../../types.js';
import { asStoredFlow, buildFlow, exfiltration, seededRandom, TEST_NETWORK } from '../test-traffic.js';
import { isInternalAddress } from './internal-address.js';
import { UploadVolumeDetector } from './upload-volume.js';

const T0 = Date.UTC(2026, 0, 5, 9);
const rng = seededRandom(51);
const A = TEST_NETWORK.attack;
const ws = { agentId: 'ws-32', hostname: 'ws-32.corp.example' };

/** One 60 s piece of a transfer. */
function piece(src: string, dst: string, startMs: number, up: number, down: number): StoredFlow {
  return asStoredFlow(buildFlow({
    src, dst, sport: 41_000, dport: 443, proto: 'tcp', startMs, durationMs: 59_000,
    packetsToDst: Math.max(1, Math.round(up / 1400)), packetsToSrc: Math.max(1, Math.round(down / 1400)), bytesToDst: up, bytesToSrc: down, tcp: 'midstream',
  }, rng), ws);
}

describe('internal-address', () => {
  it('internal-address - private, special and IPv6 local ranges are internal; public ones are not', () => {
    for (const a of ['10.1.2.3', '172.16.0.1', '172.31.255.1', '192.168.1.1', '127.0.0.1', '169.254.1.1', '100.64.0.1', '224.0.0.251', '::1', 'fd00::1', 'fe80::1', 'ff02::fb', '::ffff:10.0.0.1']) {
      expect(isInternalAddress(a)).toBe(true);
    }
    for (const a of ['8.8.8.8', '172.32.0.1', '198.51.100.77', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) {
      expect(isInternalAddress(a)).toBe(false);
    }
  });
});

describe('upload-volume', () => {
  it('upload-volume - a 200 MB upload to one external address raises one alert and flags the rest', () => {
    const flows = exfiltration(rng, T0).map((f) => asStoredFlow(f, ws));
    const d = new UploadVolumeDetector();
    const results = flows.map((f) => d.observe([f]));
    const alerts = results.flatMap((r) => r.alerts);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'upload_volume', level: 'suspicious', subject: A.exfilClient, target: A.exfilDestination, agentId: 'ws-32', detector: 'upload-volume/1' });
    expect(alerts[0].evidence.bytesToDst as number).toBeGreaterThanOrEqual(50_000_000);
    expect(alerts[0].evidence.uploadShare as number).toBeGreaterThan(0.99);
    expect(alerts[0].summary).toMatch(/^10\.0\.0\.132 sent 50\.0 MB to 198\.51\.100\.77 in 1 min and received [\d.]+ kB$/);
    // Later pieces of the same upload are flagged while the alert's cooldown lasts.
    expect(results.map((r) => r.flagged.get(0) ?? Level.normal)).toEqual([1, 1, 1, 1]);
  });

  it('upload-volume - internal backups, downloads, small or two-way transfers stay quiet', () => {
    const d = new UploadVolumeDetector();
    const flows = [
      ...[0, 1, 2, 3, 4].map((i) => piece(TEST_NETWORK.backupServer, TEST_NETWORK.storageServer, T0 + i * 60_000, 60_000_000, 600_000)),
      ...[0, 1, 2, 3].map((i) => piece('10.0.0.102', TEST_NETWORK.mirror, T0 + i * 60_000, 500_000, 150_000_000)),
      ...[0, 1].map((i) => piece('10.0.0.103', '203.0.113.10', T0 + i * 60_000, 20_000_000, 100_000)),
      ...[0, 1].map((i) => piece('10.0.0.104', '203.0.113.11', T0 + i * 60_000, 40_000_000, 8_000_000)),
    ];
    expect(d.observe(flows).alerts).toEqual([]);
    const outsideTheWindow = [0, 1, 2].map((i) => piece('10.0.0.105', '203.0.113.12', T0 + i * 700_000, 30_000_000, 10_000));
    expect(d.observe(outsideTheWindow).alerts).toEqual([]);
  });

  it('upload-volume - a host that always uploads this much alerts at first, then its baseline keeps it quiet', () => {
    const d = new UploadVolumeDetector();
    const alerts: AlertCandidate[] = [];
    // 6 MB a minute to the same cloud backup, for four hours.
    for (let m = 0; m < 240; m++) alerts.push(...d.observe([piece('10.0.0.106', '203.0.113.20', T0 + m * 60_000, 6_000_000, 20_000)]).alerts);
    expect(alerts.length).toBeGreaterThanOrEqual(1);
    const lastMinute = Math.max(...alerts.map((a) => (a.lastSeenMs - T0) / 60_000));
    expect(lastMinute).toBeLessThan(60);
    expect(alerts[0].summary).toMatch(/^10\.0\.0\.106 sent 54\.0 MB to 203\.0\.113\.20 in 8 min 59 s and received 180 kB \(usually [\d.]+ MB per 10 min\)$/);
  });

  it('upload-volume - the isInternal option decides which destinations are watched', () => {
    const isOurs = (a: string): boolean => isInternalAddress(a) || a.startsWith('198.51.100.');
    const flows = exfiltration(rng, T0).map((f) => asStoredFlow(f, ws));
    expect(new UploadVolumeDetector({ isInternal: isOurs }).observe(flows).alerts).toEqual([]);
  });

  it('upload-volume - 100k destinations cost bounded state', () => {
    const d = new UploadVolumeDetector({ maxTrackedPairs: 5_000, maxTrackedSources: 5_000 });
    const one = piece('10.0.0.1', '203.0.113.1', T0, 1000, 1000);
    const flows: StoredFlow[] = Array.from({ length: 100_000 }, (_, i) => ({ ...one, src: `10.9.${i >> 8 & 255}.${i & 255}`, dst: `45.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, lastSeenMs: T0 + i }));
    d.observe(flows);
    expect(d.stats().trackedKeys).toBeLessThanOrEqual(10_000);
    expect(d.stats().evictedKeys).toBeGreaterThan(0);
  });
});
