// Public surface of the Kafka transport.
import { DEFAULT_TOPIC_PREFIX } from '../schema.js';
import { KafkaTransport } from './kafka-transport.js';
import { parseBrokers, type KafkaTransportOptions } from './options.js';

export { KafkaTransport, groupIdFor } from './kafka-transport.js';
export type { KafkaTopicStats, KafkaTransportStats } from './kafka-transport.js';
export { KAFKA_DEFAULTS, parseBrokers, resolveKafkaOptions } from './options.js';
export type { KafkaTransportOptions, KafkaSaslOptions, SaslMechanism, ResolvedKafkaTransportOptions } from './options.js';
export { KafkaAuthError, KafkaUnreachableError } from './errors.js';
export { COMPRESSION, registerCodecs } from './codecs.js';
export { KAFKA_CONFIG_SECTION, kafkaOptionsFromConfig } from './config.js';
export type { CompressionName } from './codecs.js';

export interface KafkaCliOptions extends Omit<KafkaTransportOptions, 'brokers'> {
  /** The `--kafka` value: `host:port[,host:port...]`. */
  kafka: string;
  /** `--topic-prefix` (default `damselfly`). */
  topicPrefix?: string;
}

/**
 * What the CLI calls for `--kafka <brokers>`: a KafkaTransport plus the topic prefix to pass to
 * topicFor(). Throws UserError on a malformed broker list.
 */
export function createKafkaTransport(opts: KafkaCliOptions): { transport: KafkaTransport; topicPrefix: string } {
  const { kafka, topicPrefix, ...rest } = opts;
  const transport = new KafkaTransport({ ...rest, brokers: parseBrokers(kafka) });
  return { transport, topicPrefix: topicPrefix ?? DEFAULT_TOPIC_PREFIX };
}
