// Options of the Kafka transport: every field with its default, in one place (KAFKA_DEFAULTS; the
// config schema in config.ts reads its defaults from there). The CLI maps `--kafka <brokers>`,
// `--topic-prefix`, `--group` onto these (see createKafkaTransport), and clientOptions() turns
// them into the connection options every @platformatic/kafka client of the transport shares.
import type { ConnectionOptions } from 'node:tls';
import { UserError } from '../errors.js';

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/** Batch compression; lz4 and zstd by liblz4/libzstd (compression.ts), gzip and snappy by @platformatic/kafka. */
export type CompressionName = 'lz4' | 'zstd' | 'gzip' | 'snappy' | 'none';

export const COMPRESSION_NAMES: readonly CompressionName[] = ['lz4', 'zstd', 'gzip', 'snappy', 'none'];

/**
 * How events travel: `arrow` = one Arrow IPC stream message per partition of a batch (fast,
 * columnar, read by pyarrow/DuckDB/Spark); `json` = one JSON message per event (for consumers that
 * only speak JSON). Consumers read both, whatever this says.
 */
export type KafkaFormat = 'arrow' | 'json';

export interface KafkaSaslOptions {
  mechanism: SaslMechanism;
  username: string;
  password: string;
}

export interface KafkaBackoffOptions {
  /** First delay (default 250 ms), doubled per attempt. */
  initialDelayMs?: number;
  /** Largest delay (default 5000 ms). */
  maxDelayMs?: number;
}

export interface KafkaTransportOptions {
  /** Bootstrap brokers, `host:port` each. */
  brokers: string[];
  /** Client id reported to the broker (default `damselfly`). */
  clientId?: string;
  /** Partitions of topics this transport creates (default 6). Existing topics are left alone. */
  partitions?: number;
  /** Replication factor of topics this transport creates (default 1). */
  replicationFactor?: number;
  /** Producer acks: -1 = all in-sync replicas (default), 1 = leader, 0 = none. */
  acks?: -1 | 0 | 1;
  /** Idempotent producer (default true; needs acks -1, forced off otherwise). */
  idempotent?: boolean;
  /** Batch compression (default lz4). */
  compression?: CompressionName;
  /** Framing of published events (default arrow). The control topic is always JSON. */
  format?: KafkaFormat;
  /**
   * Largest message value the producer writes (default 900 KiB, uncompressed): an Arrow message of
   * one partition's rows is split above it, and one produce request holds at most this much per
   * partition, so the broker's default 1 MB limit holds whatever the compression.
   */
  maxMessageBytes?: number;
  /**
   * Most messages per produce request (default 2000). A JSON message is one event; an Arrow message
   * is one partition's share of a batch, so Arrow requests are bounded by bytes first.
   */
  sendBatchEvents?: number;
  /** How long an idle sender waits for more messages before sending (default 5 ms). */
  lingerMs?: number;
  /**
   * Memory bound of the producer buffer: encoded bytes of events accepted but not yet acked
   * (default 64 MiB). When it is full publish() waits (backpressure) up to `shedAfterMs`, then
   * sheds the batch: counted in stats (`shed`) and logged, never silent.
   */
  maxBufferBytes?: number;
  /** How long publish() waits for room before shedding (default 5000 ms; Infinity: never shed). */
  shedAfterMs?: number;
  /** TLS: true for system CAs, or node:tls options (ca, cert, key, servername, ...). */
  ssl?: boolean | ConnectionOptions;
  sasl?: KafkaSaslOptions;
  /** Backoff between attempts to reach the brokers / resend a failed request / reconnect a consumer. */
  backoff?: KafkaBackoffOptions;
  /** Give up reaching the brokers at start after this long (default 60 s; Infinity: keep retrying). */
  connectTimeoutMs?: number;
  /** Consumer session timeout (default 10000 ms): how fast a dead member's partitions move. */
  sessionTimeoutMs?: number;
  /** Consumer heartbeat interval (default 1000 ms). */
  heartbeatIntervalMs?: number;
  /** Largest batch handed to a handler (default 1024). */
  maxBatch?: number;
  /** Where a new group starts: earliest (default) or latest. A group with commits resumes from them. */
  startFrom?: 'earliest' | 'latest';
  /** close() waits at most this long for unsent events (default 30000 ms); the rest count as shed. */
  closeTimeoutMs?: number;
}

export type ResolvedKafkaTransportOptions = Required<Omit<KafkaTransportOptions, 'ssl' | 'sasl' | 'backoff'>> & {
  ssl?: boolean | ConnectionOptions;
  sasl?: KafkaSaslOptions;
  backoff: Required<KafkaBackoffOptions>;
};

export const KAFKA_DEFAULTS = {
  clientId: 'damselfly',
  partitions: 6,
  replicationFactor: 1,
  acks: -1,
  idempotent: true,
  compression: 'lz4',
  format: 'arrow',
  maxMessageBytes: 900 * 1024,
  sendBatchEvents: 2000,
  lingerMs: 5,
  maxBufferBytes: 64 * 1024 * 1024,
  shedAfterMs: 5000,
  connectTimeoutMs: 60_000,
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1000,
  maxBatch: 1024,
  startFrom: 'earliest',
  closeTimeoutMs: 30_000,
  backoff: { initialDelayMs: 250, maxDelayMs: 5000 },
} as const;

/** `a:1,b:2` → ['a:1', 'b:2'], checked; a bad list is a user error. */
export function parseBrokers(list: string | string[]): string[] {
  const items = (Array.isArray(list) ? list : list.split(',')).map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new UserError('--kafka needs at least one broker (host:port[,host:port...])');
  for (const b of items) {
    const m = /^(.+):(\d+)$/.exec(b);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new UserError(`--kafka: '${b}' is not host:port`);
  }
  return items;
}

export function resolveKafkaOptions(o: KafkaTransportOptions): ResolvedKafkaTransportOptions {
  const d = KAFKA_DEFAULTS;
  const acks = o.acks ?? d.acks;
  const r: ResolvedKafkaTransportOptions = {
    brokers: parseBrokers(o.brokers),
    clientId: o.clientId ?? d.clientId,
    partitions: o.partitions ?? d.partitions,
    replicationFactor: o.replicationFactor ?? d.replicationFactor,
    acks,
    idempotent: (o.idempotent ?? d.idempotent) && acks === -1,
    compression: o.compression ?? d.compression,
    format: o.format ?? d.format,
    maxMessageBytes: o.maxMessageBytes ?? d.maxMessageBytes,
    sendBatchEvents: o.sendBatchEvents ?? d.sendBatchEvents,
    lingerMs: o.lingerMs ?? d.lingerMs,
    maxBufferBytes: o.maxBufferBytes ?? d.maxBufferBytes,
    shedAfterMs: o.shedAfterMs ?? d.shedAfterMs,
    connectTimeoutMs: o.connectTimeoutMs ?? d.connectTimeoutMs,
    sessionTimeoutMs: o.sessionTimeoutMs ?? d.sessionTimeoutMs,
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? d.heartbeatIntervalMs,
    maxBatch: o.maxBatch ?? d.maxBatch,
    startFrom: o.startFrom ?? d.startFrom,
    closeTimeoutMs: o.closeTimeoutMs ?? d.closeTimeoutMs,
    backoff: { ...d.backoff, ...o.backoff },
  };
  if (o.ssl !== undefined) r.ssl = o.ssl;
  if (o.sasl !== undefined) r.sasl = o.sasl;
  const problems: string[] = [];
  if (!Number.isInteger(r.partitions) || r.partitions < 1) problems.push('partitions: must be > 0');
  if (!Number.isInteger(r.replicationFactor) || r.replicationFactor < 1) problems.push('replicationFactor: must be > 0');
  if (![-1, 0, 1].includes(r.acks)) problems.push('acks: must be -1, 0 or 1');
  if (!COMPRESSION_NAMES.includes(r.compression)) problems.push(`compression: must be one of ${COMPRESSION_NAMES.join(', ')}`);
  if (r.format !== 'arrow' && r.format !== 'json') problems.push('format: must be arrow or json');
  if (!(r.maxMessageBytes >= 16 * 1024)) problems.push('maxMessageBytes: must be >= 16384');
  if (r.sendBatchEvents < 1) problems.push('sendBatchEvents: must be > 0');
  if (r.maxBufferBytes < 1024) problems.push('maxBufferBytes: must be >= 1024');
  if (r.maxBatch < 1) problems.push('maxBatch: must be > 0');
  if (r.startFrom !== 'earliest' && r.startFrom !== 'latest') problems.push('startFrom: must be earliest or latest');
  if (r.sasl && !['plain', 'scram-sha-256', 'scram-sha-512'].includes(r.sasl.mechanism)) {
    problems.push('sasl.mechanism: must be plain, scram-sha-256 or scram-sha-512');
  }
  if (problems.length > 0) throw new UserError(`invalid kafka options: ${problems.join('; ')}`);
  return r;
}

/** Connection options shared by the transport's clients (platformatic BaseOptions subset). */
export interface ClientConnectionOptions {
  clientId: string;
  bootstrapBrokers: string[];
  connectTimeout: number;
  requestTimeout: number;
  tls?: ConnectionOptions;
  sasl?: { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: string };
}

const SASL_NAMES = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const;

/** What every client of the transport connects with; `role` suffixes the client id (admin, producer, ...). */
export function clientOptions(o: ResolvedKafkaTransportOptions, role: string): ClientConnectionOptions {
  const c: ClientConnectionOptions = {
    clientId: `${o.clientId}-${role}`,
    bootstrapBrokers: o.brokers,
    connectTimeout: 3000,
    // A produce or fetch request the broker does not answer (frozen broker) fails after this; the
    // producer then sends the same request again.
    requestTimeout: 30_000,
  };
  if (o.ssl !== undefined && o.ssl !== false) c.tls = o.ssl === true ? {} : o.ssl;
  if (o.sasl) c.sasl = { mechanism: SASL_NAMES[o.sasl.mechanism], username: o.sasl.username, password: o.sasl.password };
  return c;
}
