// The config of a damselfly process: the sensor's sections plus the Kafka section of the
// streams module. Composed here so the sensor module never learns about Kafka.
import type { ConfigSchema } from '../streams/config.js';
import { CONFIG_SCHEMA as SENSOR_AND_PIPELINE } from '../sensor/src/config.js';
import { KAFKA_CONFIG_SECTION } from '../streams/kafka/config.js';

export const PROCESS_CONFIG: ConfigSchema = { ...SENSOR_AND_PIPELINE, kafka: KAFKA_CONFIG_SECTION };
