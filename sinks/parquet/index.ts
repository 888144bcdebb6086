export { ParquetSink } from './writer.js';
export type { ParquetSinkStats } from './writer.js';
export { PARQUET_SINK_DEFAULTS, resolveParquetSinkOptions } from './config.js';
export type { ParquetSinkOptions, ResolvedParquetSinkOptions } from './config.js';
export { COLUMN_NAMES, SQL_TYPE, TIERS, TIER_SCHEMAS, PARQUET_SCHEMA_NAMES, fileNameFor, utcDay, type Tier, type TierSchema } from './schema.js';
