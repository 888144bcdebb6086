// The config of a damselfly process: every module's sections, composed. Each module owns its keys
// and their defaults (sensor/src/config.ts, sinks/parquet/config.ts, sinks/s3/config.ts, sinks/alerts/config.ts,
// analyzers/runtime/options.ts, streams/transport-config.ts, streams/kafka/config.ts,
// streams/log.ts); the `output` section of the seeds' YAML holds keys of three of them. The
// pipeline's own section says how a stage ends.
import type { ConfigSchema, SectionSpec } from '../streams/config.js';
import { SENSOR_CONFIG, SENSOR_OUTPUT_KEYS } from '../sensor/src/config.js';
import { PARQUET_OUTPUT_KEYS } from '../sinks/parquet/config.js';
import { ALERTS_CONFIG_SECTION } from '../sinks/alerts/config.js';
import { S3_CONFIG_SECTION } from '../sinks/s3/config.js';
import { JSONL_OUTPUT_KEYS } from '../sinks/jsonl/index.js';
import { ANALYZERS_CONFIG_SECTION } from '../analyzers/runtime/options.js';
import { TRANSPORT_CONFIG_SECTION } from '../streams/transport-config.js';
import { KAFKA_CONFIG_SECTION } from '../streams/kafka/config.js';
import { LOG_OUTPUT_KEYS } from '../streams/log.js';
import { GEOIP_CONFIG_SECTION } from '../enrich/geoip.js';
import { LICENSE_CONFIG_SECTION } from '../license/license.js';

export const PIPELINE_CONFIG_SECTION: SectionSpec = {
  until_end: {
    type: 'bool', default: false,
    description: 'A stage without a capture of its own (analyze, sink) exits once every producer of its input that was running or started after it has ended and its input is drained, instead of running until stopped',
  },
};

export const PROCESS_CONFIG: ConfigSchema = {
  ...SENSOR_CONFIG,
  output: { ...PARQUET_OUTPUT_KEYS, ...SENSOR_OUTPUT_KEYS, ...JSONL_OUTPUT_KEYS, ...LOG_OUTPUT_KEYS },
  analyzers: ANALYZERS_CONFIG_SECTION,
  s3: S3_CONFIG_SECTION,
  alerts: ALERTS_CONFIG_SECTION,
  geoip: GEOIP_CONFIG_SECTION,
  license: LICENSE_CONFIG_SECTION,
  transport: TRANSPORT_CONFIG_SECTION,
  kafka: KAFKA_CONFIG_SECTION,
  pipeline: PIPELINE_CONFIG_SECTION,
};
