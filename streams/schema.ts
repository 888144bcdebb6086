// The versioned event schema shared by every module. One event = one JSON object (one Kafka
// message later). Field names follow the seeds' Parquet schema (Rockfish Community tier) so users'
// queries carry over unchanged.

/** Version of the event envelope (`v` on every event). Bump on incompatible change. */
export const EVENT_SCHEMA_VERSION = 1;

/** Parquet / logical column types used by the tiered schema. */
export type FieldType =
  | 'UInt8'
  | 'UInt16'
  | 'UInt32'
  | 'UInt64'
  | 'Int32'
  | 'Float32'
  | 'String'
  | 'Timestamp';

export interface FieldSpec {
  name: string;
  type: FieldType;
  description: string;
}

/**
 * The 44 Community-tier fields, in the seeds' order, plus `community_id` (Community ID v1).
 * Timestamps travel in events as integer microseconds since the Unix epoch (UTC).
 */
export const COMMUNITY_FIELDS: readonly FieldSpec[] = [
  { name: 'version', type: 'UInt16', description: 'Schema version (1)' },
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

export type FlowKind = 'start' | 'update' | 'end';
export type FlowReason = 'idle' | 'active' | 'eof' | 'end' | 'rst' | 'evict' | '';

/** The Community-tier flow record, as produced by the sensor (field names = Parquet columns). */
export interface FlowRecord {
  version: number;
  flowid: string;
  obname: string;
  stime: number; // µs since epoch
  etime: number; // µs since epoch
  dur: number;
  rtt: number;
  pcr: number;
  proto: string;
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  iflags: string;
  uflags: string;
  stcpseq: number;
  dtcpseq: number;
  svlan: number;
  dvlan: number;
  spkts: number;
  dpkts: number;
  sbytes: number;
  dbytes: number;
  sentropy: number;
  dentropy: number;
  ssmallpktcnt: number;
  dsmallpktcnt: number;
  slargepktcnt: number;
  dlargepktcnt: number;
  snonemptypktcnt: number;
  dnonemptypktcnt: number;
  sfirstnonemptycnt: number;
  dfirstnonemptycnt: number;
  smaxpktsize: number;
  dmaxpktsize: number;
  savgpayload: number;
  davgpayload: number;
  sstdevpayload: number;
  dstdevpayload: number;
  spd: string;
  spdt: string;
  reason: FlowReason;
  smac: string;
  dmac: string;
  community_id: string;
  /** JA4 of the flow's TLS ClientHello (end records of TLS flows only). */
  ndpi_ja4?: string;
  /** JA3S of the flow's TLS ServerHello (end records of TLS flows only). */
  ndpi_ja3s?: string;
  /** nDPI application id, master.app (e.g. "TLS.YouTube", "DNS"); end records, nDPI enabled only. */
  ndpi_appid?: string;
  /** nDPI category name (e.g. "Media", "Network"); end records, nDPI enabled only. */
  ndpi_category?: string;
  /** nDPI risk score (sum of the flow's risk scores, 0 = none); end records, nDPI enabled only. */
  ndpi_risk_score?: number;
  /** Highest nDPI risk severity: 0 none, 1 low, 2 medium, 3 high; end records, nDPI enabled only. */
  ndpi_risk_severity?: number;
  /** nDPI risk names joined by ',' (empty = none); end records, nDPI enabled only. */
  ndpi_risk_list?: string;
  /**
   * TCP fingerprint of the flow's SYN with nDPI's OS hint, "fingerprint/os" (e.g.
   * "2_64_64240_2e3cee914fc1/Linux"; nDPI 5.0 native format); end records of TCP flows whose SYN
   * was seen, nDPI enabled only.
   */
  ndpi_tcp_fp?: string;
  /** nDPI composite client fingerprint (32 hex digits) over the TCP fingerprint and JA4; end records of TLS flows, nDPI enabled only. */
  ndpi_fp?: string;
}

/** Envelope fields every event carries. */
export interface EventEnvelope {
  type: string;
  v: number;
  obname: string;
  /** Event time: µs since epoch (packet time, not wall clock). */
  ts: number;
}

/** A `flow` event: envelope + kind/seq + the flow record. Counters are cumulative. */
export interface FlowEvent extends EventEnvelope, FlowRecord {
  type: 'flow';
  kind: FlowKind;
  seq: number;
}

/** Statistics events on `<prefix>.stats`: counters of one component. */
export interface StatsEvent extends EventEnvelope {
  type: 'stats';
  component: string;
  counters: Record<string, number>;
}

export type DamselflyEvent = FlowEvent | StatsEvent;

/** Events a sensor produces (flow records and L7 events), each on the topic of its `type`. */
export type SensorEvent = FlowEvent | DnsEvent | TlsEvent | HttpEvent;

/** Event type → topic suffix. Topic name is `<prefix>.<suffix>`. */
export const TOPIC_SUFFIX = {
  flow: 'flows',
  dns: 'dns',
  tls: 'tls',
  http: 'http',
  alert: 'alerts',
  trigger: 'triggers',
  stats: 'stats',
} as const;

export type EventType = keyof typeof TOPIC_SUFFIX;

export const DEFAULT_TOPIC_PREFIX = 'damselfly';

export function topicFor(type: EventType, prefix: string = DEFAULT_TOPIC_PREFIX): string {
  return `${prefix}.${TOPIC_SUFFIX[type]}`;
}

/** Partition/ordering key of an event: flow id for flow and L7 events, host for triggers. */
export function eventKey(e: { type: string; flowid?: string; hosts?: string[] }): string {
  if (e.type === 'trigger' && e.hosts && e.hosts.length > 0) return e.hosts[0]!;
  return e.flowid ?? '';
}

// ---- L7 and alert events (ARCHITECTURE "Events"). Addresses/ports are those of the flow. ----

/** Fields every L7 event carries: the flow it belongs to and its endpoints. */
export interface L7EventBase extends EventEnvelope {
  flowid: string;
  community_id?: string;
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
}

export interface DnsAnswer {
  name: string;
  type: string;
  ttl: number;
  data: string;
}

export interface DnsEvent extends L7EventBase {
  type: 'dns';
  query: string;
  qtype: string;
  rcode: string;
  answers: DnsAnswer[];
}

export interface TlsEvent extends L7EventBase {
  type: 'tls';
  sni: string;
  alpn: string;
  version: string;
  cipher: string;
  ja3: string;
  ja3s: string;
  ja4: string;
}

export interface HttpEvent extends L7EventBase {
  type: 'http';
  method: string;
  host: string;
  uri: string;
  user_agent: string;
  status: number;
}

export type AlertSeverity = 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';

export interface AlertEvent extends EventEnvelope {
  type: 'alert';
  id: string;
  analyzer: string;
  /** 0..1 */
  score: number;
  severity: AlertSeverity;
  reason: string;
  factors: Record<string, unknown>;
  /** Suppression/dedup key within the analyzer (defaults to reason + addresses). */
  key: string;
  flowid: string;
  community_id: string;
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
}

/** Stats of one analyzer on `<prefix>.stats` (a StatsEvent with the analyzer's state and last error). */
export interface AnalyzerStatsEvent extends StatsEvent {
  analyzer: string;
  state: string;
  error?: string;
}
