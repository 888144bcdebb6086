export { ParquetSink } from './writer.js';
export type { ParquetSinkStats } from './writer.js';
export { PARQUET_SINK_DEFAULTS, resolveParquetSinkOptions } from './config.js';
export type { ParquetSinkOptions, ResolvedParquetSinkOptions } from './config.js';
export { COLUMN_NAMES, SCHEMA_VERSION, SQL_TYPE, TIER, fileNameFor, utcDay } from './schema.js';
