// The sensor's events as JSON objects keyed by IPFIX information-element names
// (`damselfly sensor --format ipfix-json`), for tools that speak IPFIX names: the IANA registry's
// elements (RFC 5102, now RFC 7012's registry: `flowStartMilliseconds`, `sourceIPv4Address`,
// `octetTotalCount`, `applicationName`, ...), RFC 5103's biflow `reverse*` elements for the
// destination→source direction, and CERT YAF's flow-statistics elements (`smallPacketCount`,
// `payloadEntropy`, `initialTCPFlags`, ...) for the per-direction features Damselfly shares with
// YAF. Following RFC 5103, `octetTotalCount`/`packetTotalCount` are the forward (source→destination)
// direction and `reverseOctetTotalCount`/`reversePacketTotalCount` the other one. Times are ISO 8601
// strings, as in the seed's JSON example. What has no element (flow id, record kind, community id,
// nDPI labels, RTT, the L7 events' contents) stays under its own name in `damselfly`, so nothing
// of the event is dropped.
import type { EventBatch } from '../../streams/events/batch.js';

type Row = Record<string, unknown>;

/** IANA protocol numbers of the protocol names the sensor writes. */
const PROTOCOL_NUMBER: Record<string, number> = { ICMP: 1, IGMP: 2, TCP: 6, UDP: 17, GRE: 47, ESP: 50, AH: 51, ICMPv6: 58, SCTP: 132 };

/** flowEndReason (IANA element 136): 1 idle timeout, 2 active timeout, 3 end of flow detected, 4 forced end, 5 lack of resources. */
const END_REASON: Record<string, number> = { idle: 1, active: 2, end: 3, rst: 3, eof: 4, evict: 5 };

/** Per-direction flow fields: [source-direction field, destination-direction field, element name]. */
const DIRECTIONAL: readonly (readonly [string, string, string])[] = [
  ['sbytes', 'dbytes', 'octetTotalCount'], // IANA 85
  ['spkts', 'dpkts', 'packetTotalCount'], // IANA 86
  ['sentropy', 'dentropy', 'payloadEntropy'], // YAF
  ['ssmallpktcnt', 'dsmallpktcnt', 'smallPacketCount'], // YAF
  ['slargepktcnt', 'dlargepktcnt', 'largePacketCount'], // YAF
  ['snonemptypktcnt', 'dnonemptypktcnt', 'nonEmptyPacketCount'], // YAF
  ['sfirstnonemptycnt', 'dfirstnonemptycnt', 'firstNonEmptyPacketSize'], // YAF
  ['smaxpktsize', 'dmaxpktsize', 'maxPacketSize'], // YAF
  ['sstdevpayload', 'dstdevpayload', 'standardDeviationPayloadLength'], // YAF
];
const TCP_DIRECTIONAL: readonly (readonly [string, string, string])[] = [
  ['stcpseq', 'dtcpseq', 'tcpSequenceNumber'], // IANA 184
];

const reverse = (name: string): string => `reverse${name[0]!.toUpperCase()}${name.slice(1)}`;

/** µs since the epoch as ISO 8601 with milliseconds (`ms`) or microseconds. */
function iso(us: number, micro: boolean): string {
  const ms = Math.floor(us / 1000);
  const s = new Date(ms).toISOString();
  return micro ? s.replace(/Z$/, `${String(Math.round(us - ms * 1000)).padStart(3, '0')}Z`) : s;
}

/** The endpoint elements every event has: addresses by IP version, ports (or ICMP type/code). */
function endpoints(e: Row, out: Row, used: Set<string>): void {
  const v6 = String(e.saddr ?? '').includes(':');
  const icmp = e.proto === 'ICMP' || e.proto === 'ICMPv6';
  if (typeof e.saddr === 'string' && e.saddr !== '') out[v6 ? 'sourceIPv6Address' : 'sourceIPv4Address'] = e.saddr;
  if (typeof e.daddr === 'string' && e.daddr !== '') out[v6 ? 'destinationIPv6Address' : 'destinationIPv4Address'] = e.daddr;
  if (icmp) {
    // ICMP flows carry the type in sport and the code in dport (icmpTypeCodeIPv4/IPv6: type * 256 + code)
    out[e.proto === 'ICMP' ? 'icmpTypeCodeIPv4' : 'icmpTypeCodeIPv6'] = Number(e.sport) * 256 + Number(e.dport);
  } else {
    if (e.sport !== undefined) out.sourceTransportPort = e.sport;
    if (e.dport !== undefined) out.destinationTransportPort = e.dport;
  }
  for (const k of ['saddr', 'daddr', 'sport', 'dport']) used.add(k);
}

function flowElements(e: Row, out: Row, used: Set<string>): void {
  out.flowStartMilliseconds = iso(Number(e.stime), false);
  out.flowEndMilliseconds = iso(Number(e.etime), false);
  out.flowStartMicroseconds = iso(Number(e.stime), true);
  out.flowEndMicroseconds = iso(Number(e.etime), true);
  out.flowDurationMilliseconds = e.dur;
  const v6 = String(e.saddr ?? '').includes(':');
  out.ipVersion = v6 ? 6 : 4;
  const proto = String(e.proto ?? '');
  const num = PROTOCOL_NUMBER[proto] ?? (/^\d+$/.test(proto) ? Number(proto) : undefined);
  if (num !== undefined) {
    out.protocolIdentifier = num;
    used.add('proto');
  }
  endpoints(e, out, used);
  const tcp = proto === 'TCP';
  for (const [s, d, name] of tcp ? [...DIRECTIONAL, ...TCP_DIRECTIONAL] : DIRECTIONAL) {
    out[name] = e[s];
    out[reverse(name)] = e[d];
    used.add(s);
    used.add(d);
  }
  if (tcp) {
    out.initialTCPFlags = e.iflags; // YAF
    out.unionTCPFlags = e.uflags; // YAF
    used.add('iflags').add('uflags');
  } else if (e.iflags === '' && e.uflags === '') used.add('iflags').add('uflags');
  if (!tcp && Number(e.stcpseq) === 0 && Number(e.dtcpseq) === 0) used.add('stcpseq').add('dtcpseq');
  if (Number(e.svlan) > 0) out.vlanId = e.svlan; // IANA 58
  if (Number(e.dvlan) > 0) out.reverseVlanId = e.dvlan;
  used.add('svlan').add('dvlan');
  if (typeof e.smac === 'string' && e.smac !== '') out.sourceMacAddress = e.smac; // IANA 56
  if (typeof e.dmac === 'string' && e.dmac !== '') out.destinationMacAddress = e.dmac; // IANA 80
  used.add('smac').add('dmac');
  const reason = END_REASON[String(e.reason)];
  if (reason !== undefined) out.flowEndReason = reason; // IANA 136, end records only
  if (typeof e.ndpi_appid === 'string' && e.ndpi_appid !== '') {
    out.applicationName = e.ndpi_appid; // IANA 96
    used.add('ndpi_appid');
  }
  for (const k of ['stime', 'etime', 'dur']) used.add(k);
}

/** One IPFIX-named object for an event: flows get the flow elements, every event its endpoints. */
export function toIpfix(e: Row): Row {
  const out: Row = { observationDomainName: e.obname }; // IANA 300
  const used = new Set<string>(['obname', 'v']);
  if (e.type === 'flow') flowElements(e, out, used);
  else {
    if (e.ts !== undefined) {
      out.observationTimeMicroseconds = iso(Number(e.ts), true); // IANA 324
      used.add('ts');
    }
    if (e.saddr !== undefined) endpoints(e, out, used);
  }
  const rest: Row = {};
  for (const [k, v] of Object.entries(e)) if (!used.has(k)) rest[k] = v;
  out.damselfly = rest;
  return out;
}

/** The batch as IPFIX-named JSON lines. */
export function encodeIpfixLines(b: EventBatch): string {
  let s = '';
  for (const e of b.rows()) s += JSON.stringify(toIpfix(e as unknown as Row)) + '\n';
  return s;
}
