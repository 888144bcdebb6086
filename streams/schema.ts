// The events as analyzers and JSON consumers see them: one TypeScript interface per event type.
// Their columns (names, types, order) are declared once in events/table.ts, from which batches,
// views, Arrow schemas and the native column list are derived. Field names follow the seeds'
// Parquet schema (Rockfish Community tier) so users' queries carry over unchanged.

export { EVENT_SCHEMA_VERSION, DEFAULT_TOPIC_PREFIX, topicFor, typeOfTopic, type EventType } from './events/table.js';
export { ANOMALY_FIELDS, COMMUNITY_FIELDS, GEO_FIELDS, GEO_ORG_FIELDS, NDPI_FIELDS, QUIC_FIELDS, type FieldSpec, type FieldType } from './events/fields.js';
import type { EventType } from './events/table.js';

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
  /** JA4 of the flow's (last) ClientHello: TLS, QUIC and DTLS flows (end records only). */
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
  /** QUIC version of the client's Initial (end records of QUIC flows only). */
  quic_version?: number;
  /** Destination connection id of the client's first Initial, lowercase hex (QUIC flows only). */
  quic_dcid?: string;
  /** Source connection id of the client's first Initial, lowercase hex (QUIC flows only). */
  quic_scid?: string;
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
  /** Negotiated TLS version (TLSv1.2, TLSv1.3, ...). */
  tls_version: string;
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

/** The event interface of each event type. */
export interface EventMap {
  flow: FlowEvent;
  dns: DnsEvent;
  tls: TlsEvent;
  http: HttpEvent;
  alert: AlertEvent;
  trigger: TriggerEvent;
  stats: StatsEvent;
  control: ControlEvent;
}

export type EventOf<T extends EventType> = EventMap[T];

/** Start or stop recording the packets of hosts (`<prefix>.triggers`). */
export interface TriggerEvent extends EventEnvelope {
  type: 'trigger';
  action: 'add' | 'remove';
  hosts: string[];
  ttl_s: number;
  reason: string;
  alert_id: string;
}

/** A process begins or ends publishing (`<prefix>.control`, Kafka only). */
export interface ControlEvent extends EventEnvelope {
  type: 'control';
  producer: string;
  action: 'begin' | 'end';
  role: string;
  topics: string[];
  /** end: events published, by topic. */
  events?: Record<string, number>;
}
