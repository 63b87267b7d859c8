import type { L7Hints } from '@nta/shared';
import { parseDns, parseHttpRequest, parseTlsClientHello } from '../decode/l7/index.js';
import type { DecodedPacket } from '../decode/packet.js';
import { IpProto } from '../decode/transport.js';
import type { FlowTable } from './flow-table.js';

/** Payload-carrying packets looked at per flow before giving up on hints. */
const MAX_INSPECTED = 6;
const DONE = 0x80;

function isDnsPort(port: number): boolean {
  return port === 53 || port === 5353 || port === 5355;
}

/**
 * Looks at the first payload-carrying packets of each flow for DNS, HTTP and TLS hints.
 * Only flows that yield a hint allocate anything; the rest cost a byte of state.
 */
export class L7Inspector {
  private readonly hints = new Map<number, L7Hints>();

  inspect(table: FlowTable, slot: number, pkt: DecodedPacket, buf: Uint8Array): void {
    const state = table.l7State(slot);
    if (state >= DONE || pkt.payloadCapLen === 0) return;
    if (state >= MAX_INSPECTED) {
      table.setL7State(slot, DONE);
      return;
    }
    table.setL7State(slot, state + 1);
    const off = pkt.payloadOff;
    const end = off + pkt.payloadCapLen;
    const proto = pkt.ipProto;
    if (proto === IpProto.UDP) {
      if (isDnsPort(pkt.sport) || isDnsPort(pkt.dport)) this.dns(table, slot, buf, off, end, false);
      else table.setL7State(slot, DONE);
      return;
    }
    if (proto !== IpProto.TCP) {
      table.setL7State(slot, DONE);
      return;
    }
    if (pkt.sport === 53 || pkt.dport === 53) {
      this.dns(table, slot, buf, off, end, true);
      return;
    }
    const first = buf[off];
    if (first === 0x16) {
      const tls = parseTlsClientHello(buf, off, end);
      if (tls !== null && (tls.sni !== undefined || tls.alpn !== undefined)) {
        const h = this.hintsFor(slot);
        if (tls.sni !== undefined) h.tlsSni = tls.sni;
        if (tls.alpn !== undefined) h.tlsAlpn = tls.alpn;
        table.setL7State(slot, DONE);
      }
    } else if (first >= 0x41 && first <= 0x5a) {
      const http = parseHttpRequest(buf, off, end);
      if (http !== null) {
        const h = this.hintsFor(slot);
        h.httpMethod = http.method;
        if (http.host !== undefined) h.httpHost = http.host;
        table.setL7State(slot, DONE);
      }
    }
  }

  /** Hands over (and forgets) a flow's hints as it leaves the table. */
  take(slot: number): L7Hints | undefined {
    const h = this.hints.get(slot);
    if (h !== undefined) this.hints.delete(slot);
    return h;
  }

  private dns(table: FlowTable, slot: number, buf: Uint8Array, off: number, end: number, tcp: boolean): void {
    const dns = parseDns(buf, off, end, tcp);
    if (dns === null) return;
    const h = this.hintsFor(slot);
    if (dns.query !== undefined && h.dnsQuery === undefined) {
      h.dnsQuery = dns.query;
      if (dns.queryType !== undefined) h.dnsQueryType = dns.queryType;
    }
    if (dns.isResponse) h.dnsRcode = dns.rcode;
    if (h.dnsQuery !== undefined && h.dnsRcode !== undefined) table.setL7State(slot, DONE);
  }

  private hintsFor(slot: number): L7Hints {
    let h = this.hints.get(slot);
    if (h === undefined) {
      h = {};
      this.hints.set(slot, h);
    }
    return h;
  }
}
