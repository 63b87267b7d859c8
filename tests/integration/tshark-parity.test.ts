/**
 * The agent's flow table against Wireshark's: for every capture of tcpdump's test corpus
 * whose link type the agent decodes (Ethernet, Linux SLL/SLL2, raw IP, BSD loopback), the
 * agent's TCP and UDP flows are summed per unordered 5-tuple and compared with
 * `tshark -z conv,tcp -z conv,udp`: the same conversations, the same frames in each, and
 * the same frames sent by each endpoint. Flow timeouts are off, since tshark's table has
 * none; summing absorbs the agent's split of a 5-tuple on port reuse and per VLAN.
 *
 * The differences that are understood and legitimate are listed in EXCEPTIONS, per file
 * and per conversation, with the reason. Anything else fails, including an exception that
 * no longer happens.
 */
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { expect, it } from 'vitest';
import { FlowPipeline, readCaptureFile, type PipelineOptions } from '../../packages/agent/src/index.js';
import {
  addConversation,
  captureEncapsulations,
  createLimiter,
  diffConversations,
  endpointText,
  parseConversationTables,
  requireTshark,
  tsharkConversations,
  type ConversationTable,
} from '../helpers/tshark.js';
import { CORPUS_DIR } from '../helpers/corpus.js';


/** Wireshark's names (capinfos -E) of the link types the agent decodes. */
const AGENT_ENCAPSULATIONS = new Set(['ether', 'linux-sll', 'linux-sll2', 'null', 'loop', 'rawip', 'rawip4', 'rawip6']);

/**
 * Far beyond any capture's time span: nothing idles out, nothing is cut by age. The
 * corpus has at most a few dozen flows per file; a small table keeps each pipeline cheap
 * to build (the default of 2^20 flows costs ~45 ms of allocation per file), and an
 * eviction would only split a flow, which the per-5-tuple sum absorbs.
 */
const NO_TIMEOUTS: PipelineOptions['flowTable'] = {
  maxFlows: 1 << 14,
  activeTimeoutMs: 0,
  idleTimeoutMs: 1e15,
  tcpNewIdleTimeoutMs: 1e15,
  tcpEstablishedIdleTimeoutMs: 1e15,
  tcpClosingIdleTimeoutMs: 1e15,
  tcpClosedIdleTimeoutMs: 1e15,
};

interface ParityException {
  file: string;
  /** What differs, exactly as diffConversations() words it. */
  differs: string[];
  why: string;
}

const TUNNEL = 'tshark dissects the tunnel payload and counts its inner conversation; the agent reports the outer flow only';
const BIG_TCP =
  'IP length 0 (Linux BIG TCP/GSO super-packet): the agent takes the captured length, tshark 4.0 calls the transport header malformed and adds no conversation';
const TCP_EXCEPTION =
  'tshark throws while dissecting the malformed TCP header (options or truncation) before its conversation tap runs; the agent counts the segment';
const ROUTING_HEADER =
  'IPv6 routing header: tshark keys the conversation on the final destination (the last segment), the agent on the destination in the IPv6 header';

const EXCEPTIONS: ParityException[] = [
  // Tunnels and encapsulations the agent does not open (it keeps the outer flow, where it has one).
  { file: 'erspan-type-ii-2.pcap', why: `GRE/ERSPAN: ${TUNNEL}`, differs: [
    'udp 10.200.100.2:1985 224.0.0.102:1985: only tshark (4 frames)',
    'udp 10.200.100.3:1985 224.0.0.102:1985: only tshark (4 frames)',
    'udp 10.200.101.2:1985 224.0.0.2:1985: only tshark (4 frames)',
    'udp 10.200.101.3:1985 224.0.0.2:1985: only tshark (4 frames)',
  ] },
  { file: 'LINKTYPE_IPV4_invalid.pcap', why: 'IPv6 under LINKTYPE_IPV4: the agent rejects it as tcpdump does; tshark 4.0 dissects it anyway', differs: ['udp [2001:db8::1]:12345 [2620:fe::9]:53: only tshark (1 frames)'] },
  { file: 'geneve-gcp.pcap', why: `Geneve: ${TUNNEL}`, differs: ['tcp 192.168.100.1:8080 192.168.100.2:2905: only tshark (1 frames)'] },
  { file: 'geneve.pcap', why: `Geneve: ${TUNNEL}`, differs: ['tcp 30.0.0.1:22 30.0.0.2:51225: only tshark (33 frames)'] },
  { file: 'gso-ipv4-geneve-ipv4.pcap', why: `Geneve: ${TUNNEL}`, differs: ['tcp 192.168.1.1:37633 192.168.1.2:40769: only tshark (1 frames)'] },
  { file: 'gso-ipv4-geneve-ipv6.pcap', why: `Geneve: ${TUNNEL}`, differs: ['tcp [fd00::1]:37399 [fd00::2]:34235: only tshark (1 frames)'] },
  { file: 'gso-ipv4-vxlan-ipv4.pcap', why: `VXLAN: ${TUNNEL}`, differs: ['tcp 192.168.1.1:41547 192.168.1.2:37099: only tshark (1 frames)'] },
  { file: 'gso-ipv4-vxlan-ipv6.pcap', why: `VXLAN: ${TUNNEL}`, differs: ['tcp [fd00::1]:40145 [fd00::2]:44479: only tshark (1 frames)'] },
  { file: 'gso-ipv6-geneve-ipv4.pcap', why: `Geneve: ${TUNNEL}`, differs: ['tcp 192.168.1.1:41507 192.168.1.2:36991: only tshark (1 frames)'] },
  { file: 'gso-ipv6-geneve-ipv6.pcap', why: `Geneve: ${TUNNEL}`, differs: ['tcp [fd00::1]:45505 [fd00::2]:38687: only tshark (1 frames)'] },
  { file: 'gso-ipv6-vxlan-ipv4.pcap', why: `VXLAN: ${TUNNEL}`, differs: ['tcp 192.168.1.1:42261 192.168.1.2:34737: only tshark (1 frames)'] },
  { file: 'gso-ipv6-vxlan-ipv6.pcap', why: `VXLAN: ${TUNNEL}`, differs: ['tcp [fd00::1]:44175 [fd00::2]:43583: only tshark (1 frames)'] },
  { file: 'nsh-over-vxlan-gpe.pcap', why: `VXLAN-GPE + NSH: ${TUNNEL}`, differs: ['udp 192.168.0.1:10000 192.168.0.2:20000: only tshark (1 frames)'] },
  { file: 'nsh.pcap', why: 'NSH (ethertype 0x894f) is not decoded by the agent (non-ip); tshark dissects the IP packet inside', differs: [
    'udp 10.0.8.3:52229 10.13.13.13:8000: only tshark (1 frames)',
  ] },
  { file: 'wccp_redirect_gre.pcap', why: `GRE (WCCP redirect): ${TUNNEL}`, differs: ['tcp 10.254.108.228:445 10.254.127.195:1291: only tshark (1 frames)'] },
  { file: 'of13_ericsson.pcapng', why: 'OpenFlow packet-in/packet-out messages carry whole frames; tshark dissects and counts them, the agent sees the OpenFlow TCP flow', differs: [
    'udp 192.168.1.1:1234 192.168.1.2:5678: only tshark (3 frames)',
  ] },
  { file: 'pim-packet-assortment.pcap', why: `PIM Register: ${TUNNEL}`, differs: [
    'udp 10.0.0.12:2468 225.0.0.11:2468: only tshark (1 frames)',
    'udp 10.0.0.13:2468 225.0.0.12:2468: only tshark (1 frames)',
    'udp 10.0.0.14:2468 225.0.0.13:2468: only tshark (1 frames)',
    'udp 10.0.0.15:2468 225.0.0.14:2468: only tshark (1 frames)',
    'udp 10.0.0.16:2468 225.0.0.15:2468: only tshark (1 frames)',
    'udp 10.0.0.17:2468 225.0.0.16:2468: only tshark (1 frames)',
    'udp 10.0.0.18:2468 225.0.0.17:2468: only tshark (1 frames)',
    'udp 10.0.0.19:2468 225.0.0.18:2468: only tshark (1 frames)',
    'udp 10.0.0.20:2468 225.0.0.19:2468: only tshark (1 frames)',
    'udp 10.0.0.2:2468 225.0.0.2:2468: only tshark (1 frames)',
    'udp 10.0.0.3:2468 225.0.0.3:2468: only tshark (1 frames)',
    'udp 10.0.0.4:2468 225.0.0.4:2468: only tshark (1 frames)',
    'udp 10.0.0.5:2468 225.0.0.5:2468: only tshark (1 frames)',
    'udp 10.0.0.9:2468 225.0.0.9:2468: only tshark (5 frames)',
    'udp [1::3]:2468 [ff02::2]:2468: only tshark (1 frames)',
    'udp [1::4]:2468 [ff02::3]:2468: only tshark (1 frames)',
    'udp [1::5]:2468 [ff02::4]:2468: only tshark (1 frames)',
    'udp [1::6]:2468 [ff02::5]:2468: only tshark (1 frames)',
    'udp [1::a]:2468 [ff02::9]:2468: only tshark (5 frames)',
  ] },
  // MACsec without encryption: tshark reads through the SecTAG, the agent does not decode 802.1AE.
  ...['macsec-short-longer.pcap', 'macsec-short-valid.pcap'].map((file) => ({
    file,
    why: 'MACsec (ethertype 0x88e5, integrity only) is not decoded by the agent (non-ip); tshark dissects the IP packet inside',
    differs: ['udp 192.168.114.1:37459 192.168.114.2:6666: only tshark (1 frames)'],
  })),
  { file: 'macsec-short-shorter.pcap', why: 'MACsec (ethertype 0x88e5, integrity only) is not decoded by the agent (non-ip); tshark dissects the IP packet inside', differs: [
    'udp 192.168.114.1:38582 192.168.114.2:6666: only tshark (1 frames)',
  ] },
  // BIG TCP / GSO super-packets with IP length 0.
  { file: 'bigtcp-ipv4-geneve-ipv4.pcap', why: BIG_TCP, differs: ['udp 10.25.132.11:29804 10.25.132.13:6081: only agent (1 frames)'] },
  { file: 'bigtcp-ipv4-geneve-ipv6.pcap', why: BIG_TCP, differs: ['udp 10.25.132.11:60614 10.25.132.13:6081: only agent (1 frames)'] },
  { file: 'bigtcp-ipv4-vxlan-ipv4.pcap', why: BIG_TCP, differs: ['udp 10.25.132.11:47044 10.25.132.13:4789: only agent (1 frames)'] },
  { file: 'bigtcp-ipv4-vxlan-ipv6.pcap', why: BIG_TCP, differs: ['udp 10.25.132.11:60879 10.25.132.13:4789: only agent (1 frames)'] },
  { file: 'bigtcp-ipv6-geneve-ipv4.pcap', why: BIG_TCP, differs: ['udp [2604:1380:4091:ce00::b]:55411 [2604:1380:4091:ce00::d]:6081: only agent (1 frames)'] },
  { file: 'bigtcp-ipv6-geneve-ipv6.pcap', why: BIG_TCP, differs: ['udp [2604:1380:4091:ce00::b]:6081 [2604:1380:4091:ce00::d]:23733: only agent (1 frames)'] },
  { file: 'bigtcp-ipv6-vxlan-ipv4.pcap', why: BIG_TCP, differs: ['udp [2604:1380:4091:ce00::b]:4789 [2604:1380:4091:ce00::d]:52238: only agent (1 frames)'] },
  { file: 'bigtcp-ipv6-vxlan-ipv6.pcap', why: BIG_TCP, differs: ['udp [2604:1380:4091:ce00::b]:4789 [2604:1380:4091:ce00::d]:37059: only agent (1 frames)'] },
  { file: 'bigtcp-ipv6.pcap', why: BIG_TCP, differs: ['tcp [2604:1380:4091:ce00::b]:43267 [2604:1380:4091:ce00::d]:41219: only agent (1 frames)'] },
  // Malformed TCP headers (fuzzer output) that abort tshark's TCP dissector before its tap.
  { file: 'beep-oobr.pcap', why: TCP_EXCEPTION, differs: [
    'tcp [3030:3030:3030:3030:3030:3030:3030:3030]:10288 [3030:3030:3030:3030:3030:3030:3030:3030]:12336: only agent (1 frames)',
  ] },
  { file: 'heapoverflow-tcp_print.pcap', why: TCP_EXCEPTION, differs: ['tcp 48.48.48.48:12336 48.48.48.48:12336: only agent (1 frames)'] },
  { file: 'tcp-auth-heapoverflow.pcap', why: TCP_EXCEPTION, differs: ['tcp 48.48.48.48:12336 48.48.48.48:12336: only agent (1 frames)'] },
  { file: 'mptcp-dss-oobr.pcap', why: TCP_EXCEPTION, differs: ['tcp 127.0.0.1:23 127.0.0.1:57370: only agent (1 frames)'] },
  // IPv6 source routing.
  { file: 'ipv6-routing-header.pcap', why: ROUTING_HEADER, differs: [
    'udp [2200::210:2:0:0:4]:5642 [2200::244:212:3fff:feae:22f7]:5645: only tshark (1 frames)',
    'udp [2200::211:2:0:0:2]:5642 [2200::244:212:3fff:feae:22f7]:5645: only agent (1 frames)',
  ] },
  { file: 'ipv6-srh-insert-cksum.pcap', why: ROUTING_HEADER, differs: [
    'udp [12::1]:57745 [2::f1:0]:5001: only agent (1 frames)',
    'udp [12::1]:57745 [b2::2]:5001: only tshark (1 frames)',
  ] },
];

const exceptionByFile = new Map(EXCEPTIONS.map((e) => [e.file, e]));

// Which files to compare is decided when the suite is collected, so a missing tool or
// corpus is remembered here and reported by a failing test rather than by no tests.
let setupProblem: Error | undefined;
let tsharkVersion = '';
let eligible: string[] = [];
try {
  tsharkVersion = requireTshark();
  if (!existsSync(CORPUS_DIR)) throw new Error(`tcpdump corpus not found at ${CORPUS_DIR} (set NTA_TCPDUMP_CORPUS)`);
  const files = readdirSync(CORPUS_DIR).filter((f) => /\.pcap(ng)?$/.test(f)).sort().map((f) => join(CORPUS_DIR, f));
  const encapsulations = captureEncapsulations(files);
  eligible = files.filter((f) => AGENT_ENCAPSULATIONS.has(encapsulations.get(f) ?? ''));
} catch (err) {
  setupProblem = err as Error;
}

/** The agent's TCP and UDP flows for one capture, summed per unordered 5-tuple. */
async function agentConversations(file: string): Promise<ConversationTable> {
  const table: ConversationTable = new Map();
  const pipeline = new FlowPipeline(
    { agentId: 'tshark-parity', l7Hints: false, flowTable: NO_TIMEOUTS },
    {
      onFlow(flow) {
        if (flow.proto !== 'tcp' && flow.proto !== 'udp') return;
        const src = endpointText(flow.src, flow.sport);
        const dst = endpointText(flow.dst, flow.dport);
        addConversation(table, flow.proto, src, dst, flow.packetsToDst, flow.packetsToSrc);
      },
    },
  );
  await readCaptureFile(file, pipeline);
  pipeline.finish();
  return table;
}

// tshark costs ~0.2 s of CPU per file, mostly start-up: the file tests run concurrently
// (vitest's maxConcurrency) and this limit keeps tshark to one process per core.
const limitTshark = createLimiter(Math.max(2, availableParallelism()));

it('tshark parity - tshark, capinfos and the corpus are available', () => {
  if (setupProblem !== undefined) throw setupProblem;
  expect(tsharkVersion).toMatch(/TShark/);
  // Ethernet alone is most of the corpus: far fewer means the corpus or capinfos is broken.
  expect(eligible.length).toBeGreaterThan(400);
});

it('tshark parity - parses conversation rows with IPv6 endpoints, byte units and reused ports', () => {
  const text = [
    '================================================================================',
    'UDP Conversations',
    'Filter:<No Filter>',
    '                                                           |       <-      | |       ->      | |     Total     |    Relative    |   Duration   |',
    '                                                           | Frames  Bytes | | Frames  Bytes | | Frames  Bytes |      Start     |              |',
    '2200::244:212:3fff:feae:22f7:5645 <-> 2200::210:2:0:0:4:5642           0 0 bytes         1 86 bytes        1 86 bytes      1.808819000         0.0000',
    '================================================================================',
    '================================================================================',
    'TCP Conversations',
    'Filter:<No Filter>',
    '131.151.32.21:1799         <-> 131.151.1.59:7021              112 139 kB         78 33 kB         190 172 kB       97.700006000        31.7295',
    '131.151.1.59:7021          <-> 131.151.32.21:1799               1 60 bytes         2 120 bytes       3 180 bytes  -5813773.000000000   5813773.0000',
    '================================================================================',
  ].join('\n');
  const table = parseConversationTables(text);
  expect([...table.keys()]).toEqual(['udp [2200::210:2:0:0:4]:5642 [2200::244:212:3fff:feae:22f7]:5645', 'tcp 131.151.1.59:7021 131.151.32.21:1799']);
  const udp = table.get('udp [2200::210:2:0:0:4]:5642 [2200::244:212:3fff:feae:22f7]:5645');
  expect(udp?.frames).toBe(1);
  expect(udp?.framesFrom.get('[2200::244:212:3fff:feae:22f7]:5645')).toBe(1);
  const tcp = table.get('tcp 131.151.1.59:7021 131.151.32.21:1799');
  expect(tcp?.frames).toBe(193);
  expect(Object.fromEntries(tcp?.framesFrom ?? [])).toEqual({ '131.151.1.59:7021': 112 + 2, '131.151.32.21:1799': 78 + 1 });
  expect(() => parseConversationTables('TCP Conversations\n')).toThrow(/TCP and UDP/);
});

it('tshark parity - every exception names a compared file', () => {
  if (setupProblem !== undefined) throw setupProblem;
  const names = new Set(eligible.map((f) => basename(f)));
  expect(EXCEPTIONS.map((e) => e.file).filter((f) => !names.has(f))).toEqual([]);
  expect(exceptionByFile.size).toBe(EXCEPTIONS.length);
});

it.concurrent.for(eligible.map((f) => [basename(f), f] as const))('tshark parity - %s', async ([name, file], { expect }) => {
  const [agent, tshark] = await Promise.all([agentConversations(file), limitTshark(() => tsharkConversations(file))]);
  const expected = exceptionByFile.get(name)?.differs ?? [];
  expect(diffConversations(agent, tshark), `${name}: agent vs ${tsharkVersion} (see EXCEPTIONS)`).toEqual([...expected].sort());
});
