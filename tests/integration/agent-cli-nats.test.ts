import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { FlowBatch, HostStatsBatch, Streams, type HostSecond } from '@nta/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type NatsServerHandle } from '../helpers/nats-server.js';
import { ethernetFrame, EtherTypeNum, ipv4Packet, pcapFile, tcpSegment, TcpFlag, udpDatagram, type PcapPacket } from '../helpers/pcap-writer.js';

const CLI = join(__dirname, '../../packages/agent/dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'nta-cli-nats-'));

/** 2,000 short UDP exchanges and 500 TCP connections spread over 60 s of capture time. */
function makeCapture(): string {
  const packets: PcapPacket[] = [];
  const t0 = 1_760_000_000;
  for (let i = 0; i < 2500; i++) {
    const at = (i * 60) / 2500;
    const sec = t0 + Math.floor(at);
    const usec = Math.round((at % 1) * 1e6);
    const client = `10.1.${(i >> 8) & 255}.${i & 255}`;
    if (i % 5 === 0) {
      const syn = tcpSegment(40000 + (i % 20000), 443, TcpFlag.SYN);
      const rst = tcpSegment(443, 40000 + (i % 20000), TcpFlag.RST | TcpFlag.ACK);
      packets.push({ tsSec: sec, tsFrac: usec, data: ethernetFrame(EtherTypeNum.IPV4, ipv4Packet(6, syn, { src: client, dst: '192.0.2.10' })) });
      packets.push({ tsSec: sec, tsFrac: usec + 100, data: ethernetFrame(EtherTypeNum.IPV4, ipv4Packet(6, rst, { src: '192.0.2.10', dst: client })) });
    } else {
      const q = udpDatagram(50000 + (i % 10000), 53, Buffer.alloc(30, 1));
      const a = udpDatagram(53, 50000 + (i % 10000), Buffer.alloc(60, 2));
      packets.push({ tsSec: sec, tsFrac: usec, data: ethernetFrame(EtherTypeNum.IPV4, ipv4Packet(17, q, { src: client, dst: '192.0.2.53' })) });
      packets.push({ tsSec: sec, tsFrac: usec + 500, data: ethernetFrame(EtherTypeNum.IPV4, ipv4Packet(17, a, { src: '192.0.2.53', dst: client })) });
    }
  }
  const path = join(dir, 'mixed.pcap');
  writeFileSync(path, pcapFile({ linkType: 1 }, packets));
  return path;
}

/** The flows the agent computes for the file on its own, without NATS: the independent expectation. */
function expectedFlowIds(file: string, agentId: string): string[] {
  const r = spawnSync(process.execPath, [CLI, 'read', file, '--format', 'ndjson', '--agent-id', agentId, '--idle-timeout', '1'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  expect(r.status).toBe(0);
  return r.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { flowId: string }).flowId);
}

/** Every per-second host record the agent published, from the telemetry stream. */
async function collectHostSeconds(url: string, agentId: string): Promise<HostSecond[]> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const name = `hs_${Math.random().toString(36).slice(2)}`;
    await jsm.consumers.add(Streams.telemetry.name, { name, filter_subject: `nta.v1.hoststats.${agentId}`, ack_policy: 'none' as never });
    const consumer = await jetstream(nc).consumers.get(Streams.telemetry.name, name);
    let remaining = (await consumer.info()).num_pending;
    const seconds: HostSecond[] = [];
    while (remaining > 0) {
      const batch = await consumer.fetch({ max_messages: Math.min(remaining, 500), expires: 2000 });
      for await (const m of batch) {
        seconds.push(...HostStatsBatch.parse(m.json()).seconds);
        remaining--;
      }
    }
    return seconds;
  } finally {
    await nc.close();
  }
}

async function collectFlows(url: string, agentId: string): Promise<Map<string, number>> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const name = `check_${Math.random().toString(36).slice(2)}`;
    await jsm.consumers.add(Streams.flows.name, { name, filter_subject: `nta.v1.flows.${agentId}`, ack_policy: 'none' as never });
    const consumer = await jetstream(nc).consumers.get(Streams.flows.name, name);
    const counts = new Map<string, number>();
    const info = await consumer.info();
    let remaining = info.num_pending;
    while (remaining > 0) {
      const batch = await consumer.fetch({ max_messages: Math.min(remaining, 500), expires: 2000 });
      for await (const m of batch) {
        const parsed = FlowBatch.parse(m.json());
        for (const f of parsed.flows) counts.set(f.flowId, (counts.get(f.flowId) ?? 0) + 1);
        remaining--;
      }
    }
    return counts;
  } finally {
    await nc.close();
  }
}

function runAgent(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('agent CLI with a real nats-server', () => {
  let nats: NatsServerHandle;
  let file: string;
  beforeAll(async () => {
    nats = await startNatsServer();
    file = makeCapture();
  });
  afterAll(async () => {
    await nats.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('agent cli - read --nats publishes every flow of the file intact', async () => {
    const expected = expectedFlowIds(file, 'cli-a');
    const run = await runAgent(['read', file, '--nats', nats.url, '--agent-id', 'cli-a', '--idle-timeout', '1', '--spool-dir', join(dir, 'spool-a')]);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stderr.trim().split('\n').at(-1) ?? '{}') as { flows: number; published: number };
    expect(summary.flows).toBe(expected.length);
    expect(summary.published).toBe(expected.length);
    const arrived = await collectFlows(nats.url, 'cli-a');
    expect([...arrived.keys()].sort()).toEqual([...expected].sort());
    expect([...arrived.values()].every((n) => n === 1)).toBe(true);
    // Host counters travel too: one record per second of capture, every packet counted once.
    const seconds = await collectHostSeconds(nats.url, 'cli-a');
    expect(seconds.reduce((sum, s) => sum + s.packets, 0)).toBe(5000);
    expect(new Set(seconds.map((s) => s.tsMs)).size).toBe(seconds.length);
    expect(seconds.length).toBe(60);
  });

  it('agent cli - a nats-server restart while the agent runs loses and duplicates nothing', async () => {
    const expected = expectedFlowIds(file, 'cli-b');
    // Paced at 12x: the 60 s capture takes about 5 s, so the outage falls mid-run.
    const running = runAgent(['read', file, '--nats', nats.url, '--agent-id', 'cli-b', '--idle-timeout', '1', '--speed', '12', '--spool-dir', join(dir, 'spool-b')]);
    let finishedAt = Infinity;
    void running.then(() => (finishedAt = Date.now()));
    await new Promise((r) => setTimeout(r, 1500));
    await nats.stop();
    const stoppedAt = Date.now();
    await new Promise((r) => setTimeout(r, 2000));
    await nats.restart();
    const run = await running;
    expect(run.code).toBe(0);
    // The outage really fell inside the run, and the agent noticed it.
    expect(finishedAt).toBeGreaterThan(stoppedAt + 2000);
    expect(run.stderr).toMatch(/disconnect|spool|reconnect/i);
    const arrived = await collectFlows(nats.url, 'cli-b');
    expect(arrived.size).toBe(expected.length);
    expect([...arrived.keys()].sort()).toEqual([...expected].sort());
    const duplicated = [...arrived.entries()].filter(([, n]) => n > 1);
    expect(duplicated).toEqual([]);
  });
});
