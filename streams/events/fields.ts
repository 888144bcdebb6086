// Field lists of the event types, by name, type and meaning: the Community-tier flow record (the
// seeds' 44 fields plus community_id), the nDPI fields of later tiers, and the fields of the L7,
// alert, trigger and stats events. table.ts assembles them into the event-type table. Pure data.
import type { ColumnSpec, ColumnType } from './columns.js';

/** Column types the Parquet tiers use. */
export type FieldType = Extract<ColumnType, 'UInt8' | 'UInt16' | 'UInt32' | 'UInt64' | 'Int32' | 'Float32' | 'String' | 'Timestamp'>;

export interface FieldSpec extends ColumnSpec {
  readonly name: string;
  readonly type: FieldType;
  readonly description: string;
}

export const COMMUNITY_FIELDS: readonly FieldSpec[] = [
  { name: 'version', type: 'UInt16', description: 'Schema version: 1 (Community, Basic), 2 (Professional, Enterprise)' },
  { name: 'flowid', type: 'String', description: 'Unique flow UUID' },
  { name: 'obname', type: 'String', description: 'Observation domain name' },
  { name: 'stime', type: 'Timestamp', description: 'Flow start time (UTC, microseconds)' },
  { name: 'etime', type: 'Timestamp', description: 'Flow end time (UTC, microseconds)' },
  { name: 'dur', type: 'UInt32', description: 'Duration (milliseconds)' },
  { name: 'rtt', type: 'UInt32', description: 'Round-trip time from the TCP handshake (microseconds)' },
  { name: 'pcr', type: 'Int32', description: 'Producer-consumer ratio of payload bytes, (s-d)/(s+d) scaled to -100..100' },
  { name: 'proto', type: 'String', description: 'Protocol (TCP, UDP, ICMP, ICMPv6, ... or the number)' },
  { name: 'saddr', type: 'String', description: 'Source IP address' },
  { name: 'daddr', type: 'String', description: 'Destination IP address' },
  { name: 'sport', type: 'UInt16', description: 'Source port (0 for non-TCP/UDP; ICMP type)' },
  { name: 'dport', type: 'UInt16', description: 'Destination port (0 for non-TCP/UDP; ICMP code)' },
  { name: 'iflags', type: 'String', description: 'TCP flags of the first packet' },
  { name: 'uflags', type: 'String', description: 'Union of all TCP flags seen in the flow' },
  { name: 'stcpseq', type: 'UInt32', description: 'Source initial TCP sequence number' },
  { name: 'dtcpseq', type: 'UInt32', description: 'Destination initial TCP sequence number' },
  { name: 'svlan', type: 'UInt16', description: 'Source VLAN ID (outer tag, 0 if none)' },
  { name: 'dvlan', type: 'UInt16', description: 'Destination VLAN ID (outer tag, 0 if none)' },
  { name: 'spkts', type: 'UInt64', description: 'Source packet count' },
  { name: 'dpkts', type: 'UInt64', description: 'Destination packet count' },
  { name: 'sbytes', type: 'UInt64', description: 'Source byte count (IP header + payload)' },
  { name: 'dbytes', type: 'UInt64', description: 'Destination byte count (IP header + payload)' },
  { name: 'sentropy', type: 'UInt8', description: 'Source payload Shannon entropy (0-255)' },
  { name: 'dentropy', type: 'UInt8', description: 'Destination payload Shannon entropy (0-255)' },
  { name: 'ssmallpktcnt', type: 'UInt32', description: 'Source packets with payload < 60 bytes' },
  { name: 'dsmallpktcnt', type: 'UInt32', description: 'Destination packets with payload < 60 bytes' },
  { name: 'slargepktcnt', type: 'UInt32', description: 'Source packets with payload > 225 bytes' },
  { name: 'dlargepktcnt', type: 'UInt32', description: 'Destination packets with payload > 225 bytes' },
  { name: 'snonemptypktcnt', type: 'UInt32', description: 'Source packets with payload' },
  { name: 'dnonemptypktcnt', type: 'UInt32', description: 'Destination packets with payload' },
  { name: 'sfirstnonemptycnt', type: 'UInt16', description: 'Source payload size of the first non-empty packet' },
  { name: 'dfirstnonemptycnt', type: 'UInt16', description: 'Destination payload size of the first non-empty packet' },
  { name: 'smaxpktsize', type: 'UInt16', description: 'Source largest IP packet size' },
  { name: 'dmaxpktsize', type: 'UInt16', description: 'Destination largest IP packet size' },
  { name: 'savgpayload', type: 'UInt16', description: 'Source mean payload size of non-empty packets' },
  { name: 'davgpayload', type: 'UInt16', description: 'Destination mean payload size of non-empty packets' },
  { name: 'sstdevpayload', type: 'UInt16', description: 'Source payload size standard deviation (non-empty packets)' },
  { name: 'dstdevpayload', type: 'UInt16', description: 'Destination payload size standard deviation (non-empty packets)' },
  { name: 'spd', type: 'String', description: 'Directions of the first 8 small (<60 B payload) packets, S or D each' },
  { name: 'spdt', type: 'String', description: 'Milliseconds since flow start of those small packets, comma separated' },
  { name: 'reason', type: 'String', description: 'Flow termination reason: idle, active, eof, end, rst, evict' },
  { name: 'smac', type: 'String', description: 'Source MAC address' },
  { name: 'dmac', type: 'String', description: 'Destination MAC address' },
  { name: 'community_id', type: 'String', description: 'Community ID v1 flow hash' },
];

/**
 * Fields nDPI adds to a flow's end record (the seeds' Basic and Professional tiers), null while
 * nDPI is off or did not get that far. ndpi_ja4/ndpi_ja3s come from our own TLS parser and are set
 * for TLS flows with or without nDPI.
 */
export const NDPI_FIELDS: readonly FieldSpec[] = [
  { name: 'ndpi_ja4', type: 'String', nullable: true, description: 'JA4 of the flow\'s (last) ClientHello: TLS (t), QUIC (q, from the decrypted Initial) and DTLS (d) flows' },
  { name: 'ndpi_ja3s', type: 'String', nullable: true, description: 'JA3S of the flow\'s TLS ServerHello (TLS flows)' },
  { name: 'ndpi_appid', type: 'String', nullable: true, description: 'nDPI application id, master.app (e.g. "TLS.YouTube"); nDPI on' },
  { name: 'ndpi_category', type: 'String', nullable: true, description: 'nDPI category (e.g. "Media"); nDPI on' },
  { name: 'ndpi_risk_score', type: 'UInt32', nullable: true, description: 'nDPI cumulative risk score (0 = none); nDPI on' },
  { name: 'ndpi_risk_severity', type: 'UInt8', nullable: true, description: 'Highest nDPI risk severity: 0 none, 1 low, 2 medium, 3 high; nDPI on' },
  { name: 'ndpi_risk_list', type: 'String', nullable: true, description: 'nDPI risk names joined by "," (empty = none); nDPI on' },
  { name: 'ndpi_tcp_fp', type: 'String', nullable: true, description: 'TCP fingerprint of the SYN with nDPI\'s OS hint, "fingerprint/os"; nDPI on, TCP flows whose SYN was seen' },
  { name: 'ndpi_fp', type: 'String', nullable: true, description: 'nDPI composite client fingerprint (32 hex digits); nDPI on, TLS flows' },
];

/**
 * Fields an enrichment stage adds to flows for the lake's higher tiers (GeoIP from MaxMind
 * databases, anomaly scores from the analyzers); NULL where the pipeline could not determine them.
 */
export const GEO_FIELDS: readonly FieldSpec[] = [
  { name: 'scountry', type: 'String', nullable: true, description: 'Source country (ISO 3166-1 alpha-2); GeoIP country or city database' },
  { name: 'dcountry', type: 'String', nullable: true, description: 'Destination country (ISO 3166-1 alpha-2)' },
  { name: 'scity', type: 'String', nullable: true, description: 'Source city (English name); GeoIP city database' },
  { name: 'dcity', type: 'String', nullable: true, description: 'Destination city (English name)' },
  { name: 'sasn', type: 'UInt32', nullable: true, description: 'Source autonomous system number; GeoIP ASN database' },
  { name: 'dasn', type: 'UInt32', nullable: true, description: 'Destination autonomous system number' },
];
export const GEO_ORG_FIELDS: readonly FieldSpec[] = [
  { name: 'sasnorg', type: 'String', nullable: true, description: 'Source AS organization; GeoIP ASN database' },
  { name: 'dasnorg', type: 'String', nullable: true, description: 'Destination AS organization' },
];
export const ANOMALY_FIELDS: readonly FieldSpec[] = [
  { name: 'anomaly_score', type: 'Float32', nullable: true, description: 'Anomaly score 0.0-1.0: the highest analyzer score for this flow' },
  { name: 'anomaly_severity', type: 'String', nullable: true, description: 'Severity of that score: LOW, MEDIUM, HIGH, CRITICAL' },
  { name: 'anomaly_factors', type: 'String', nullable: true, description: 'Analyzers and reasons that contributed, "analyzer: reason" joined by "; "' },
];

/** Fields of a QUIC flow's end record, from the client's first Initial packet; null for other flows. */
export const QUIC_FIELDS: readonly FieldSpec[] = [
  { name: 'quic_version', type: 'UInt32', nullable: true, description: 'QUIC version of the client\'s Initial (1 = v1, 1798521807 = 0x6b3343cf v2, 0xff0000NN drafts); QUIC flows' },
  { name: 'quic_dcid', type: 'String', nullable: true, description: 'Destination connection id of the client\'s first Initial, lowercase hex; QUIC flows' },
  { name: 'quic_scid', type: 'String', nullable: true, description: 'Source connection id of the client\'s first Initial, lowercase hex (empty when zero-length); QUIC flows' },
];

/** Envelope columns every event type starts with. `type` and `v` belong to the whole batch. */
export const ENVELOPE: readonly ColumnSpec[] = [
  { name: 'obname', type: 'String', description: 'Observation domain name of the sensor (or component) that produced the event' },
  { name: 'ts', type: 'Timestamp', description: 'Event time, µs since the Unix epoch (packet time, not wall clock)' },
];

/** The flow and endpoints an L7 event belongs to (after the envelope). */
export const L7_BASE: readonly ColumnSpec[] = [
  { name: 'flowid', type: 'String', description: 'Flow UUID (joins the flow records)' },
  { name: 'community_id', type: 'String', description: 'Community ID v1 of the flow' },
  { name: 'saddr', type: 'String', description: 'Flow source address' },
  { name: 'daddr', type: 'String', description: 'Flow destination address' },
  { name: 'sport', type: 'UInt16', description: 'Flow source port' },
  { name: 'dport', type: 'UInt16', description: 'Flow destination port' },
];

export const DNS_FIELDS: readonly ColumnSpec[] = [
  { name: 'query', type: 'String', description: 'Query name' },
  { name: 'qtype', type: 'String', description: 'Query type (A, AAAA, PTR, ... or the number)' },
  { name: 'rcode', type: 'String', description: 'Response code (NOERROR, NXDOMAIN, ...; empty for a query without response)' },
  {
    name: 'answers', type: 'List', description: 'Answer records',
    of: {
      name: 'item', type: 'Struct', fields: [
        { name: 'name', type: 'String', description: 'Owner name' },
        { name: 'type', type: 'String', description: 'Record type' },
        { name: 'ttl', type: 'UInt32', description: 'TTL (seconds)' },
        { name: 'data', type: 'String', description: 'RDATA in presentation form' },
      ],
    },
  },
];

export const TLS_FIELDS: readonly ColumnSpec[] = [
  { name: 'sni', type: 'String', description: 'Server name indication' },
  { name: 'alpn', type: 'String', description: 'ALPN values offered, comma separated' },
  { name: 'tls_version', type: 'String', description: 'Negotiated TLS version (TLSv1.2, TLSv1.3, ...); not `version`, which is the record version (a number) on flows' },
  { name: 'cipher', type: 'String', description: 'Negotiated cipher suite' },
  { name: 'ja3', type: 'String', description: 'JA3 of the ClientHello' },
  { name: 'ja3s', type: 'String', description: 'JA3S of the ServerHello' },
  { name: 'ja4', type: 'String', description: 'JA4 of the ClientHello' },
];

export const HTTP_FIELDS: readonly ColumnSpec[] = [
  { name: 'method', type: 'String', description: 'Request method' },
  { name: 'host', type: 'String', description: 'Host header' },
  { name: 'uri', type: 'String', description: 'Request URI' },
  { name: 'user_agent', type: 'String', description: 'User-Agent header' },
  { name: 'status', type: 'UInt16', description: 'Response status (0 = none seen)' },
];

export const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;

export const ALERT_FIELDS: readonly ColumnSpec[] = [
  { name: 'id', type: 'String', description: 'Alert UUID' },
  { name: 'analyzer', type: 'String', description: 'Analyzer that raised it' },
  { name: 'score', type: 'Float64', description: 'Score, 0..1' },
  { name: 'severity', type: 'String', description: 'LOW, MEDIUM, HIGH or CRITICAL' },
  { name: 'reason', type: 'String', description: 'Why, in words' },
  { name: 'factors', type: 'Json', description: 'Details (JSON object)' },
  { name: 'key', type: 'String', description: 'Suppression key within the analyzer' },
  { name: 'flowid', type: 'String', description: 'Flow the alert is about (may be empty)' },
  { name: 'community_id', type: 'String', description: 'Community ID of that flow (may be empty)' },
  { name: 'saddr', type: 'String', description: 'Source address' },
  { name: 'daddr', type: 'String', description: 'Destination address' },
  { name: 'sport', type: 'UInt16', description: 'Source port' },
  { name: 'dport', type: 'UInt16', description: 'Destination port' },
];

export const TRIGGER_FIELDS: readonly ColumnSpec[] = [
  { name: 'action', type: 'String', description: 'add or remove' },
  { name: 'hosts', type: 'List', description: 'Addresses to watch', of: { name: 'item', type: 'String' } },
  { name: 'ttl_s', type: 'UInt32', description: 'Seconds to watch' },
  { name: 'reason', type: 'String', description: 'Why' },
  { name: 'alert_id', type: 'String', description: 'Alert that caused it (may be empty)' },
];

export const STATS_FIELDS: readonly ColumnSpec[] = [
  { name: 'component', type: 'String', description: 'Component the counters belong to (sensor, analyzer.dga, ...)' },
  { name: 'counters', type: 'Json', description: 'Counters (JSON object of numbers)' },
  { name: 'analyzer', type: 'String', nullable: true, description: 'Analyzer name (analyzer stats)' },
  { name: 'state', type: 'String', nullable: true, description: 'Analyzer state (analyzer stats)' },
  { name: 'error', type: 'String', nullable: true, description: 'Last error (analyzer stats)' },
];

export const CONTROL_FIELDS: readonly ColumnSpec[] = [
  { name: 'producer', type: 'String', description: 'Id of the producing process (a UUID per run)' },
  { name: 'action', type: 'String', description: 'begin (the process starts publishing) or end (everything it will publish is acknowledged)' },
  { name: 'role', type: 'String', description: 'What the process is (sensor, analyze, run)' },
  { name: 'topics', type: 'List', description: 'Topics it publishes', of: { name: 'item', type: 'String' } },
  { name: 'events', type: 'Json', description: 'end: events it published, by topic' },
];
