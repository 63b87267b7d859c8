/**
 * A capture of ordinary mixed traffic (TCP sessions to public web servers, DNS over UDP,
 * ICMP echo, IPv6 TLS) spread over about two hours ending `endMs`, with the totals a test
 * needs to check a collector's answers independently of the agent.
 */
import {
  EtherTypeNum,
  TcpFlag,
  dnsMessage,
  ethernetFrame,
  ipv4Packet,
  ipv6Packet,
  pcapFile,
  tcpSegment,
  tlsClientHello,
  udpDatagram,
  type PcapPacket,
} from './pcap-writer.js';

export interface TrafficTruth {
  /** Per protocol name as the API reports it: flows, packets and frame bytes. */
  protocols: Map<string, { flows: number; packets: number; bytes: number }>;
  dnsFlows: number;
  flowsWith: Map<string, number>;
  /** Per unordered address pair ("a b", sorted): packets and frame bytes. */
  pairs: Map<string, { packets: number; bytes: number }>;
  firstMs: number;
  lastMs: number;
}

const WEB_SERVERS = ['93.184.216.34', '151.101.1.69', '140.82.112.3', '104.16.132.229'];
const CLIENTS = ['10.1.0.11', '10.1.0.12', '10.1.0.13', '192.168.7.20', '172.16.5.9'];

export function buildTrafficPcap(endMs: number, sessions = 240): { pcap: Buffer; truth: TrafficTruth } {
  const packets: { ms: number; frame: Buffer; proto: string }[] = [];
  const protocols = new Map<string, { flows: number; packets: number; bytes: number }>();
  const flowsWith = new Map<string, number>();
  const spanMs = 2 * 3_600_000;
  const startMs = endMs - spanMs - 60_000;
  let dnsFlows = 0;
  const pairs = new Map<string, { packets: number; bytes: number }>();
  const add = (proto: string, ms: number, frame: Buffer, src: string, dst: string): void => {
    packets.push({ ms, frame, proto });
    const key = [src, dst].sort().join(' ');
    const pair = pairs.get(key) ?? { packets: 0, bytes: 0 };
    pair.packets++;
    pair.bytes += frame.length;
    pairs.set(key, pair);
    const p = protocols.get(proto) ?? { flows: 0, packets: 0, bytes: 0 };
    p.packets++;
    p.bytes += frame.length;
    protocols.set(proto, p);
  };
  const newFlow = (proto: string, peers: string[]): void => {
    const p = protocols.get(proto) ?? { flows: 0, packets: 0, bytes: 0 };
    p.flows++;
    protocols.set(proto, p);
    for (const peer of new Set(peers)) flowsWith.set(peer, (flowsWith.get(peer) ?? 0) + 1);
  };
  const v4 = (proto: number, payload: Buffer, src: string, dst: string): Buffer => ethernetFrame(EtherTypeNum.IPV4, ipv4Packet(proto, payload, { src, dst }));

  for (let i = 0; i < sessions; i++) {
    const t = startMs + Math.floor((i / sessions) * spanMs);
    const client = CLIENTS[i % CLIENTS.length]!;
    const sport = 40_000 + i;
    switch (i % 4) {
      case 0:
      case 1: {
        const server = WEB_SERVERS[i % WEB_SERVERS.length]!;
        newFlow('tcp', [client, server]);
        add('tcp', t, v4(6, tcpSegment(sport, 443, TcpFlag.SYN), client, server), client, server);
        add('tcp', t + 20, v4(6, tcpSegment(443, sport, TcpFlag.SYN | TcpFlag.ACK), server, client), server, client);
        add('tcp', t + 21, v4(6, tcpSegment(sport, 443, TcpFlag.ACK, tlsClientHello(`site${i % 7}.example.com`)), client, server), client, server);
        const chunks = 2 + (i % 9);
        for (let c = 0; c < chunks; c++) add('tcp', t + 40 + c, v4(6, tcpSegment(443, sport, TcpFlag.ACK | TcpFlag.PSH, Buffer.alloc(400 + 100 * c)), server, client), server, client);
        add('tcp', t + 60, v4(6, tcpSegment(sport, 443, TcpFlag.FIN | TcpFlag.ACK), client, server), client, server);
        add('tcp', t + 61, v4(6, tcpSegment(443, sport, TcpFlag.FIN | TcpFlag.ACK), server, client), server, client);
        add('tcp', t + 62, v4(6, tcpSegment(sport, 443, TcpFlag.ACK), client, server), client, server);
        break;
      }
      case 2: {
        newFlow('udp', [client, '8.8.8.8']);
        dnsFlows++;
        const name = `host${i}.example.org`;
        add('udp', t, v4(17, udpDatagram(sport, 53, dnsMessage(name)), client, '8.8.8.8'), client, '8.8.8.8');
        add('udp', t + 15, v4(17, udpDatagram(53, sport, dnsMessage(name, 1, 0)), '8.8.8.8', client), '8.8.8.8', client);
        break;
      }
      default: {
        if (i % 8 === 3) {
          newFlow('icmp', [client, '1.1.1.1']);
          const echo = (type: number): Buffer => Buffer.from([type, 0, 0, 0, 0x12, 0x34, 0, i & 0xff, ...Buffer.alloc(32)]);
          add('icmp', t, v4(1, echo(8), client, '1.1.1.1'), client, '1.1.1.1');
          add('icmp', t + 10, v4(1, echo(0), '1.1.1.1', client), '1.1.1.1', client);
        } else {
          const src = '2001:db8:1::20';
          const dst = '2a00:1450:4001:82b::200e';
          newFlow('tcp', [src, dst]);
          const v6 = (payload: Buffer, s: string, d: string): Buffer => ethernetFrame(EtherTypeNum.IPV6, ipv6Packet(6, payload, { src: s, dst: d }));
          add('tcp', t, v6(tcpSegment(sport, 443, TcpFlag.SYN), src, dst), src, dst);
          add('tcp', t + 30, v6(tcpSegment(443, sport, TcpFlag.SYN | TcpFlag.ACK), dst, src), dst, src);
          add('tcp', t + 31, v6(tcpSegment(sport, 443, TcpFlag.ACK | TcpFlag.PSH, Buffer.alloc(700)), src, dst), src, dst);
          add('tcp', t + 50, v6(tcpSegment(sport, 443, TcpFlag.RST), src, dst), src, dst);
        }
      }
    }
  }
  packets.sort((a, b) => a.ms - b.ms);
  const records: PcapPacket[] = packets.map((p) => ({ data: p.frame, tsSec: Math.floor(p.ms / 1000), tsFrac: (p.ms % 1000) * 1000 }));
  return {
    pcap: pcapFile({ linkType: 1 }, records),
    truth: { protocols, dnsFlows, flowsWith, pairs, firstMs: packets[0]!.ms, lastMs: packets.at(-1)!.ms },
  };
}
