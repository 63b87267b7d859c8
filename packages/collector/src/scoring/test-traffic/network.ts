import type { FlowRecord } from '@nta/shared';
import type { SeededRandom } from '../seeded-random.js';

/**
 * The synthetic site the test traffic comes from: one office network 10.0.0.0/24 with an agent
 * on every server and workstation, and the roles tests assert on (who scans, who tunnels).
 */
export const TEST_NETWORK = {
  resolver: '10.0.0.2',
  upstreamResolvers: ['9.9.9.9', '1.1.1.1'],
  sshServers: ['10.0.0.10', '10.0.0.11', '10.0.0.12'],
  backupServer: '10.0.0.40',
  storageServer: '10.0.0.41',
  monitoringServer: '10.0.0.50',
  webServer: '10.0.0.80',
  deadPrinter: '10.0.0.200',
  /** Workstation i is 10.0.0.(100 + i), agent `ws-NN`. */
  firstWorkstation: 100,
  ntpServers: ['162.159.200.1', '162.159.200.123', '193.0.0.229'],
  mirror: '151.101.2.132',
  attack: {
    verticalScanner: '10.0.0.66',
    verticalVictim: '10.0.0.10',
    horizontalScanner: '10.0.0.67',
    horizontalPort: 22,
    floodVictim: '10.0.0.80',
    floodVictimPort: 443,
    singleFloodSource: '203.0.113.66',
    singleFloodPort: 80,
    tunnelClient: '10.0.0.124',
    tunnelDomain: 'cdn-sync.example',
    hexTunnelClient: '10.0.0.125',
    hexTunnelDomain: 'hexdrop.example',
    exfilClient: '10.0.0.132',
    exfilDestination: '198.51.100.77',
    exfilBytes: 200_000_000,
  },
} as const;

export interface Agent {
  agentId: string;
  hostname: string;
}

export function workstationAddress(i: number): string {
  return `10.0.0.${TEST_NETWORK.firstWorkstation + i}`;
}

const SERVER_AGENTS: Record<string, string> = {
  [TEST_NETWORK.resolver]: 'dns-1',
  [TEST_NETWORK.sshServers[0]]: 'srv-10',
  [TEST_NETWORK.sshServers[1]]: 'srv-11',
  [TEST_NETWORK.sshServers[2]]: 'srv-12',
  [TEST_NETWORK.backupServer]: 'backup-1',
  [TEST_NETWORK.storageServer]: 'nas-1',
  [TEST_NETWORK.monitoringServer]: 'mon-1',
  [TEST_NETWORK.webServer]: 'web-1',
};

/** The agent on `address`, if the network runs one there. */
export function agentAt(address: string, workstations: number): Agent | undefined {
  const server = SERVER_AGENTS[address];
  if (server !== undefined) return { agentId: server, hostname: `${server}.corp.example` };
  const m = /^10\.0\.0\.(\d+)$/.exec(address);
  if (m === null) return undefined;
  const i = Number(m[1]) - TEST_NETWORK.firstWorkstation;
  if (i < 0 || i >= workstations) return undefined;
  const id = `ws-${String(i).padStart(2, '0')}`;
  return { agentId: id, hostname: `${id}.corp.example` };
}

export function serverAddresses(): string[] {
  return Object.keys(SERVER_AGENTS);
}

/** Agents that capture a flow: those at either end (a flow between two agents is reported twice). */
export function observers(flow: FlowRecord, workstations: number): Agent[] {
  const out: Agent[] = [];
  const a = agentAt(flow.src, workstations);
  const b = agentAt(flow.dst, workstations);
  if (a !== undefined) out.push(a);
  if (b !== undefined) out.push(b);
  return out;
}

/** A stable public address for a host name, from a few real-looking provider ranges. */
export function addressOfName(name: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  h >>>= 0;
  const prefixes = ['151.101', '142.250', '104.16', '13.32', '52.84', '185.199', '140.82', '23.45', '172.217', '34.120'];
  return `${prefixes[h % prefixes.length]}.${(h >>> 8) & 255}.${((h >>> 16) & 253) + 1}`;
}

export function randomPublicAddress(rng: SeededRandom): string {
  // Avoid private and reserved first octets.
  const firsts = [23, 31, 37, 45, 62, 77, 81, 89, 94, 103, 109, 117, 125, 138, 146, 154, 176, 182, 188, 195, 201, 212];
  return `${firsts[rng.int(firsts.length)]}.${rng.int(256)}.${rng.int(256)}.${1 + rng.int(254)}`;
}

export function ephemeralPort(rng: SeededRandom): number {
  return 32768 + rng.int(28232);
}

export function lognormal(rng: SeededRandom, median: number, sigma: number): number {
  const u = Math.max(1e-12, rng.next());
  const v = rng.next();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return median * Math.exp(sigma * z);
}

export function pick<T>(rng: SeededRandom, items: readonly T[]): T {
  return items[rng.int(items.length)];
}
