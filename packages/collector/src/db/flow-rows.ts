/** The flows table's column order and a StoredFlow's binary COPY row, kept side by side. */
import type { StoredFlow } from '../types.js';
import type { BinaryCopyEncoder } from './binary-copy.js';

export const FLOW_COLUMN_NAMES = [
  'flow_id', 'agent_id', 'first_seen', 'last_seen', 'family', 'ip_proto', 'proto', 'src', 'dst', 'sport', 'dport', 'vlan',
  'packets_to_dst', 'packets_to_src', 'bytes_to_dst', 'bytes_to_src', 'packets', 'bytes', 'tcp_flags_to_dst', 'tcp_flags_to_src',
  'end_reason', 'dns_query', 'dns_qtype', 'dns_rcode', 'http_method', 'http_host', 'tls_sni', 'tls_alpn', 'duration_ms',
  'src_country', 'dst_country', 'src_asn', 'dst_asn', 'score', 'level', 'threat',
] as const;

/** Text columns may not hold NUL bytes; agents never send them, hostile ones might. */
function clean(text: string | undefined): string | undefined {
  return text === undefined || !text.includes('\0') ? text : text.replaceAll('\0', '\uFFFD');
}

export function encodeFlowRow(enc: BinaryCopyEncoder, f: StoredFlow): void {
  enc.startRow(FLOW_COLUMN_NAMES.length);
  enc.uuid(f.flowId);
  enc.text(f.agentId);
  enc.timestampMs(f.firstSeenMs);
  enc.timestampMs(f.lastSeenMs);
  enc.int16(f.family);
  enc.int16(f.ipProto);
  enc.text(f.proto);
  enc.inetText(f.src);
  enc.inetText(f.dst);
  enc.int32(f.sport);
  enc.int32(f.dport);
  if (f.vlan === undefined) enc.null();
  else enc.int32(f.vlan);
  enc.int64(f.packetsToDst);
  enc.int64(f.packetsToSrc);
  enc.int64(f.bytesToDst);
  enc.int64(f.bytesToSrc);
  enc.int64(f.packets);
  enc.int64(f.bytes);
  enc.int16(f.tcpFlagsToDst);
  enc.int16(f.tcpFlagsToSrc);
  enc.text(f.endReason);
  const l7 = f.l7;
  enc.optionalText(clean(l7?.dnsQuery));
  if (l7?.dnsQueryType === undefined) enc.null();
  else enc.int32(l7.dnsQueryType);
  if (l7?.dnsRcode === undefined) enc.null();
  else enc.int16(l7.dnsRcode);
  enc.optionalText(clean(l7?.httpMethod));
  enc.optionalText(clean(l7?.httpHost));
  enc.optionalText(clean(l7?.tlsSni));
  enc.optionalText(l7?.tlsAlpn && l7.tlsAlpn.length > 0 ? clean(l7.tlsAlpn.join(',')) : undefined);
  enc.float64(f.features.durationMs);
  enc.optionalText(f.srcCountry);
  enc.optionalText(f.dstCountry);
  if (f.srcAsn === null) enc.null();
  else enc.int32(f.srcAsn);
  if (f.dstAsn === null) enc.null();
  else enc.int32(f.dstAsn);
  enc.float32(f.score);
  enc.int16(f.level);
  enc.optionalText(f.threat);
}
