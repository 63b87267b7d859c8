/**
 * End to end, against a real nats-server and a real PostgreSQL 15 and TimescaleDB: a
 * capture replayed by `nta-agent read FILE --nats URL` into a running collector. The API's
 * protocol counts, top talkers and flow search must equal what the test knows from the
 * capture it wrote, and what tshark computes from the same file.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTrafficPcap, type TrafficTruth } from '../helpers/traffic-pcap.js';
import { FLAVORS, agentRead, startInProcessCollector, startServers, waitFor, type InProcessCollector, type Servers } from '../helpers/collector-stack.js';
import { requireTshark } from '../helpers/tshark.js';

interface Talker {
  src?: string;
  dst?: string;
  addr?: string;
  flows: number;
  packets: number;
  bytes: number;
}

/** `tshark -z conv,ip -z conv,ipv6`: per unordered address pair, frames and bytes. */
function tsharkPairs(file: string): Map<string, { packets: number; bytes: number }> {
  const out = execFileSync('tshark', ['-r', file, '-q', '-n', '-z', 'conv,ip', '-z', 'conv,ipv6'], { encoding: 'utf8' });
  const pairs = new Map<string, { packets: number; bytes: number }>();
  for (const line of out.split('\n')) {
    const m = /^(\S+)\s+<->\s+(\S+)\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    // Columns: frames bytes (one way), frames bytes (other way), total frames, total bytes, ...
    const nums = m[3]!.replace(/(\d) (bytes|kB|MB)/g, '$1$2').split(/\s+/);
    const frames = Number(nums[4]);
    const bytes = parseBytes(nums[5]!);
    pairs.set([m[1], m[2]].sort().join(' '), { packets: frames, bytes });
  }
  return pairs;
}

function parseBytes(text: string): number {
  const m = /^([\d.,]+)(bytes|kB|MB)?$/.exec(text)!;
  const n = Number(m[1]!.replace(/,/g, ''));
  return m[2] === 'kB' ? n * 1000 : m[2] === 'MB' ? n * 1_000_000 : n;
}

describe.each(FLAVORS)('collector pipeline on %s', (flavor) => {
  let servers: Servers;
  let c: InProcessCollector;
  let dir: string;
  let file: string;
  let truth: TrafficTruth;
  const endMs = Date.now() - 60_000;
  let range: string;

  beforeAll(async () => {
    requireTshark();
    servers = await startServers(flavor);
    c = await startInProcessCollector(servers);
    dir = mkdtempSync(join(tmpdir(), 'nta-e2e-'));
    file = join(dir, 'traffic.pcap');
    const built = buildTrafficPcap(endMs);
    truth = built.truth;
    writeFileSync(file, built.pcap);
    const r = await agentRead(file, servers.nats.url, ['--agent-id', 'e2e-agent']);
    expect(r.code, r.stderr).toBe(0);
    const totalFlows = [...truth.protocols.values()].reduce((s, p) => s + p.flows, 0);
    await waitFor('all flows stored', async () => {
      const rows = await c.query<{ n: string }>('SELECT count(*) AS n FROM flows');
      return Number(rows[0]!.n) >= totalFlows || undefined;
    });
    range = `from=${new Date(truth.firstMs - 3_600_000).toISOString()}&to=${new Date(endMs + 3_600_000).toISOString()}`;
  });

  afterAll(async () => {
    await c?.close();
    await servers?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const checkProtocols = async (): Promise<void> => {
    const res = await c.get<{ protocols: { proto: string; flows: number; packets: number; bytes: number }[] }>(`/api/v1/stats/protocols?${range}`);
    expect(res.status).toBe(200);
    const got = Object.fromEntries(res.body.protocols.map((p) => [p.proto, { flows: p.flows, packets: p.packets, bytes: p.bytes }]));
    expect(got).toEqual(Object.fromEntries(truth.protocols));
  };

  it('counts every flow, packet and byte per protocol, before and after the rollups catch up', async () => {
    await checkProtocols();
    await c.collector.refreshRollups();
    const rolled = await c.query<{ n: string }>('SELECT count(*) AS n FROM rollup_pair_1h');
    expect(Number(rolled[0]!.n)).toBeGreaterThan(0);
    const pending = await c.query<{ n: string }>('SELECT count(*) AS n FROM rollup_dirty');
    expect(Number(pending[0]!.n)).toBe(0);
    await checkProtocols();
  });

  it('reports top talkers by address pair exactly as tshark counts the conversations', async () => {
    const res = await c.get<{ talkers: Talker[] }>(`/api/v1/stats/top-talkers?by=pair&metric=bytes&limit=1000&${range}`);
    expect(res.status).toBe(200);
    const ours = new Map<string, { packets: number; bytes: number }>();
    for (const t of res.body.talkers) {
      const key = [t.src!, t.dst!].sort().join(' ');
      const cur = ours.get(key) ?? { packets: 0, bytes: 0 };
      ours.set(key, { packets: cur.packets + t.packets, bytes: cur.bytes + t.bytes });
    }
    // tshark 4.0 rounds bytes to kB: its frame counts are compared exactly, bytes to the capture's own totals.
    const theirs = tsharkPairs(file);
    expect(theirs.size).toBeGreaterThan(5);
    const packetsOf = (m: Map<string, { packets: number }>) => Object.fromEntries([...m].map(([k, v]) => [k, v.packets]));
    expect(packetsOf(ours)).toEqual(packetsOf(theirs));
    expect(Object.fromEntries(ours)).toEqual(Object.fromEntries(truth.pairs));
    // Ranked by bytes, largest first.
    const bytes = res.body.talkers.map((t) => t.bytes);
    expect([...bytes].sort((a, b) => b - a)).toEqual(bytes);
  });

  it.each([
    ['src', 'packets'],
    ['dst', 'bytes'],
    ['dst', 'flows'],
  ])('ranks single addresses by %s and %s, fleet-wide and for one host, with rollups clean or dirty', async (by, metric) => {
    const expected = async (): Promise<[string, number][]> =>
      (
        await c.query<{ addr: string; v: string }>(
          `SELECT host(${by}) AS addr, ${metric === 'flows' ? 'count(*)' : `sum(${metric})`} AS v FROM flows GROUP BY ${by} ORDER BY 2 DESC, ${by} LIMIT 5`,
        )
      ).map((r) => [r.addr, Number(r.v)]);
    const ours = async (host = ''): Promise<[string, number][]> => {
      const res = await c.get<{ talkers: Talker[] }>(`/api/v1/stats/top-talkers?by=${by}&metric=${metric}&limit=5&${range}${host}`);
      expect(res.status).toBe(200);
      return res.body.talkers.map((t) => [t.addr!, t[metric as 'bytes' | 'packets' | 'flows']]);
    };
    await c.collector.refreshRollups();
    expect(await ours()).toEqual(await expected());
    expect(await ours('&host=e2e-agent')).toEqual(await expected());
    // A dirty hour (as while flows keep arriving) is read from raw flows, with the same answer.
    await c.query(`INSERT INTO rollup_dirty (bucket, agent_id) SELECT DISTINCT date_trunc('hour', first_seen), agent_id FROM flows ON CONFLICT DO NOTHING`);
    expect(await ours()).toEqual(await expected());
    await c.collector.refreshRollups();
    const talkers = await c.query<{ n: string }>('SELECT count(*) AS n FROM rollup_talker_1h');
    expect(Number(talkers[0]!.n)).toBeGreaterThan(0);
    expect(await ours()).toEqual(await expected());
  });

  it('finds flows with the filter language', async () => {
    const dns = await c.get<{ flows: { dport: number; proto: string; dnsQuery: string | null }[] }>(
      `/api/v1/flows?${range}&limit=10000&q=${encodeURIComponent('proto:udp and dport:53')}`,
    );
    expect(dns.status).toBe(200);
    expect(dns.body.flows).toHaveLength(truth.dnsFlows);
    expect(dns.body.flows.every((f) => f.dnsQuery?.endsWith('.example.org'))).toBe(true);

    const cloudflare = await c.get<{ flows: { src: string; dst: string; dstCountry: string | null; srcCountry: string | null }[] }>(
      `/api/v1/flows?${range}&limit=10000&q=${encodeURIComponent('ip:1.1.1.1')}`,
    );
    expect(cloudflare.body.flows.length).toBe(truth.flowsWith.get('1.1.1.1'));
    expect(cloudflare.body.flows.every((f) => f.srcCountry === 'private' || f.dstCountry === 'private')).toBe(true);

    const v6 = await c.get<{ flows: unknown[] }>(`/api/v1/flows?${range}&limit=10000&q=${encodeURIComponent('src:2001:db8:1::/48 and port:443')}`);
    expect(v6.body.flows.length).toBe(truth.flowsWith.get('2001:db8:1::20'));
  });

  it('pages through every flow with the cursor, without gaps or repeats', async () => {
    const seen = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: { flows: { flowId: string }[]; nextCursor: string | null } } = await c.get(
        `/api/v1/flows?${range}&limit=37${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.status).toBe(200);
      for (const f of res.body.flows) {
        expect(seen.has(f.flowId)).toBe(false);
        seen.add(f.flowId);
      }
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 100);
    const total = [...truth.protocols.values()].reduce((s, p) => s + p.flows, 0);
    expect(seen.size).toBe(total);
  });

  it('answers a bad parameter with a 400 that names it', async () => {
    const cases: [string, string][] = [
      ['/api/v1/flows?q=prot:tcp', 'q'],
      ['/api/v1/flows?from=yesterday-ish', 'from'],
      ['/api/v1/flows?limit=0', 'limit'],
      ['/api/v1/stats/top-talkers?by=port', 'by'],
      ['/api/v1/stats/timeline?step=abc', 'step'],
      ['/api/v1/flows?cursor=bm9wZQ', 'cursor'],
      [`/api/v1/flows?q=${encodeURIComponent("src:1.1.1.1'; DROP TABLE flows;--")}`, 'q'],
    ];
    for (const [path, field] of cases) {
      const res = await c.get<{ field: string; message: string }>(path);
      expect(res.status, path).toBe(400);
      expect(res.body.field, path).toBe(field);
      expect(res.body.message.length).toBeGreaterThan(5);
    }
    const still = await c.query<{ n: string }>('SELECT count(*) AS n FROM flows');
    expect(Number(still[0]!.n)).toBeGreaterThan(0);
  });

  it('lists the agent and serves timeline, geo, OpenAPI and metrics', async () => {
    const agents = await c.get<{ agents: { agentId: string; hostname: string }[] }>('/api/v1/agents');
    expect(agents.body.agents.map((a) => a.agentId)).toContain('e2e-agent');
    const tl = await c.get<{ points: { flows: number }[] }>(`/api/v1/stats/timeline?${range}&step=10m`);
    expect(tl.status).toBe(200);
    const total = [...truth.protocols.values()].reduce((s, p) => s + p.flows, 0);
    expect(tl.body.points.reduce((s, p) => s + p.flows, 0)).toBe(total);
    // Steps finer than a minute are counted from raw flows: the same totals.
    const fine = await c.get<{ stepMs: number; points: { flows: number; packets: number }[] }>(`/api/v1/stats/timeline?${range}&step=30s`);
    expect(fine.body.stepMs).toBe(30_000);
    expect(fine.body.points.reduce((s, p) => s + p.flows, 0)).toBe(total);
    const packets = [...truth.protocols.values()].reduce((s, p) => s + p.packets, 0);
    expect(fine.body.points.reduce((s, p) => s + p.packets, 0)).toBe(packets);
    // Flows per score level: every flow in exactly one level, and the same split the flows API filters by.
    const levels = await c.get<{ levels: { level: string; flows: number; packets: number }[] }>(`/api/v1/stats/levels?${range}`);
    expect(levels.status).toBe(200);
    expect(levels.body.levels.map((l) => l.level)).toEqual(['normal', 'suspicious', 'malicious']);
    expect(levels.body.levels.reduce((s, l) => s + l.flows, 0)).toBe(total);
    expect(levels.body.levels.reduce((s, l) => s + l.packets, 0)).toBe(packets);
    for (const l of levels.body.levels) {
      const listed = await c.get<{ flows: unknown[] }>(`/api/v1/flows?${range}&limit=10000&q=level:${l.level}`);
      expect(listed.body.flows.length, l.level).toBe(l.flows);
    }
    const geo = await c.get<{ countries: { country: string | null; flows: number; addresses: number }[] }>(`/api/v1/stats/geo?${range}`);
    const us = geo.body.countries.find((x) => x.country === 'US');
    expect(us?.flows).toBeGreaterThan(0);
    const priv = geo.body.countries.find((x) => x.country === 'private');
    expect(priv?.addresses).toBe(5);
    const spec = await c.get<{ openapi: string; paths: Record<string, unknown> }>('/api/v1/openapi.json');
    expect(spec.body.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.body.paths)).toEqual(expect.arrayContaining(['/api/v1/flows', '/api/v1/stats/top-talkers', '/api/v1/stats/levels', '/api/v1/alerts', '/api/v1/agents']));
    const docs = await fetch(`${c.baseUrl}/api/v1/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toMatch(/swagger/i);
    const metrics = await fetch(`${c.baseUrl}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/nta_ingest_flows_total\{agent="e2e-agent"\} \d+/);
    const health = await c.get<{ ok: boolean }>('/healthz');
    expect(health.body.ok).toBe(true);
  });
});
