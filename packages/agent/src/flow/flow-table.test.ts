import type { FlowRecord, HostSecond } from '@nta/shared';
import { FlowRecord as FlowRecordSchema, HostSecond as HostSecondSchema } from '@nta/shared';
import { describe, expect, it } from 'vitest';
import { LinkType } from '../capture/packet-sink.js';
import { FlowPipeline } from '../pipeline.js';
import type { FlowTableOptions } from './flow-table.js';
import { bytes, ipv4Packet, ipv6Packet, tcp, udp, icmp } from '../../test-support/packets.js';

const T0 = Date.UTC(2026, 0, 1);

function harness(options: Partial<FlowTableOptions> = {}) {
  const flows: FlowRecord[] = [];
  const seconds: HostSecond[] = [];
  const pipeline = new FlowPipeline(
    { agentId: 'test-agent', flowTable: options },
    { onFlow: (f) => flows.push(FlowRecordSchema.parse(f)), onHostSecond: (s) => seconds.push(HostSecondSchema.parse(s)) },
  );
  const send = (tsMs: number, frame: number[]): void => {
    const b = bytes(frame);
    pipeline.packet(LinkType.RAW, T0 + tsMs, b, 0, b.length, b.length);
  };
  return { pipeline, flows, seconds, send };
}

describe('flow-table', () => {
  it('flow-table - merges both directions into one flow oriented from the initiator', () => {
    const { pipeline, flows, send } = harness();
    send(0, ipv4Packet('10.0.0.9', '10.0.0.1', tcp(50000, 80, 'S')));
    send(1, ipv4Packet('10.0.0.1', '10.0.0.9', tcp(80, 50000, 'SA')));
    send(2, ipv4Packet('10.0.0.9', '10.0.0.1', tcp(50000, 80, 'A', [1, 2, 3, 4])));
    pipeline.finish();
    expect(flows).toHaveLength(1);
    const f = flows[0];
    expect([f.src, f.sport, f.dst, f.dport, f.proto]).toEqual(['10.0.0.9', 50000, '10.0.0.1', 80, 'tcp']);
    expect([f.packetsToDst, f.packetsToSrc, f.packets]).toEqual([2, 1, 3]);
    expect([f.bytesToDst, f.bytesToSrc]).toEqual([40 + 44, 40]);
    expect(f.tcpFlagsToDst).toBe(0x12); // SYN | ACK
    expect(f.tcpFlagsToSrc).toBe(0x12);
    expect(f.features.synCount).toBe(1);
    expect(f.features.synAckCount).toBe(1);
    expect(f.features.durationMs).toBe(2);
    expect(f.features.payloadBytes).toBe(4);
    expect(f.endReason).toBe('end');
  });

  it('flow-table - a SYN-ACK seen first makes its receiver the initiator', () => {
    const { pipeline, flows, send } = harness();
    send(0, ipv4Packet('10.0.0.1', '10.0.0.9', tcp(443, 50000, 'SA')));
    pipeline.finish();
    expect([flows[0].src, flows[0].dst, flows[0].dport]).toEqual(['10.0.0.9', '10.0.0.1', 443]);
  });

  it('flow-table - a DNS answer seen first is oriented from the client', () => {
    const { pipeline, flows, send } = harness();
    send(0, ipv4Packet('8.8.8.8', '192.168.0.5', udp(53, 41000)));
    pipeline.finish();
    expect([flows[0].src, flows[0].sport, flows[0].dst, flows[0].dport]).toEqual(['192.168.0.5', 41000, '8.8.8.8', 53]);
  });

  it('flow-table - expires idle UDP flows after the idle timeout, judged by packet time', () => {
    const { pipeline, flows, send } = harness({ idleTimeoutMs: 15_000 });
    send(0, ipv4Packet('10.0.0.1', '10.0.0.2', udp(40000, 2000)));
    send(14_000, ipv4Packet('10.0.0.3', '10.0.0.4', udp(40000, 2000)));
    expect(flows).toHaveLength(0);
    send(15_500, ipv4Packet('10.0.0.3', '10.0.0.4', udp(40000, 2000)));
    expect(flows.map((f) => f.src)).toEqual(['10.0.0.1']);
    expect(flows[0].endReason).toBe('idle');
    pipeline.finish();
    expect(flows).toHaveLength(2);
  });

  it('flow-table - closes TCP on FIN both ways, keeps trailing ACKs, starts anew on port reuse', () => {
    const { pipeline, flows, send } = harness();
    const c = (flags: string) => ipv4Packet('10.0.0.9', '10.0.0.1', tcp(50000, 80, flags));
    const s = (flags: string) => ipv4Packet('10.0.0.1', '10.0.0.9', tcp(80, 50000, flags));
    send(0, c('S'));
    send(1, s('SA'));
    send(2, c('A'));
    send(3, c('FA'));
    send(4, s('FA'));
    send(5, c('A'));
    send(500, c('S')); // same ports reused
    expect(flows).toHaveLength(1);
    expect(flows[0].packets).toBe(6);
    expect(flows[0].endReason).toBe('fin');
    expect(flows[0].features.finCount).toBe(2);
    pipeline.finish();
    expect(flows).toHaveLength(2);
    expect(flows[1].packets).toBe(1);
  });

  it('flow-table - a RST closes the flow and it leaves after the closed linger', () => {
    const { pipeline, flows, send } = harness({ tcpClosedIdleTimeoutMs: 2000 });
    send(0, ipv4Packet('10.0.0.9', '10.0.0.1', tcp(50000, 22, 'S')));
    send(1, ipv4Packet('10.0.0.1', '10.0.0.9', tcp(22, 50000, 'RA')));
    send(1000, ipv4Packet('10.0.0.7', '10.0.0.8', udp(1, 2)));
    expect(flows).toHaveLength(0);
    send(3000, ipv4Packet('10.0.0.7', '10.0.0.8', udp(1, 2)));
    expect(flows).toHaveLength(1);
    expect(flows[0].endReason).toBe('rst');
    expect(flows[0].features.rstCount).toBe(1);
    pipeline.finish();
  });

  it('flow-table - the active timeout reports a long flow in pieces', () => {
    const { pipeline, flows, send } = harness({ activeTimeoutMs: 60_000, idleTimeoutMs: 15_000 });
    for (let t = 0; t <= 130_000; t += 10_000) send(t, ipv4Packet('10.0.0.1', '10.0.0.2', udp(4000, 4001)));
    pipeline.finish();
    expect(flows.map((f) => f.packets)).toEqual([6, 6, 2]);
    expect(flows.map((f) => f.endReason)).toEqual(['active', 'active', 'end']);
    expect(new Set(flows.map((f) => f.flowId)).size).toBe(3);
  });

  it('flow-table - evicts the least recently seen flow when full, and counts it', () => {
    const { pipeline, flows, send } = harness({ maxFlows: 16 });
    for (let i = 0; i < 20; i++) send(i, ipv4Packet('10.0.0.1', `10.0.1.${i}`, udp(1000, 53)));
    expect(flows).toHaveLength(4);
    expect(flows.every((f) => f.endReason === 'evicted')).toBe(true);
    expect(flows.map((f) => f.dst)).toEqual(['10.0.1.0', '10.0.1.1', '10.0.1.2', '10.0.1.3']);
    expect(pipeline.stats().evictedFlows).toBe(4);
    expect(pipeline.stats().activeFlows).toBe(16);
    pipeline.finish();
  });

  it('flow-table - IPv6 flows keep full addresses and match both directions', () => {
    const { pipeline, flows, send } = harness();
    send(0, ipv6Packet('2001:db8::10', '2001:db8:0:1::53', udp(33000, 53)));
    send(1, ipv6Packet('2001:db8:0:1::53', '2001:db8::10', udp(53, 33000)));
    send(2, ipv6Packet('2001:db8::11', '2001:db8:0:1::53', udp(33000, 53)));
    pipeline.finish();
    expect(flows).toHaveLength(2);
    const first = flows.find((f) => f.src === '2001:db8::10');
    expect(first?.dst).toBe('2001:db8:0:1::53');
    expect(first?.family).toBe(6);
    expect(first?.packets).toBe(2);
  });

  it('flow-table - ICMP echo request and reply form one flow', () => {
    const { pipeline, flows, send } = harness();
    send(0, ipv4Packet('10.0.0.1', '10.0.0.2', icmp(8, 0)));
    send(1, ipv4Packet('10.0.0.2', '10.0.0.1', icmp(0, 0)));
    pipeline.finish();
    expect(flows).toHaveLength(1);
    expect([flows[0].proto, flows[0].sport, flows[0].dport, flows[0].packets]).toEqual(['icmp', 8, 0, 2]);
  });

  it('flow-table - flow ids are deterministic across runs and differ per agent', () => {
    const run = (agentId: string) => {
      const flows: FlowRecord[] = [];
      const p = new FlowPipeline({ agentId }, { onFlow: (f) => flows.push(f) });
      const b = bytes(ipv4Packet('10.0.0.1', '10.0.0.2', udp(1, 2)));
      p.packet(LinkType.RAW, T0 + 0.123, b, 0, b.length, b.length);
      p.finish();
      return flows[0].flowId;
    };
    expect(run('a')).toBe(run('a'));
    expect(run('a')).not.toBe(run('b'));
    expect(run('a').slice(0, 13)).toBe(T0.toString(16).padStart(12, '0').replace(/^(.{8})(.{4})$/, '$1-$2'));
  });

  it('flow-table - per-second host counters count protocols and rank talkers by bytes', () => {
    const { pipeline, seconds, send } = harness();
    send(0, ipv4Packet('10.0.0.1', '10.0.0.2', udp(1, 2, new Array(100).fill(0))));
    send(100, ipv4Packet('10.0.0.1', '10.0.0.3', tcp(1, 2, 'S')));
    send(200, ipv4Packet('10.0.0.4', '10.0.0.5', icmp(8, 0)));
    send(1500, ipv4Packet('10.0.0.9', '10.0.0.2', udp(1, 2)));
    pipeline.finish();
    expect(seconds).toHaveLength(2);
    const [s0, s1] = seconds;
    expect(s0.tsMs).toBe(T0);
    expect([s0.packets, s0.protocols.udp.packets, s0.protocols.tcp.packets, s0.protocols.icmp.packets]).toEqual([3, 1, 1, 1]);
    expect(s0.bytes).toBe(128 + 40 + 28);
    expect(s0.topTalkers[0]).toEqual({ addr: '10.0.0.1', packets: 2, bytes: 168 });
    expect(s0.topTalkers.map((t) => t.addr)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5']);
    expect(s1.topTalkers.map((t) => t.addr).sort()).toEqual(['10.0.0.2', '10.0.0.9']);
  });
});
