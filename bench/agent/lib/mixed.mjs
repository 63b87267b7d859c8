// The mixed capture: thousands of concurrent sessions (sessions.mjs) interleaved on one
// capture clock running at 20-50 k packets per second, so that flows start, close and
// time out all through the file.
import { Proto } from './pcap-writer.mjs';
import { Weighted } from './rng.mjs';
import * as sessions from './sessions.mjs';

/** Sessions in progress at once (the ones paused in a keep-alive or retry come on top). */
const CONCURRENT_SESSIONS = 2000;
/**
 * Packets built and thrown away before the file starts, so that it opens mid-stream as a
 * real capture does: connections already established, transfers half done.
 */
const WARMUP_PACKETS = 200_000;
/**
 * Ephemeral ports that tshark 4.0 dissects by number (eobi, manolito, enip, ...): a
 * client never picks them, so that opaque payloads are not mistaken for those protocols.
 */
const TSHARK_PORTS = new Set([
  34962, 34980, 37008, 41170, 44321, 44322, 44818, 45564, 47000, 47808, 48049, 48898, 49999, 54328, 56000, 56001,
  56500, 56501, 57000, 57001, 57032, 57033, 57500, 57501, 57532, 57533, 59000, 59001, 59032, 59033, 59500, 59501,
  59532, 59533, 60001,
]);
/** Capture clock: 2026-11-02 09:00:00 UTC. */
export const START_US = Date.UTC(2026, 10, 2, 9, 0, 0) * 1000;

const KINDS = new Weighted([
  ['dns', 34],
  ['tls', 26],
  ['http', 6],
  ['quic', 6],
  ['ntp', 4],
  ['ping', 3],
  ['failedTcp', 4],
  ['bulk', 0.15],
  ['scan', 0.05],
  ['arp', 1],
]);
const RUN = {
  dns: sessions.dnsSession,
  tls: sessions.tlsSession,
  http: sessions.httpSession,
  quic: sessions.quicSession,
  ntp: sessions.ntpSession,
  ping: sessions.pingSession,
  failedTcp: sessions.failedTcpSession,
  bulk: sessions.bulkSession,
  scan: sessions.scanSession,
  arp: sessions.arpSession,
};

export class Mixed {
  /**
   * @param {import('./pcap-writer.mjs').PcapWriter} w
   * @param {import('./rng.mjs').Rng} rng
   * @param {import('./world.mjs').World} world
   */
  constructor(w, rng, world) {
    this.w = w;
    this.rng = rng;
    this.world = world;
    this.nowUs = START_US;
    this.siteByName = new Map([...world.sites, ...world.ntpServers].map((s) => [s.name, s]));
    this.count = { sessions: /** @type {Record<string, number>} */ ({}), dnsQueries: 0, tlsClientHellos: 0, httpRequests: 0 };
    /** @type {Generator[]} sessions that can send now */
    this.active = [];
    /** sessions pausing (keep-alive, retry timer), by wake-up time */
    this.parked = new WakeHeap();
  }

  /**
   * A new flow from `client` (ephemeral port) to `serverIp`:`port`.
   * @param {number} proto @param {import('./world.mjs').Host} client @param {Uint8Array} serverIp
   * @param {number} port @param {boolean} v6 @param {Uint8Array} [serverMac] next hop, the router by default
   * @returns {import('./pcap-writer.mjs').Flow}
   */
  flow(proto, client, serverIp, port, v6, serverMac = this.world.routerMac) {
    const r = this.rng;
    const icmp = proto === Proto.ICMP || proto === Proto.ICMPV6;
    return {
      v6,
      proto,
      vlan: client.vlan,
      macs: [client.mac, serverMac],
      ips: [v6 ? client.v6 : client.v4, serverIp],
      ports: icmp ? [0, 0] : [ephemeralPort(r, client), port],
      ttl: [64, r.range(40, 120)],
      ipId: [r.int(0x10000), r.int(0x10000)],
      seq: [r.u32(), r.u32()],
      tsBase: [r.u32(), r.u32()],
      tsLast: [0, 0],
      win: [502, 501],
      flowLabel: r.int(0x100000),
    };
  }

  /** Writes `packets` packets (after an unwritten warm-up). */
  run(packets, onProgress = () => {}) {
    const { w } = this;
    w.discarding = true;
    this.nowUs = START_US - WARMUP_PACKETS * 29; // about 35 k packets/s
    this.loop(() => this.nowUs >= START_US, () => {});
    w.endWarmup();
    this.count = { sessions: {}, dnsQueries: 0, tlsClientHellos: 0, httpRequests: 0 };
    this.loop(() => w.packets >= packets, onProgress);
  }

  /** Advances the sessions, one packet at a time, until `done()`. */
  loop(done, onProgress) {
    const { w, rng, active, parked } = this;
    let nextProgress = 1_000_000;
    while (!done()) {
      while (parked.size && parked.peekUs() <= this.nowUs) active.push(parked.pop());
      while (active.length < CONCURRENT_SESSIONS) active.push(this.startSession());
      const i = rng.int(active.length);
      const r = active[i].next();
      if (typeof r.value === 'object' && r.value !== null) {
        const p = r.value;
        if (p.raw) w.writeRaw(this.nowUs, p.raw);
        else w.packet(this.nowUs, p.f, p.dir, p.flags, p.head, p.fill);
        this.nowUs += Math.round(rng.exp(1e6 / this.packetsPerS()));
        if (w.packets >= nextProgress) {
          onProgress(w.packets);
          nextProgress += 1_000_000;
        }
        continue;
      }
      const g = active[i];
      active[i] = active[active.length - 1];
      active.pop();
      if (!r.done) parked.push(this.nowUs + r.value, g);
    }
  }

  startSession() {
    const kind = KINDS.pick(this.rng);
    this.count.sessions[kind] = (this.count.sessions[kind] ?? 0) + 1;
    return RUN[kind](this);
  }

  /** Offered load swings between 20 k and 50 k packets/s over a minute. */
  packetsPerS() {
    return 35_000 + 15_000 * Math.sin((2 * Math.PI * (this.nowUs - START_US)) / 60e6);
  }
}

/**
 * The client's next ephemeral port: in order with small random steps, so concurrent
 * sessions of one host never share a 5-tuple. Hosts without a counter pick at random.
 * @param {import('./rng.mjs').Rng} r @param {import('./world.mjs').Host} host
 */
function ephemeralPort(r, host) {
  if (host.nextPort === undefined) return r.range(32_768, 60_999);
  let p = host.nextPort;
  while (TSHARK_PORTS.has(p)) p++;
  const next = p + 1 + r.int(4);
  host.nextPort = next > 60_999 ? 32_768 : next;
  return p;
}

/** Paused sessions, earliest wake-up first (binary heap). */
class WakeHeap {
  constructor() {
    /** @type {number[]} */
    this.us = [];
    /** @type {Generator[]} */
    this.items = [];
  }
  get size() {
    return this.us.length;
  }
  peekUs() {
    return this.us[0];
  }
  push(us, item) {
    let i = this.us.length;
    this.us.push(us);
    this.items.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.us[p] <= us) break;
      this.us[i] = this.us[p];
      this.items[i] = this.items[p];
      i = p;
    }
    this.us[i] = us;
    this.items[i] = item;
  }
  pop() {
    const top = this.items[0];
    const us = this.us.pop();
    const item = this.items.pop();
    const n = this.us.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && this.us[c + 1] < this.us[c]) c++;
        if (this.us[c] >= us) break;
        this.us[i] = this.us[c];
        this.items[i] = this.items[c];
        i = c;
      }
      this.us[i] = us;
      this.items[i] = item;
    }
    return top;
  }
}
