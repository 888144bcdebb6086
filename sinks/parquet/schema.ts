// The lake's Parquet schemas by tier (the seed's schema reference): Community v1 (44 fields + our
// community_id), Basic v1 (54: + GeoIP country/city/ASN, nDPI labels), Professional v2 (60: + AS
// organization, nDPI fingerprints), Enterprise v2 (63: + anomaly score, severity, factors). Each
// tier lists the seed's fields in the seed's order and ends with community_id. Also the mapping to
// DuckDB/Parquet types, the file layout and the key/value metadata.

import { ANOMALY_FIELDS, COMMUNITY_FIELDS, GEO_FIELDS, GEO_ORG_FIELDS, NDPI_FIELDS, type FieldSpec, type FieldType } from '../../streams/schema.js';

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

export const TIERS = ['community', 'basic', 'professional', 'enterprise'] as const;
export type Tier = (typeof TIERS)[number];

const byName = (list: readonly FieldSpec[], names: readonly string[]): FieldSpec[] =>
  names.map((n) => {
    const f = list.find((x) => x.name === n);
    if (!f) throw new Error(`tier schema: no field ${n}`);
    return f;
  });

const SEED_COMMUNITY = COMMUNITY_FIELDS.filter((f) => f.name !== 'community_id'); // the seed's 44
const COMMUNITY_ID = byName(COMMUNITY_FIELDS, ['community_id']);
const BASIC_ADD = [...GEO_FIELDS, ...byName(NDPI_FIELDS, ['ndpi_appid', 'ndpi_category', 'ndpi_risk_score', 'ndpi_risk_severity'])];
const PRO_ADD = [...GEO_ORG_FIELDS, ...byName(NDPI_FIELDS, ['ndpi_ja4', 'ndpi_ja3s', 'ndpi_tcp_fp', 'ndpi_fp'])];

export interface TierSchema {
  readonly tier: Tier;
  /** Schema version: 1 (Community, Basic) or 2 (Professional, Enterprise); the folder v1/v2 and the `version` column. */
  readonly version: 1 | 2;
  /** Columns in file order: the seed's fields, then community_id. */
  readonly columns: readonly FieldSpec[];
  /** Whether file names carry the observation (the seed: Professional and Enterprise). */
  readonly namedByObservation: boolean;
}

export const TIER_SCHEMAS: Readonly<Record<Tier, TierSchema>> = {
  community: { tier: 'community', version: 1, columns: [...SEED_COMMUNITY, ...COMMUNITY_ID], namedByObservation: false },
  basic: { tier: 'basic', version: 1, columns: [...SEED_COMMUNITY, ...BASIC_ADD, ...COMMUNITY_ID], namedByObservation: false },
  professional: { tier: 'professional', version: 2, columns: [...SEED_COMMUNITY, ...BASIC_ADD, ...PRO_ADD, ...COMMUNITY_ID], namedByObservation: true },
  enterprise: { tier: 'enterprise', version: 2, columns: [...SEED_COMMUNITY, ...BASIC_ADD, ...PRO_ADD, ...ANOMALY_FIELDS, ...COMMUNITY_ID], namedByObservation: true },
};

/** `output.parquet_schema` values: the tier names, and the seed's older names (simple, extended). */
export const PARQUET_SCHEMA_NAMES: Readonly<Record<string, Tier>> = {
  community: 'community', basic: 'basic', professional: 'professional', enterprise: 'enterprise',
  simple: 'community', extended: 'professional',
};

/** The Community schema (the tier every sink can write). */
export const COLUMNS = TIER_SCHEMAS.community.columns;
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
  /** <observation>/v<N>/year=YYYY/month=MM/day=DD */
  partition: string;
  /** <prefix>-v1-YYYYMMDD-HHMMSS (v1) or <prefix>-<observation>-v2-YYYYMMDD-HHMMSS (no extension, no collision suffix) */
  stem: string;
}

/** Partition and file stem from the flow stime (µs, UTC) of the first row of a file, as the seed names them. */
export function fileNameFor(prefix: string, observation: string, stimeUs: number, schema: TierSchema = TIER_SCHEMAS.community): FileName {
  const d = new Date(Math.floor(stimeUs / 1000));
  const Y = pad(d.getUTCFullYear(), 4);
  const M = pad(d.getUTCMonth() + 1, 2);
  const D = pad(d.getUTCDate(), 2);
  const hms = pad(d.getUTCHours(), 2) + pad(d.getUTCMinutes(), 2) + pad(d.getUTCSeconds(), 2);
  const v = `v${schema.version}`;
  return {
    partition: `${observation}/${v}/year=${Y}/month=${M}/day=${D}`,
    stem: `${prefix}-${schema.namedByObservation ? `${observation}-` : ''}${v}-${Y}${M}${D}-${hms}`,
  };
}

/** The damselfly.* key/value metadata of a file: provenance, and each column's unit and meaning. */
export function kvMetadata(observation: string, rows: number, createdAt: Date, schema: TierSchema = TIER_SCHEMAS.community): [string, string][] {
  return [
    ['damselfly.observation', observation],
    ['damselfly.tier', schema.tier],
    ['damselfly.schema_version', String(schema.version)],
    ['damselfly.software', SOFTWARE],
    ['damselfly.rows', String(rows)],
    ['damselfly.created_at', createdAt.toISOString()],
    ['damselfly.fields', JSON.stringify(Object.fromEntries(schema.columns.map((c) => [c.name, c.description])))],
  ];
}
