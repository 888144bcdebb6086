// The `transport:` config section: the topic prefix every process of a deployment shares, and the
// embedded transport's bound. (Kafka has its own section, kafka/config.ts.)
import { num, str, type Config, type SectionSpec } from './config.js';
import { EMBEDDED_DEFAULTS, type EmbeddedTransportOptions } from './embedded/embedded-transport.js';
import { DEFAULT_TOPIC_PREFIX } from './events/table.js';

export const TRANSPORT_CONFIG_SECTION: SectionSpec = {
  queue_events: { type: 'int', default: EMBEDDED_DEFAULTS.maxQueued, min: 1, description: 'Embedded transport: max queued events per topic and group' },
  topic_prefix: { type: 'string', default: DEFAULT_TOPIC_PREFIX, description: 'Topic name prefix (<prefix>.flows, <prefix>.dns, ...)' },
};

export function topicPrefixFromConfig(c: Config): string {
  return str(c, 'transport', 'topic_prefix') ?? DEFAULT_TOPIC_PREFIX;
}

export function embeddedOptionsFromConfig(c: Config): EmbeddedTransportOptions {
  return { maxQueued: num(c, 'transport', 'queue_events') };
}
