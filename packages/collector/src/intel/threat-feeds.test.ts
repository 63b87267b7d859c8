import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFile, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ThreatFeeds } from './threat-feeds.js';
import type { IntelLogger } from './types.js';
import { unusedLoopbackUrl } from './fixtures/fake-reputation-apis.js';

const fixturePath = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

interface LogLine {
  level: 'info' | 'warn' | 'error';
  obj: object;
  msg: string | undefined;
}

function recordingLogger(): IntelLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
  };
}

/** A feed server whose answer each test sets; it honours If-None-Match like a CDN would. */
interface FeedServer {
  url: string;
  requests: { path: string; ifNoneMatch: string | undefined }[];
  respond: (req: IncomingMessage, res: ServerResponse) => void;
  close: () => Promise<void>;
}

async function startFeedServer(): Promise<FeedServer> {
  const state: FeedServer = { url: '', requests: [], respond: () => {}, close: async () => {} };
  const server: Server = createServer((req, res) => {
    state.requests.push({ path: req.url ?? '', ifNoneMatch: req.headers['if-none-match'] });
    state.respond(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

function serveWithEtag(body: () => string, etag: () => string): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.headers['if-none-match'] === etag()) {
      res.writeHead(304, { etag: etag() }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', etag: etag() }).end(body());
  };
}

describe('threat-feeds', () => {
  let dir: string;
  let server: FeedServer;
  const feedsToStop: ThreatFeeds[] = [];
  const track = (feeds: ThreatFeeds): ThreatFeeds => {
    feedsToStop.push(feeds);
    return feeds;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nta-feeds-'));
    server = await startFeedServer();
  });

  afterEach(async () => {
    for (const feeds of feedsToStop.splice(0)) feeds.stop();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('threat-feeds - loads real-format files and reports every feed listing an address', async () => {
    const feeds = track(
      new ThreatFeeds({
        feeds: [
          { name: 'firehol_level1', source: fixturePath('firehol_level1.netset'), refreshMs: 3_600_000 },
          { name: 'spamhaus_drop', source: `file://${fixturePath('drop_v4.json')}`, refreshMs: 3_600_000 },
          { name: 'spamhaus_dropv6', source: fixturePath('drop_v6.json'), refreshMs: 3_600_000 },
        ],
      }),
    );
    await feeds.start();
    expect([...feeds.match('1.10.20.30')].sort()).toEqual(['firehol_level1', 'spamhaus_drop']);
    expect(feeds.match('185.220.101.4')).toEqual(['firehol_level1']);
    expect(feeds.match('2a06:e480:1::5')).toEqual(['spamhaus_dropv6']);
    expect(feeds.match('8.8.8.8')).toEqual([]);
    const stats = feeds.stats();
    expect(stats.map((s) => [s.name, s.entries, s.invalidLines, s.lastError])).toEqual([
      ['firehol_level1', 11, 1, undefined],
      ['spamhaus_drop', 5, 0, undefined],
      ['spamhaus_dropv6', 3, 0, undefined],
    ]);
    expect(stats.every((s) => typeof s.loadedAtMs === 'number')).toBe(true);
  });

  it('threat-feeds - bogon entries do not tag private addresses unless asked to', async () => {
    const config = [{ name: 'firehol_level1', source: fixturePath('firehol_level1.netset'), refreshMs: 3_600_000 }];
    const feeds = track(new ThreatFeeds({ feeds: config }));
    await feeds.start();
    expect(feeds.match('10.1.2.3')).toEqual([]);
    expect(feeds.match('192.168.1.1')).toEqual([]);
    const all = track(new ThreatFeeds({ feeds: config, matchNonPublic: true }));
    await all.start();
    expect(all.match('10.1.2.3')).toEqual(['firehol_level1']);
  });

  it('threat-feeds - a periodic reload picks up a changed file', async () => {
    const path = join(dir, 'watch.txt');
    await writeFile(path, '203.0.113.9\n');
    const feeds = track(new ThreatFeeds({ feeds: [{ name: 'watch', source: path, refreshMs: 30 }], matchNonPublic: true }));
    await feeds.start();
    expect(feeds.match('203.0.113.9')).toEqual(['watch']);
    await writeFile(path, '# replaced\n198.51.100.0/24\n');
    await vi.waitFor(() => expect(feeds.match('198.51.100.77')).toEqual(['watch']), { timeout: 10_000, interval: 20 });
    expect(feeds.match('203.0.113.9')).toEqual([]);
  });

  it('threat-feeds - a failing reload keeps the last good set and logs a warning', async () => {
    const path = join(dir, 'drop.txt');
    await copyFile(fixturePath('spamhaus_drop.txt'), path);
    const log = recordingLogger();
    const feeds = track(new ThreatFeeds({ feeds: [{ name: 'spamhaus_drop', source: path, refreshMs: 3_600_000 }], log }));
    await feeds.start();
    const loadedAtMs = feeds.stats()[0].loadedAtMs;
    await unlink(path);
    await feeds.refresh();
    expect(feeds.match('1.19.1.1')).toEqual(['spamhaus_drop']);
    const [stats] = feeds.stats();
    expect(stats.lastError).toMatch(/ENOENT/);
    expect(stats.entries).toBe(5);
    expect(stats.loadedAtMs).toBe(loadedAtMs);
    expect(log.lines.some((l) => l.level === 'warn' && l.msg?.includes('keeping the last good version'))).toBe(true);
  });

  it('threat-feeds - over HTTP: loads, answers 304 without re-parsing, then loads a new version', async () => {
    let body = '1.10.16.0/20 ; SBL256894\n';
    let etag = '"v1"';
    server.respond = serveWithEtag(() => body, () => etag);
    let clock = 1_000;
    const feeds = track(new ThreatFeeds({ feeds: [{ name: 'drop', source: `${server.url}/drop.txt`, refreshMs: 3_600_000 }], now: () => clock }));
    await feeds.start();
    expect(feeds.match('1.10.16.1')).toEqual(['drop']);
    const firstSet = feeds.ranges;

    clock = 2_000;
    await feeds.refresh();
    expect(server.requests.map((r) => r.ifNoneMatch)).toEqual([undefined, '"v1"']);
    expect(feeds.ranges).toBe(firstSet);
    expect(feeds.stats()[0]).toMatchObject({ loadedAtMs: 1_000, checkedAtMs: 2_000, entries: 1 });

    body = '5.134.128.0/19 ; SBL270738\n';
    etag = '"v2"';
    clock = 3_000;
    await feeds.refresh();
    expect(feeds.match('5.134.130.1')).toEqual(['drop']);
    expect(feeds.match('1.10.16.1')).toEqual([]);
    expect(feeds.stats()[0]).toMatchObject({ loadedAtMs: 3_000, checkedAtMs: 3_000 });
  });

  it('threat-feeds - over HTTP: 500, an HTML error page, an oversized body and a stalled server keep the last good set', async () => {
    let mode = 'good';
    server.respond = (_req, res) => {
      if (mode === 'good') res.writeHead(200).end('2.56.192.0/22\n');
      else if (mode === '500') res.writeHead(500).end('oops');
      else if (mode === 'html') res.writeHead(200, { 'content-type': 'text/html' }).end('<html>\n<body>Service unavailable</body>\n</html>\n');
      else if (mode === 'huge') res.writeHead(200).end('9.9.9.9\n'.repeat(200_000));
      // 'stall': never answer
    };
    const log = recordingLogger();
    const feeds = track(
      new ThreatFeeds({ feeds: [{ name: 'f', source: `${server.url}/list?key=secret`, refreshMs: 3_600_000 }], log, maxBytes: 100_000, fetchTimeoutMs: 300 }),
    );
    await feeds.start();
    const expectations: [string, RegExp][] = [
      ['500', /HTTP 500/],
      ['html', /no valid entries/],
      ['huge', /larger than 100000 bytes/],
      ['stall', /no complete response within 300 ms/],
    ];
    for (const [nextMode, error] of expectations) {
      mode = nextMode;
      await feeds.refresh();
      expect(feeds.stats()[0].lastError, nextMode).toMatch(error);
      expect(feeds.match('2.56.193.1'), nextMode).toEqual(['f']);
    }
    // Feed URLs carry API keys; logs and stats must not.
    expect(JSON.stringify(log.lines)).not.toContain('secret');
    expect(feeds.stats()[0].source).not.toContain('secret');
    mode = 'good';
    await feeds.refresh();
    expect(feeds.stats()[0].lastError).toBeUndefined();
  });

  it('threat-feeds - a feed that never loads is reported and the others still work; a pino logger fits', async () => {
    const feeds = track(
      new ThreatFeeds({
        feeds: [
          { name: 'missing', source: join(dir, 'nope.txt'), refreshMs: 3_600_000 },
          { name: 'refused', source: `${await unusedLoopbackUrl()}/list.txt`, refreshMs: 3_600_000 },
          { name: 'ok', source: fixturePath('blocklist_de.ipset'), refreshMs: 3_600_000 },
        ],
        log: pino({ enabled: false }),
      }),
    );
    await feeds.start();
    const stats = feeds.stats();
    expect(stats.map((s) => s.loadedAtMs === null)).toEqual([true, true, false]);
    expect(stats[1].lastError).toMatch(/ECONNREFUSED/);
    expect(feeds.match('45.148.10.121')).toEqual(['ok']);
  });

  it('threat-feeds - stop() aborts a download in progress and cancels the schedule', async () => {
    server.respond = () => {};
    const feeds = track(new ThreatFeeds({ feeds: [{ name: 'slow', source: `${server.url}/x`, refreshMs: 10 }], fetchTimeoutMs: 60_000 }));
    const started = feeds.start();
    await vi.waitFor(() => expect(server.requests).toHaveLength(1));
    feeds.stop();
    await started;
    expect(feeds.stats()[0].loadedAtMs).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.requests).toHaveLength(1);
  });
});
