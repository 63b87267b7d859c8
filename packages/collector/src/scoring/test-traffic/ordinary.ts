import type { FlowRecord } from '@nta/shared';
import type { SeededRandom } from '../seeded-random.js';
import { buildFlow, packetsFor, type FlowSpec } from './flow-builder.js';
import {
  TEST_NETWORK as N,
  addressOfName,
  ephemeralPort,
  lognormal,
  pick,
  randomPublicAddress,
  serverAddresses,
  workstationAddress,
} from './network.js';

/**
 * Ordinary office traffic: web browsing (DNS then HTTPS and QUIC to many servers), the resolver
 * forwarding and doing reverse lookups, NTP, SSDP/mDNS chatter, SSH sessions, bulk downloads,
 * an internal backup, a monitoring server scraping every host, a busy public web server, and a
 * workstation retrying a dead printer. Includes the busy-but-benign cases detectors must not
 * alert on.
 */
const SITES = [
  'github.com', 'wikipedia.org', 'google.com', 'microsoft.com', 'office.com', 'slack.com', 'zoom.us',
  'bbc.co.uk', 'amazon.com', 'cloudflare.com', 'apple.com', 'ubuntu.com', 'stackoverflow.com', 'nytimes.com',
  'theguardian.com', 'reddit.com', 'linkedin.com', 'atlassian.net', 'salesforce.com', 'dropbox.com',
  'npmjs.com', 'python.org', 'mozilla.org', 'spotify.com', 'netflix.com', 'booking.com', 'ebay.co.uk',
  'abc.net.au', 'lemonde.fr', 'spiegel.de', 'heise.de', 'yahoo.co.jp', 'gov.uk', 'weather.com', 'medium.com',
];
const PREFIXES = [
  'www', 'api', 'static', 'cdn', 'img', 'login', 'accounts', 'mail', 'assets', 'media', 'ws', 'edge',
  'update', 'docs', 'support', 'status', 'search', 'news', 'blog', 'shop', 'images', 'video',
];
const THIRD_PARTY = [
  'fonts.googleapis.com', 'fonts.gstatic.com', 'www.google-analytics.com', 'www.googletagmanager.com',
  'cdn.jsdelivr.net', 'cdnjs.cloudflare.com', 'd1a2b3c4d5e6f7.cloudfront.net', 'e1234.a.akamaiedge.net',
  'safebrowsing.googleapis.com', 'incoming.telemetry.mozilla.org', 'firefox.settings.services.mozilla.com',
  'login.microsoftonline.com', 'r3---sn-4g5e6nsz.googlevideo.com', 'connect.facebook.net',
  'selector1-corp-example._domainkey.corp-mail.com', 'ocsp.digicert.com', 'clients2.google.com',
];

export interface OrdinaryOptions {
  startMs: number;
  durationMs: number;
  workstations: number;
}

class OrdinaryGenerator {
  readonly flows: FlowRecord[] = [];
  private readonly endMs: number;

  constructor(
    private readonly rng: SeededRandom,
    private readonly opts: OrdinaryOptions,
  ) {
    this.endMs = opts.startMs + opts.durationMs;
  }

  add(spec: FlowSpec): void {
    this.flows.push(buildFlow(spec, this.rng));
  }

  /** Times from start to end, about `everyMs` apart, with jitter. */
  *ticks(everyMs: number, jitter = 0.5): Generator<number> {
    let t = this.opts.startMs + this.rng.next() * everyMs;
    while (t < this.endMs) {
      yield Math.floor(t);
      t += everyMs * (1 - jitter + 2 * jitter * this.rng.next());
    }
  }

  dns(client: string, server: string, name: string, t: number): void {
    const rng = this.rng;
    const qLen = 54 + name.length + 16;
    this.add({
      src: client, dst: server, sport: ephemeralPort(rng), dport: 53, proto: 'udp', startMs: t,
      durationMs: 1 + rng.int(40), packetsToDst: 1, packetsToSrc: 1, bytesToDst: qLen, bytesToSrc: qLen + 16 + rng.int(200),
      l7: { dnsQuery: name, dnsQueryType: pick(rng, [1, 1, 1, 28, 28, 65]), dnsRcode: 0 },
    });
  }

  https(client: string, name: string, t: number): void {
    const rng = this.rng;
    const down = Math.round(lognormal(rng, 60_000, 1.6)) + 3000;
    const up = Math.round(lognormal(rng, 4000, 0.8)) + 800;
    const quic = rng.next() < 0.15;
    const durationMs = Math.round(lognormal(rng, 3000, 1.5)) + 20;
    this.add({
      src: client, dst: addressOfName(name), sport: ephemeralPort(rng), dport: 443, proto: quic ? 'udp' : 'tcp', startMs: t,
      durationMs, packetsToDst: packetsFor(up, 120), packetsToSrc: packetsFor(down, 1200), bytesToDst: up, bytesToSrc: down,
      tcp: rng.next() < 0.8 ? 'complete' : 'reset', l7: { tlsSni: name },
    });
  }

  browse(ws: string): void {
    const rng = this.rng;
    for (const t of this.ticks(20_000, 0.9)) {
      const site = pick(rng, SITES);
      const names = new Set<string>([`www.${site}`]);
      const extra = 1 + rng.int(5);
      for (let i = 0; i < extra; i++) names.add(rng.next() < 0.6 ? `${pick(rng, PREFIXES)}.${site}` : pick(rng, THIRD_PARTY));
      let at = t;
      for (const name of names) {
        this.dns(ws, N.resolver, name, at);
        // The resolver's cache misses go upstream.
        if (rng.next() < 0.3) this.dns(N.resolver, pick(rng, N.upstreamResolvers), name, at + 2);
        const connections = 1 + rng.int(4);
        for (let c = 0; c < connections; c++) this.https(ws, name, at + 20 + rng.int(400));
        at += 5 + rng.int(60);
      }
    }
  }

  background(host: string): void {
    const rng = this.rng;
    for (const t of this.ticks(300_000)) {
      this.add({
        src: host, dst: pick(rng, N.ntpServers), sport: 123, dport: 123, proto: 'udp', startMs: t, durationMs: 15 + rng.int(30),
        packetsToDst: 1, packetsToSrc: 1, bytesToDst: 90, bytesToSrc: 90,
      });
    }
    for (const t of this.ticks(120_000)) {
      const ssdp = rng.next() < 0.5;
      this.add({
        src: host, dst: ssdp ? '239.255.255.250' : '224.0.0.251', sport: ssdp ? ephemeralPort(rng) : 5353,
        dport: ssdp ? 1900 : 5353, proto: 'udp', startMs: t, durationMs: 0, packetsToDst: 1, packetsToSrc: 0,
        bytesToDst: 180 + rng.int(150), bytesToSrc: 0,
      });
    }
  }

  /** A long flow reported in active-timeout pieces of about 60 s. */
  longTransfer(src: string, dst: string, dport: number, upBytes: number, downBytes: number, t0: number, pieces: number): void {
    const rng = this.rng;
    const sport = ephemeralPort(rng);
    for (let p = 0; p < pieces; p++) {
      const up = Math.round(upBytes / pieces);
      const down = Math.round(downBytes / pieces);
      const start = t0 + p * 60_000;
      if (start >= this.endMs) break;
      this.add({
        src, dst, sport, dport, proto: 'tcp', startMs: start, durationMs: 59_000 + rng.int(1000),
        packetsToDst: packetsFor(up, up > down ? 1400 : 80), packetsToSrc: packetsFor(down, down > up ? 1400 : 80),
        bytesToDst: up, bytesToSrc: down, tcp: p === 0 ? 'complete' : 'midstream',
        endReason: p === pieces - 1 ? 'fin' : 'active',
      });
    }
  }

  generate(): FlowRecord[] {
    const rng = this.rng;
    const { startMs, workstations } = this.opts;
    const hosts: string[] = [];
    for (let i = 0; i < workstations; i++) hosts.push(workstationAddress(i));
    for (const ws of hosts) {
      this.browse(ws);
      this.background(ws);
    }
    for (const server of serverAddresses()) this.background(server);
    // Admins keep SSH sessions open to the servers: many small packets, little data.
    for (const admin of hosts.slice(0, 2)) {
      for (const server of N.sshServers) this.longTransfer(admin, server, 22, 400_000, 2_500_000, startMs + rng.int(60_000), 10);
    }
    // Bulk downloads from a mirror.
    for (const ws of hosts.slice(2, 5)) {
      this.longTransfer(ws, N.mirror, 443, 2_000_000, Math.round(100_000_000 + rng.next() * 600_000_000), startMs + rng.int(200_000), 4);
    }
    // Nightly-style backup to internal storage: a big upload that is allowed (internal destination).
    this.longTransfer(N.backupServer, N.storageServer, 873, 300_000_000, 3_000_000, startMs + 30_000, 5);
    this.monitoring([...hosts, ...serverAddresses()]);
    this.publicWebServer();
    this.reverseLookups();
    this.deadPrinter(hosts[hosts.length - 1]);
    return this.flows;
  }

  /** Every host scraped on 9100 every 15 s; three hosts run no exporter and reset. */
  monitoring(targets: string[]): void {
    const rng = this.rng;
    for (const t of this.ticks(15_000, 0.05)) {
      targets.forEach((host, i) => {
        if (host === N.monitoringServer) return;
        const closed = i % 17 === 5;
        this.add({
          src: N.monitoringServer, dst: host, sport: ephemeralPort(rng), dport: 9100, proto: 'tcp', startMs: t + i * 3,
          durationMs: closed ? 1 : 20 + rng.int(40), packetsToDst: closed ? 1 : 6, packetsToSrc: closed ? 1 : 8,
          bytesToDst: closed ? 66 : 700, bytesToSrc: closed ? 54 : 30_000 + rng.int(20_000), tcp: closed ? 'syn-rst' : 'complete',
        });
      });
    }
  }

  /** A busy public web server: thousands of completed connections from many clients. */
  publicWebServer(): void {
    const rng = this.rng;
    for (const t of this.ticks(300, 0.9)) {
      const client = randomPublicAddress(rng);
      const down = Math.round(lognormal(rng, 40_000, 1.2)) + 2000;
      this.add({
        src: client, dst: N.webServer, sport: ephemeralPort(rng), dport: 443, proto: 'tcp', startMs: t,
        durationMs: Math.round(lognormal(rng, 800, 1)), packetsToDst: 8 + rng.int(10), packetsToSrc: packetsFor(down, 1300),
        bytesToDst: 1500 + rng.int(3000), bytesToSrc: down, tcp: 'complete', l7: { tlsSni: 'www.corp.example' },
      });
    }
  }

  /** The resolver looking up PTR records for its logs: many distinct names under in-addr.arpa. */
  reverseLookups(): void {
    const rng = this.rng;
    for (const t of this.ticks(1_500)) {
      const a = randomPublicAddress(rng).split('.').reverse().join('.');
      this.dns(N.resolver, pick(rng, N.upstreamResolvers), `${a}.in-addr.arpa`, t);
    }
  }

  /** A workstation retrying a printer that is switched off: a few unanswered SYNs every minute. */
  deadPrinter(ws: string): void {
    const rng = this.rng;
    for (const t of this.ticks(60_000)) {
      this.add({
        src: ws, dst: N.deadPrinter, sport: ephemeralPort(rng), dport: 9100, proto: 'tcp', startMs: t, durationMs: 7000,
        packetsToDst: 3, packetsToSrc: 0, bytesToDst: 198, bytesToSrc: 0, tcp: 'syn-unanswered',
      });
    }
  }
}

export function ordinaryFlows(rng: SeededRandom, opts: OrdinaryOptions): FlowRecord[] {
  return new OrdinaryGenerator(rng, opts).generate();
}
