// The config of a damselfly process: the sensor's sections, the pipeline's own (analyzers, alerts,
// transport) and the Kafka section of the streams module. Composed here so the sensor module never
// learns about Kafka or analyzers.
import type { ConfigSchema } from '../streams/config.js';
import { SENSOR_CONFIG } from '../sensor/src/config.js';
import { KAFKA_CONFIG_SECTION } from '../streams/kafka/config.js';

export const PROCESS_CONFIG: ConfigSchema = {
  ...SENSOR_CONFIG,
  analyzers: {
    builtins: { type: 'bool', default: true, description: 'Run the built-in analyzers (dga, threat-feed, ...)' },
    disable: { type: 'string', default: '', description: 'Comma-separated built-in analyzers to turn off', example: 'dga' },
    dir: { type: 'string', description: 'Folder of user analyzers (one .ts file or folder per analyzer)' },
    config_dir: { type: 'string', description: 'Folder of <analyzer>.yaml files overriding analyzers\' own configs (e.g. threat-feed.yaml listing your feeds)' },
  },
  alerts: {
    file: { type: 'string', description: 'Append alerts to this JSONL file' },
    stdout: { type: 'bool', default: false, description: 'Print alerts on stdout' },
    webhook_url: { type: 'string', description: 'POST alerts to this HTTP(S) URL (retried with backoff)' },
    suppress_seconds: { type: 'int', default: 60, min: 0, description: 'Suppress repeats of an analyzer+key within this window (event time)' },
  },
  transport: {
    queue_events: { type: 'int', default: 65536, min: 1, description: 'Embedded transport: max queued events per topic and group' },
    topic_prefix: { type: 'string', default: 'damselfly', description: 'Topic name prefix' },
  },
  kafka: KAFKA_CONFIG_SECTION,
};
