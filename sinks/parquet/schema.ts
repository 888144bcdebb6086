// The community-tier (v1) Parquet schema: COMMUNITY_FIELDS in order, mapped to DuckDB/Parquet types,
// and the file layout and key/value metadata.

import { COMMUNITY_FIELDS, type FieldType } from '../../streams/schema.js';

export const TIER = 'community';
export const SCHEMA_VERSION = 1;
export const SOFTWARE = 'damselfly 0.1.0';
/** The footer's created_by, in the form readers parse ("<app> version <x.y.z>"). */
export const CREATED_BY = 'damselfly version 0.1.0';

export const SQL_TYPE: Readonly<Record<FieldType, string>> = {
  UInt8: 'UTINYINT',
  UInt16: 'USMALLINT',
  UInt32: 'UINTEGER',
  UInt64: 'UBIGINT',
  Int32: 'INTEGER',
  Float32: 'FLOAT',
  String: 'VARCHAR',
  Timestamp: 'TIMESTAMP', // µs, no time zone: values are UTC
};


export const COLUMNS = COMMUNITY_FIELDS;
export const COLUMN_NAMES: readonly string[] = COLUMNS.map((f) => f.name);

const US_PER_DAY = 86_400_000_000;

/** UTC day number of a µs timestamp (days since epoch). */
export function utcDay(us: number): number {
  return Math.floor(us / US_PER_DAY);
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

export interface FileName {
  /** <observation>/v1/year=YYYY/month=MM/day=DD */
  partition: string;
  /** <prefix>-<observation>-v1-YYYYMMDD-HHMMSS (no extension, no collision suffix) */
  stem: string;
}

/** Partition and file stem from the flow stime (µs, UTC) of the first row of a file. */
export function fileNameFor(prefix: string, observation: string, stimeUs: number): FileName {
  const d = new Date(Math.floor(stimeUs / 1000));
  const Y = pad(d.getUTCFullYear(), 4);
  const M = pad(d.getUTCMonth() + 1, 2);
  const D = pad(d.getUTCDate(), 2);
  const hms = pad(d.getUTCHours(), 2) + pad(d.getUTCMinutes(), 2) + pad(d.getUTCSeconds(), 2);
  return {
    partition: `${observation}/v${SCHEMA_VERSION}/year=${Y}/month=${M}/day=${D}`,
    stem: `${prefix}-${observation}-v${SCHEMA_VERSION}-${Y}${M}${D}-${hms}`,
  };
}

/** The damselfly.* key/value metadata of a file. */
export function kvMetadata(observation: string, rows: number, createdAt: Date): [string, string][] {
  return [
    ['damselfly.observation', observation],
    ['damselfly.tier', TIER],
    ['damselfly.schema_version', String(SCHEMA_VERSION)],
    ['damselfly.software', SOFTWARE],
    ['damselfly.rows', String(rows)],
    ['damselfly.created_at', createdAt.toISOString()],
  ];
}
