/// <reference lib="dom" />
/**
 * The console in a real Chromium against a real collector, NATS and PostgreSQL, fed by
 * replaying a fixture capture through `nta-agent read`: every view renders without errors at
 * desktop and phone widths, the numbers on screen are the API's for the same range, the
 * filter drives the flow table, the map's tooltip works, and live updates arrive.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { agentRead, startInProcessCollector, startServers, waitFor, type InProcessCollector, type Servers } from '../helpers/collector-stack.js';
import { buildTrafficPcap, type TrafficTruth } from '../helpers/traffic-pcap.js';
import { collectPageErrors, launchChromium, screenshotContent } from '../helpers/browser.js';
import { publishBatches } from '../helpers/flow-batches.js';
import { hostStatsSubject } from '@nta/shared';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/console/', import.meta.url));
const VIEWPORTS = [
  { width: 1440, height: 900 },
  { width: 390, height: 844 },
];
const AGENT = 'e2e-console';
// One of the fixture's web servers, put on a threat list: its flows, country and alerts turn red.
const LISTED = '151.101.1.69';

interface Counts {
  flows: number;
  packets: number;
  bytes: number;
}

describe('console in Chromium', () => {
  let servers: Servers;
  let c: InProcessCollector;
  let browser: Browser;
  let dir: string;
  let truth: TrafficTruth;
  let rangeHash: string;
  let rangeApi: string;
  const endMs = Date.now() - 120_000;

  beforeAll(async () => {
    browser = await launchChromium();
    servers = await startServers('postgres');
    dir = mkdtempSync(join(tmpdir(), 'nta-console-'));
    const feed = join(dir, 'feed.txt');
    writeFileSync(feed, `# e2e threat list\n${LISTED}\n`);
    c = await startInProcessCollector(servers, { THREAT_FEEDS: `e2e-list=${feed}` });
    const built = buildTrafficPcap(endMs);
    truth = built.truth;
    const file = join(dir, 'traffic.pcap');
    writeFileSync(file, built.pcap);
    const r = await agentRead(file, servers.nats.url, ['--agent-id', AGENT]);
    expect(r.code, r.stderr).toBe(0);
    const total = [...truth.protocols.values()].reduce((s, p) => s + p.flows, 0);
    await waitFor('the capture stored', async () => {
      const rows = await c.query<{ n: string }>('SELECT count(*) AS n FROM flows');
      return Number(rows[0]!.n) >= total || undefined;
    });
    await c.collector.refreshRollups();
    const from = new Date(truth.firstMs - 600_000).toISOString();
    const to = new Date(endMs + 600_000).toISOString();
    rangeHash = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
    rangeApi = `from=${from}&to=${to}`;
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await c?.close();
    await servers?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(path: string, viewport = VIEWPORTS[0]!): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport });
    const errors = collectPageErrors(page);
    await page.goto(`${c.baseUrl}/#/${path}`);
    return { page, errors };
  }

  /** Waits until no skeleton is left: every panel has its data, an empty state or an error. */
  async function settled(page: Page, testId: string): Promise<void> {
    await page.getByTestId(testId).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[role="status"][aria-label="loading"]').length === 0, undefined, { timeout: 30_000 });
  }

  /** A screen point where the country's own shape is the topmost element (not a neighbour, not a marker). */
  async function pointInside(page: Page, alpha2: string): Promise<[number, number]> {
    const p = await page.evaluate((code) => {
      const path = document.querySelector<SVGPathElement>(`path[data-country="${code}"]`)!;
      const box = path.getBBox();
      const ctm = path.getScreenCTM()!;
      for (let gy = 1; gy < 12; gy++) {
        for (let gx = 1; gx < 12; gx++) {
          const x = box.x + (box.width * gx) / 12;
          const y = box.y + (box.height * gy) / 12;
          if (!path.isPointInFill(new DOMPoint(x, y))) continue;
          const screen = new DOMPoint(x, y).matrixTransform(ctm);
          if (document.elementFromPoint(screen.x, screen.y) === path) return [screen.x, screen.y] as [number, number];
        }
      }
      return null;
    }, alpha2);
    if (!p) throw new Error(`no visible point inside ${alpha2} on the map`);
    return p;
  }

  it('renders every view without console errors at 1440x900 and 390x844; screenshots are not blank', async () => {
    const views: [string, string][] = [
      ['overview', 'view-overview'],
      ['map', 'view-map'],
      ['threats', 'view-threats'],
      ['explorer', 'view-explorer'],
      ['agents', 'view-agents'],
      [`agents/${AGENT}`, 'view-host'],
    ];
    for (const viewport of VIEWPORTS) {
      for (const [path, testId] of views) {
        const { page, errors } = await open(`${path}?${rangeHash}`, viewport);
        await settled(page, testId);
        await page.waitForTimeout(300); // the view's entrance transition
        expect(await page.getByTestId('error-state').count(), `${path}: an error state is shown`).toBe(0);
        const png = await page.screenshot({ path: join(ARTIFACTS, `${path.replace('/', '-')}-${viewport.width}x${viewport.height}.png`) });
        const content = await screenshotContent(page, png);
        expect(content.nonBackgroundShare, `${path} at ${viewport.width}px looks blank`).toBeGreaterThan(0.03);
        expect(content.colours, `${path} at ${viewport.width}px has almost no colours`).toBeGreaterThan(50);
        // Nothing wider than the screen except what scrolls inside its own box.
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, `${path} at ${viewport.width}px scrolls sideways`).toBeLessThanOrEqual(1);
        expect(errors, `${path} at ${viewport.width}px`).toEqual([]);
        await page.close();
      }
    }
  });

  it('overview: protocol totals and top addresses on screen equal the API for the same range', async () => {
    const { page, errors } = await open(`overview?${rangeHash}`);
    await settled(page, 'view-overview');
    const api = (await c.get<{ protocols: ({ proto: string } & Counts)[] }>(`/api/v1/stats/protocols?${rangeApi}`)).body.protocols;
    const group = (p: string) => (p === 'tcp' || p === 'udp' ? p : p === 'icmp' || p === 'icmpv6' ? 'icmp' : 'other');
    const expected: Record<string, Counts> = { tcp: { flows: 0, packets: 0, bytes: 0 }, udp: { flows: 0, packets: 0, bytes: 0 }, icmp: { flows: 0, packets: 0, bytes: 0 }, other: { flows: 0, packets: 0, bytes: 0 } };
    for (const p of api) {
      const e = expected[group(p.proto)]!;
      e.flows += p.flows;
      e.packets += p.packets;
      e.bytes += p.bytes;
    }
    // The fixture's own totals, so the API is not only compared with itself.
    expect(expected.tcp!.packets).toBe(truth.protocols.get('tcp')!.packets);
    for (const proto of ['tcp', 'udp', 'icmp', 'other']) {
      const row = page.getByTestId(`protocol-row-${proto}`);
      expect(Number(await row.getAttribute('data-packets')), proto).toBe(expected[proto]!.packets);
      expect(Number(await row.getAttribute('data-bytes')), proto).toBe(expected[proto]!.bytes);
      expect(Number(await row.getAttribute('data-flows')), proto).toBe(expected[proto]!.flows);
      // The packet count as the user reads it.
      expect((await row.locator('td').nth(1).innerText()).replace(/,/g, '')).toBe(String(expected[proto]!.packets));
    }
    const totals = Object.values(expected).reduce((s, e) => ({ flows: s.flows + e.flows, packets: s.packets + e.packets, bytes: s.bytes + e.bytes }), { flows: 0, packets: 0, bytes: 0 });
    expect(await page.getByTestId('kpi-flows').locator('[data-value]').getAttribute('data-value')).toBe(String(totals.flows));
    expect(await page.getByTestId('kpi-packets').locator('[data-value]').getAttribute('data-value')).toBe(String(totals.packets));
    expect(await page.getByTestId('kpi-bytes').locator('[data-value]').getAttribute('data-value')).toBe(String(totals.bytes));

    for (const by of ['src', 'dst'] as const) {
      const talkers = (await c.get<{ talkers: ({ addr: string } & Counts)[] }>(`/api/v1/stats/top-talkers?by=${by}&metric=bytes&limit=10&${rangeApi}`)).body.talkers;
      expect(talkers.length).toBeGreaterThan(2);
      const shown = await page.getByTestId(`top-${by}`).getByTestId('talker').evaluateAll((els) => els.map((e) => ({ addr: e.getAttribute('data-addr'), bytes: Number(e.getAttribute('data-bytes')), packets: Number(e.getAttribute('data-packets')) })));
      expect(shown).toEqual(talkers.map((t) => ({ addr: t.addr, bytes: t.bytes, packets: t.packets })));
    }
    // The rate chart draws the API's timeline for the range, every bucket of it.
    const tl = (await c.get<{ stepMs: number; points: Counts[] }>(`/api/v1/stats/timeline?${rangeApi}`)).body;
    const chart = page.getByTestId('rate-chart');
    expect(Number(await chart.getAttribute('data-packets'))).toBe(tl.points.reduce((s, p) => s + p.packets, 0));
    expect(Number(await chart.getAttribute('data-bytes'))).toBe(tl.points.reduce((s, p) => s + p.bytes, 0));
    expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThanOrEqual(tl.points.length);
    // The listed server carries a red mark wherever it appears.
    const listedTalker = page.getByTestId('top-dst').locator(`[data-addr="${LISTED}"]`);
    if ((await listedTalker.count()) > 0) expect(await listedTalker.getByTestId('bad-mark').count()).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('map: countries equal the API, a threat country is red, hovering shows its tooltip', async () => {
    const { page, errors } = await open(`map?${rangeHash}`);
    await settled(page, 'view-map');
    const geo = (await c.get<{ countries: ({ country: string | null; addresses: number; threatFlows: number } & Counts)[] }>(`/api/v1/stats/geo?${rangeApi}`)).body.countries;
    const shown = await page.getByTestId('country-row').evaluateAll((els) => els.map((e) => ({ country: e.getAttribute('data-country'), packets: Number(e.getAttribute('data-packets')), bytes: Number(e.getAttribute('data-bytes')) })));
    const expected = geo.map((g) => ({ country: g.country ?? '', packets: g.packets, bytes: g.bytes }));
    expect(new Set(shown.map((s) => JSON.stringify(s)))).toEqual(new Set(expected.map((s) => JSON.stringify(s))));

    const us = geo.find((g) => g.country === 'US');
    expect(us, 'the fixture talks to US servers').toBeDefined();
    expect(us!.threatFlows).toBeGreaterThan(0);
    const usPath = page.locator('path[data-country="US"]');
    expect(await usPath.getAttribute('data-threat')).toBe('true');
    await page.mouse.move(...(await pointInside(page, 'US')));
    const tip = page.getByTestId('map-tooltip');
    await tip.waitFor();
    expect(await tip.innerText()).toContain('United States');
    expect((await tip.getByTestId('tooltip-packets').innerText()).replace(/,/g, '')).toBe(String(us!.packets));
    expect((await tip.getByTestId('tooltip-addresses').innerText()).replace(/,/g, '')).toBe(String(us!.addresses));
    // A country without traffic says so.
    await page.mouse.move(...(await pointInside(page, 'AU')));
    await page.waitForFunction(() => document.querySelector('[data-testid="map-tooltip"]')?.textContent?.includes('Australia'));
    expect(await page.getByTestId('map-tooltip').innerText()).toContain('no traffic in this range');
    // From the keyboard: a country with traffic takes focus, shows its tooltip, Enter opens its flows.
    await page.mouse.move(0, 0);
    await usPath.focus();
    await page.waitForFunction(() => document.querySelector('[data-testid="map-tooltip"]')?.textContent?.includes('United States'));
    expect(await usPath.getAttribute('aria-label')).toContain(`${us!.packets.toLocaleString('en-US')} packets`);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash.startsWith('#/explorer') && new URLSearchParams(location.hash.split('?')[1]).get('q') === 'country:US');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('threats: counts equal the API, the listed address is marked, acknowledging sticks', async () => {
    const { page, errors } = await open(`threats?${rangeHash}`);
    await settled(page, 'view-threats');
    const api = (await c.get<{ counts: Record<string, number>; alerts: { id: number; kind: string; subject: string; summary: string }[] }>(`/api/v1/alerts?${rangeApi}&acknowledged=false&limit=300`)).body;
    const all = (await c.get<{ counts: Record<string, number> }>(`/api/v1/alerts?${rangeApi}&limit=1`)).body;
    const levels = (await c.get<{ levels: { level: string; flows: number }[] }>(`/api/v1/stats/levels?${rangeApi}`)).body.levels;
    // The listed server's flows are malicious; every flow is in one level.
    expect(levels.find((l) => l.level === 'malicious')!.flows).toBeGreaterThan(0);
    expect(levels.reduce((s, l) => s + l.flows, 0)).toBe([...truth.protocols.values()].reduce((s, p) => s + p.flows, 0));
    for (const level of ['normal', 'suspicious', 'malicious']) {
      const tile = page.getByTestId(`level-${level}`);
      expect(Number(await tile.getAttribute('data-alerts')), level).toBe(all.counts[level] ?? 0);
      expect(Number(await tile.getAttribute('data-flows')), level).toBe(levels.find((l) => l.level === level)!.flows);
    }
    const intel = api.alerts.find((a) => a.kind === 'threat_intel' && a.subject === LISTED);
    expect(intel, 'a threat_intel alert for the listed address').toBeDefined();
    const card = page.locator(`[data-testid="alert"][data-alert-id="${intel!.id}"]`);
    expect(await card.getByTestId('alert-summary').innerText()).toBe(intel!.summary);
    expect(await card.getByTestId('bad-mark').count()).toBe(1);
    expect(await page.getByTestId('alert').count()).toBe(api.alerts.length);

    await card.getByTestId('ack').click();
    await card.waitFor({ state: 'detached' });
    await waitFor('the acknowledgement stored', async () => {
      const after = (await c.get<{ alerts: { id: number; acknowledgedAt: string | null }[] }>(`/api/v1/alerts?${rangeApi}&limit=300`)).body.alerts;
      return after.find((a) => a.id === intel!.id)?.acknowledgedAt ?? undefined;
    });
    // After a reload the alert stays out of the open list and shows as acknowledged under "all".
    await page.reload();
    await settled(page, 'view-threats');
    expect(await page.locator(`[data-testid="alert"][data-alert-id="${intel!.id}"]`).count()).toBe(0);
    await page.getByRole('radio', { name: 'all' }).click();
    await settled(page, 'view-threats');
    await page.locator(`[data-testid="alert"][data-alert-id="${intel!.id}"] [data-testid="acked"]`).waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('explorer: the query bar filters the table, errors show inline, clicks pivot the filter', async () => {
    const { page, errors } = await open(`explorer?${rangeHash}`);
    await settled(page, 'view-explorer');
    const countFor = async (q: string): Promise<number> => {
      const r = await c.get<{ flows: unknown[]; nextCursor: string | null }>(`/api/v1/flows?${rangeApi}&limit=10000&q=${encodeURIComponent(q)}`);
      expect(r.body.nextCursor).toBeNull();
      return r.body.flows.length;
    };
    const shownCount = async () => Number(await page.getByTestId('flow-count').getAttribute('data-count'));
    // All flows of the range, paged in as the table scrolls.
    const all = await countFor('');
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="flow-count"]')?.getAttribute('data-count')) >= Math.min(n, 1000), all);
    expect(await page.locator('[data-testid="flow-row"]').count()).toBeLessThan(80); // virtualised

    const input = page.getByRole('combobox', { name: 'Filter' });
    await input.fill('proto:udp and dport:53');
    await input.press('Escape');
    await input.press('Enter');
    await page.waitForFunction(() => new URLSearchParams(location.hash.split('?')[1]).get('q') === 'proto:udp and dport:53');
    const udp = await countFor('proto:udp and dport:53');
    expect(udp).toBeGreaterThan(0);
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="flow-count"]')?.getAttribute('data-count')) === n, udp);
    const protos = await page.locator('[data-testid="flow-row"] > :nth-child(3)').allInnerTexts();
    expect(protos.length).toBeGreaterThan(0);
    expect(new Set(protos)).toEqual(new Set(['UDP']));

    // A broken filter: the parser's message, in place, and the table keeps the last good result.
    await input.fill('proto:udp and dport:70000');
    const err = page.getByTestId('query-error');
    await err.waitFor();
    expect(await err.innerText()).toMatch(/at 21:/);
    expect(await shownCount()).toBe(udp);

    // Autocomplete of a field, then a value.
    await input.fill('');
    await input.pressSequentially('lev');
    await page.getByTestId('query-suggestions').waitFor();
    await input.press('Tab');
    expect(await input.inputValue()).toBe('level:');

    // Clicking an address adds it to the filter.
    await input.fill('');
    await input.press('Escape');
    await input.press('Enter');
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="flow-count"]')?.getAttribute('data-count')) >= Math.min(n, 1000), all);
    const firstDst = page.locator('[data-testid="flow-row"]').first().locator('> :nth-child(5) button').first();
    const addr = (await firstDst.innerText()).trim();
    await firstDst.click();
    await page.waitForFunction((a) => new URLSearchParams(location.hash.split('?')[1]).get('q') === `ip:${a}`, addr);
    const pivoted = await countFor(`ip:${addr}`);
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="flow-count"]')?.getAttribute('data-count')) === n, Math.min(pivoted, 50_000));
    const ends = await page.locator('[data-testid="flow-row"]').evaluateAll((rows) => rows.map((r) => r.textContent ?? ''));
    expect(ends.every((t) => t.includes(addr))).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('agents: the fleet list and the host page show what the API reports', async () => {
    const { page, errors } = await open('agents');
    await settled(page, 'view-agents');
    const agents = (await c.get<{ agents: { agentId: string; hostname: string; status: string }[] }>('/api/v1/agents')).body.agents;
    expect(agents.map((a) => a.agentId)).toContain(AGENT);
    // Status changes with time (the import agent stopped sending heartbeats when it finished and
    // turns stale); the live list, pushed on heartbeats and every few seconds, must follow the API.
    const compare = async () => {
      const api = (await c.get<{ agents: { agentId: string; status: string }[] }>('/api/v1/agents')).body.agents.map((a) => ({ agentId: a.agentId, status: a.status }));
      const shown = await page.getByTestId('agent-row').evaluateAll((els) => els.map((e) => ({ agentId: e.getAttribute('data-agent-id'), status: e.getAttribute('data-status') })));
      const key = (l: { agentId: string | null; status: string | null }[]) => JSON.stringify(l.sort((a, b) => a.agentId!.localeCompare(b.agentId!)));
      return key(api) === key(shown) ? key(api) : `differs: api ${key(api)} vs console ${key(shown)}`;
    };
    await expect.poll(compare, { timeout: 15_000 }).not.toMatch(/^differs/);
    // Once the agent is stale the console shows it stale.
    await waitFor('the import agent stale', async () => (await c.get<{ agents: { agentId: string; status: string }[] }>('/api/v1/agents')).body.agents.find((a) => a.agentId === AGENT)?.status === 'stale' || undefined, 40_000);
    await page.locator(`[data-testid="agent-row"][data-agent-id="${AGENT}"][data-status="stale"]`).waitFor({ timeout: 15_000 });
    await page.locator(`[data-agent-id="${AGENT}"] a`).first().click();
    await page.getByTestId('view-host').waitFor();
    expect(await page.getByTestId('host-title').innerText()).toBe(agents.find((a) => a.agentId === AGENT)!.hostname);
    // Back to the fleet, by the page's own link and by the navigation.
    await page.getByRole('link', { name: '← fleet' }).click();
    await page.getByTestId('view-agents').waitFor();
    await page.locator(`[data-agent-id="${AGENT}"] a`).first().click();
    await page.getByTestId('view-host').waitFor();
    await page.getByTestId('nav-agents').click();
    await page.getByTestId('view-agents').waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('live: flows published while the console is open stream into the explorer table', async () => {
    const { page, errors } = await open('explorer');
    await page.waitForSelector('[data-testid="connection"][data-status="open"]');
    const before = Number(await page.getByTestId('flow-count').getAttribute('data-count'));
    const nc = await connect({ servers: servers.nats.url });
    try {
      const js = jetstream(nc);
      await publishBatches(js, 'e2e-live', 0, 3, 40, Date.now() - 5_000);
    } finally {
      await nc.close();
    }
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="flow-count"]')?.getAttribute('data-count')) >= n + 120, before, { timeout: 30_000 });
    const hosts = await page.locator('[data-testid="flow-row"] > :nth-child(2)').allInnerTexts();
    expect(hosts).toContain('e2e-live.test');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('live: a host-statistics second published while the overview is open is drawn in its rate chart and protocol mix', async () => {
    const { page, errors } = await open('overview');
    await page.waitForSelector('[data-testid="connection"][data-status="open"]');
    const nc = await connect({ servers: servers.nats.url });
    const packets = 4321;
    try {
      const t = Math.floor(Date.now() / 1000) * 1000 - 1000;
      const pb = (n: number) => ({ packets: n, bytes: n * 100 });
      const batch = { v: 1, agentId: 'e2e-stats', hostname: 'e2e-stats.test', seconds: [{ tsMs: t, packets, bytes: packets * 100, protocols: { tcp: pb(4000), udp: pb(300), icmp: pb(21), other: pb(0) }, topTalkers: [] }] };
      nc.publish(hostStatsSubject('e2e-stats'), JSON.stringify(batch));
      await nc.flush();
    } finally {
      await nc.close();
    }
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="rate-chart"]')?.getAttribute('data-packets')) >= n, packets, { timeout: 30_000 });
    expect(Number(await page.getByTestId('protocol-row-icmp').getAttribute('data-packets'))).toBeGreaterThanOrEqual(21);
    expect(errors).toEqual([]);
    await page.close();
  });
});
