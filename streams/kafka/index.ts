// Public surface of the Kafka transport.
import { DEFAULT_TOPIC_PREFIX } from '../events/table.js';
import { KafkaTransport } from './kafka-transport.js';
import { parseBrokers, type KafkaTransportOptions } from './options.js';

export { KafkaTransport } from './kafka-transport.js';
export type { KafkaTopicStats, KafkaTransportStats } from './kafka-transport.js';
export { groupIdFor } from './admin.js';
export { batchOrigin } from './consumer.js';
export type { ControlPosition, KafkaGroupStats, KafkaSubscribeOptions } from './consumer.js';
export type { Announcement } from './control.js';
export { ARROW_CONTENT_TYPE, HEADER, JSON_CONTENT_TYPE, MessageIds, decodeMessage, encodeMessages } from './framing.js';
export type { Decoded, OutMessage } from './framing.js';
export { keyOf, murmur2, murmur2String, partitionOfKey, partitionsOf } from './partition.js';
export { COMPRESSION_NAMES, KAFKA_DEFAULTS, parseBrokers, resolveKafkaOptions } from './options.js';
export type {
  CompressionName, KafkaFormat, KafkaTransportOptions, KafkaSaslOptions, SaslMechanism, ResolvedKafkaTransportOptions,
} from './options.js';
export { KafkaAuthError, KafkaUnreachableError } from './errors.js';
export { KAFKA_CONFIG_SECTION, kafkaOptionsFromConfig } from './config.js';

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
