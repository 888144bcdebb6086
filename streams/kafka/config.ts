// The `kafka:` section of the YAML config, declared as data (streams/config.ts validates it:
// unknown keys are errors, all problems reported with their path). The CLI merges it into its
// PROCESS_CONFIG (bin/config-schema.ts) and maps flags onto it: --kafka → kafka.brokers, --topic-prefix →
// transport.topic_prefix, --group → kafka.group. kafkaOptionsFromConfig() turns it into
// KafkaTransportOptions.
import { readFileSync } from 'node:fs';
import type { Config, SectionSpec } from '../config.js';
import { UserError } from '../errors.js';
import type { CompressionName, KafkaFormat, KafkaTransportOptions, SaslMechanism } from './options.js';
import { COMPRESSION_NAMES, KAFKA_DEFAULTS, parseBrokers } from './options.js';

const D = KAFKA_DEFAULTS;
const MIB = 1024 * 1024;

export const KAFKA_CONFIG_SECTION: SectionSpec = {
  brokers: { type: 'string', description: 'Bootstrap brokers, host:port[,host:port...]; set = use Kafka instead of the embedded transport', example: '127.0.0.1:9092' },
  group: { type: 'string', description: 'Consumer group of this process (default: the component name, e.g. sink.parquet)', example: 'sink.parquet' },
  client_id: { type: 'string', default: D.clientId, description: 'Client id reported to the brokers' },
  partitions: { type: 'int', default: D.partitions, min: 1, description: 'Partitions of topics created when missing' },
  replication: { type: 'int', default: D.replicationFactor, min: 1, description: 'Replication factor of topics created when missing' },
  acks: { type: 'string', default: D.acks === -1 ? 'all' : String(D.acks), enum: ['all', '1', '0'], description: 'Producer acks' },
  compression: { type: 'string', default: D.compression, enum: COMPRESSION_NAMES, description: 'Batch compression' },
  format: { type: 'string', default: D.format, enum: ['arrow', 'json'], description: 'Framing of published events: arrow (one Arrow IPC message per partition of a batch) or json (one JSON message per event); consumers read both' },
  max_message_kb: { type: 'int', default: D.maxMessageBytes / 1024, min: 16, description: 'Largest message the producer writes (KiB, uncompressed); Arrow messages are split above it' },
  max_buffer_mb: { type: 'int', default: D.maxBufferBytes / MIB, min: 1, description: 'Producer buffer bound (MiB); beyond it events are shed after shed_after_ms' },
  shed_after_ms: { type: 'int', default: D.shedAfterMs, min: 0, description: 'How long publishing waits for buffer room before shedding (counted, logged)' },
  connect_timeout_s: { type: 'int', default: Number.isFinite(D.connectTimeoutMs) ? D.connectTimeoutMs / 1000 : 0, min: 0, description: 'Give up reaching the brokers at start after this long, with one error line (0: retry forever)' },
  sasl_mechanism: { type: 'string', enum: ['plain', 'scram-sha-256', 'scram-sha-512'], description: 'SASL mechanism (with sasl_username / sasl_password)', example: 'scram-sha-512' },
  sasl_username: { type: 'string', description: 'SASL user name', example: 'damselfly' },
  sasl_password: { type: 'string', description: 'SASL password (or use the DAMSELFLY_KAFKA_PASSWORD environment variable)', example: 'change-me' },
  tls: { type: 'bool', default: false, description: 'Connect with TLS' },
  tls_ca: { type: 'string', description: 'PEM file of the CA that signed the brokers\' certificates (default: system CAs)', example: '/etc/damselfly/kafka-ca.pem' },
};

/** KafkaTransportOptions from a validated config (section `kafka`, plus transport.topic_prefix). */
export function kafkaOptionsFromConfig(cfg: Config): KafkaTransportOptions | undefined {
  const k = cfg.kafka ?? {};
  if (k.brokers === undefined || k.brokers === '') return undefined;
  const o: KafkaTransportOptions = {
    brokers: parseBrokers(String(k.brokers)),
    clientId: String(k.client_id ?? D.clientId),
    partitions: Number(k.partitions ?? D.partitions),
    replicationFactor: Number(k.replication ?? D.replicationFactor),
    acks: k.acks === '0' ? 0 : k.acks === '1' ? 1 : -1,
    compression: (k.compression ?? D.compression) as CompressionName,
    format: (k.format ?? D.format) as KafkaFormat,
    maxMessageBytes: k.max_message_kb !== undefined ? Number(k.max_message_kb) * 1024 : D.maxMessageBytes,
    maxBufferBytes: k.max_buffer_mb !== undefined ? Number(k.max_buffer_mb) * MIB : D.maxBufferBytes,
    shedAfterMs: Number(k.shed_after_ms ?? D.shedAfterMs),
    connectTimeoutMs: Number(k.connect_timeout_s ?? 0) > 0 ? Number(k.connect_timeout_s) * 1000 : Infinity,
  };
  if (k.sasl_mechanism !== undefined) {
    const password = k.sasl_password !== undefined ? String(k.sasl_password) : process.env.DAMSELFLY_KAFKA_PASSWORD;
    if (k.sasl_username === undefined || password === undefined) {
      throw new UserError('kafka.sasl_mechanism needs kafka.sasl_username and kafka.sasl_password (or DAMSELFLY_KAFKA_PASSWORD)');
    }
    o.sasl = { mechanism: String(k.sasl_mechanism) as SaslMechanism, username: String(k.sasl_username), password };
  }
  if (k.tls === true || k.tls_ca !== undefined) {
    if (k.tls_ca !== undefined) {
      let ca: string;
      try {
        ca = readFileSync(String(k.tls_ca), 'utf8');
      } catch (e) {
        throw new UserError(`kafka.tls_ca: cannot read ${String(k.tls_ca)}: ${(e as Error).message}`);
      }
      o.ssl = { ca: [ca] };
    } else {
      o.ssl = true;
    }
  }
  return o;
}
