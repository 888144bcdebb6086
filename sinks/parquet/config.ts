// Options of the community-tier Parquet sink: its keys of the `output` section (the seeds' names:
// output.parquet_dir, parquet_batch_size, parquet_file_prefix, parquet_schema,
// hive_boundary_flush), their defaults (written once, here), the checks, and the typed resolver
// from a validated config.
import { UserError } from '../../streams/errors.js';
import { num, str, type Config, type SectionSpec } from '../../streams/config.js';
import { PARQUET_SCHEMA_NAMES, type Tier } from './schema.js';
import { geoIpOptionsFromConfig, type GeoIpOptions } from '../../enrich/geoip.js';
import { loadLicense, type License } from '../../license/license.js';

/** The lake's datasets and the event type each holds: flows (tiered), and one row per DNS/TLS/HTTP event and alert. */
export const DATASET_TYPE = { flows: 'flow', dns: 'dns', tls: 'tls', http: 'http', alerts: 'alert' } as const;
export type Dataset = keyof typeof DATASET_TYPE;
export const DATASETS = Object.keys(DATASET_TYPE) as Dataset[];

/** `output.parquet_datasets` as a checked list (a UserError names an unknown one). */
export function parseDatasets(v: string): Dataset[] {
  const list = v.split(',').map((x) => x.trim()).filter((x) => x !== '');
  const bad = list.filter((x) => !(DATASETS as string[]).includes(x));
  if (bad.length > 0 || list.length === 0) throw new UserError(`parquet_datasets: ${bad.length ? `unknown ${bad.join(', ')}` : 'empty'} (choose from ${DATASETS.join(', ')})`, { code: 'CONFIG' });
  return DATASETS.filter((d) => list.includes(d));
}

export function lakeDatasets(c: Config): Dataset[] {
  return parseDatasets(str(c, 'output', 'parquet_datasets') ?? DATASETS.join(','));
}

/**
 * Where finished files go next (the S3 spool, sinks/s3): add() resolves once the file is durable
 * there; close() drains with a bound and says what is left for the next start.
 */
export interface FileShipper {
  add(file: string): Promise<void>;
  close(o: { timeoutMs: number }): Promise<{ pending: number; uploaded: number; timedOut: boolean; spoolDir: string }>;
  stats(): { uploaded: number; pending: number; errors: number; failed: number };
}

export interface ParquetSinkOptions {
  /** Root directory (`parquet_dir`); files go to <dir>/<observation>/v1/year=/month=/day=/. */
  dir: string;
  /** Observation domain name (sensor name); one path component. */
  observation: string;
  /** Rows per file at most (`parquet_batch_size`, default 1,000,000). */
  batchSize?: number;
  /** File name prefix (`parquet_file_prefix`, default 'damselfly'). */
  prefix?: string;
  /**
   * How many (flowid, seq) keys the dedup filter remembers: at least dedupCapacity/2 of the most
   * recent, at most dedupCapacity (default 2,000,000 ≈ 150-250 MB worst case with 36-char flow ids).
   * 0 disables deduplication.
   */
  dedupCapacity?: number;
  /** Seconds after which a file that got rows is closed even if not full (`parquet_flush_interval`; 0: only when full or at close). */
  flushIntervalS?: number;
  /** Datasets written (`parquet_datasets`; default all): batches of other types are received and not written. */
  datasets?: Dataset[];
  /** Schema tier (`parquet_schema`; default community). */
  tier?: Tier;
  /** GeoIP databases for the Basic+ columns (the `geoip` section); without them those columns are NULL. */
  geoip?: GeoIpOptions;
  /** The checked license: caps the tier and goes into every file's signed metadata. */
  license?: License;
  /** Signing key file (`license.signing_key`); unset: the default key, created on first use. */
  signingKey?: string;
  /** Write files without the provenance signature (tests of the writer alone). */
  unsigned?: boolean;
  /** Ships every finished file (S3 upload through its spool). */
  shipper?: FileShipper;
}

export interface ResolvedParquetSinkOptions {
  dir: string;
  observation: string;
  batchSize: number;
  prefix: string;
  dedupCapacity: number;
  flushIntervalS: number;
  datasets: Dataset[];
  tier: Tier;
  geoip?: GeoIpOptions;
  license?: License;
  signingKey?: string;
  unsigned: boolean;
  shipper?: FileShipper;
}

export const PARQUET_SINK_DEFAULTS = {
  batchSize: 1_000_000,
  prefix: 'damselfly',
  dedupCapacity: 2_000_000,
  flushIntervalS: 60,
} as const;

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Apply defaults and check; every problem is reported at once, as a user error. */
export function resolveParquetSinkOptions(o: ParquetSinkOptions): ResolvedParquetSinkOptions {
  const r: ResolvedParquetSinkOptions = {
    dir: o.dir,
    observation: o.observation,
    batchSize: o.batchSize ?? PARQUET_SINK_DEFAULTS.batchSize,
    prefix: o.prefix ?? PARQUET_SINK_DEFAULTS.prefix,
    dedupCapacity: o.dedupCapacity ?? PARQUET_SINK_DEFAULTS.dedupCapacity,
    flushIntervalS: o.flushIntervalS ?? PARQUET_SINK_DEFAULTS.flushIntervalS,
    datasets: o.datasets ?? DATASETS,
    tier: o.tier ?? 'community',
    ...(o.geoip ? { geoip: o.geoip } : {}),
    ...(o.license ? { license: o.license } : {}),
    ...(o.signingKey ? { signingKey: o.signingKey } : {}),
    unsigned: o.unsigned ?? false,
    ...(o.shipper ? { shipper: o.shipper } : {}),
  };
  const problems: string[] = [];
  if (typeof r.dir !== 'string' || r.dir === '') problems.push('parquet_dir: must be a non-empty path');
  if (typeof r.observation !== 'string' || !NAME_RE.test(r.observation)) {
    problems.push(`observation: must be letters, digits, '.', '_' or '-' (got '${String(r.observation)}')`);
  }
  if (!Number.isInteger(r.batchSize) || r.batchSize < 1) problems.push(`parquet_batch_size: must be an integer > 0 (got ${r.batchSize})`);
  if (typeof r.prefix !== 'string' || !NAME_RE.test(r.prefix)) {
    problems.push(`parquet_file_prefix: must be letters, digits, '.', '_' or '-' (got '${String(r.prefix)}')`);
  }
  if (!Number.isFinite(r.flushIntervalS) || r.flushIntervalS < 0) problems.push(`parquet_flush_interval: must be a number of seconds >= 0 (got ${r.flushIntervalS})`);
  if (!Number.isInteger(r.dedupCapacity) || r.dedupCapacity < 0) {
    problems.push(`dedup_capacity: must be an integer >= 0 (got ${r.dedupCapacity})`);
  }
  if (problems.length > 0) throw new UserError(`parquet sink: ${problems.join('; ')}`, { code: 'CONFIG' });
  return r;
}

/** The Parquet sink's keys of the `output` section. */
export const PARQUET_OUTPUT_KEYS: SectionSpec = {
  parquet_dir: { type: 'string', description: 'Output directory for Parquet files (the Parquet sink runs when it is set)', example: '/var/lib/damselfly/flows' },
  parquet_batch_size: { type: 'int', default: PARQUET_SINK_DEFAULTS.batchSize, min: 1, description: 'Max flows per file before rotation' },
  parquet_file_prefix: { type: 'string', default: PARQUET_SINK_DEFAULTS.prefix, description: 'Filename prefix' },
  parquet_datasets: {
    type: 'string', default: DATASETS.join(','),
    description: 'Datasets of the lake, comma separated: flows (the tiered flow records), dns, tls, http (one row per event, joined to flows by flowid/community_id), alerts',
  },
  parquet_flush_interval: {
    type: 'number', default: PARQUET_SINK_DEFAULTS.flushIntervalS, min: 0,
    description: 'Seconds after its first row at which a file is closed even if not full, so a quiet sensor\'s flows reach the lake (0: only when full, at a day boundary or at the end)',
  },
  parquet_schema: {
    type: 'string', default: 'community', enum: Object.keys(PARQUET_SCHEMA_NAMES),
    description: 'Schema tier: community (v1, 45 columns), basic (v1, 55: + GeoIP country/city/ASN, nDPI labels), professional (v2, 61: + AS organization, nDPI fingerprints), enterprise (v2, 64: + anomaly score/severity/factors); simple = community, extended = professional',
  },
  hive_boundary_flush: { type: 'bool', default: true, description: 'Split files at UTC day boundaries (always on: hive partitions never mix days)' },
};

/**
 * The sink's options from a validated config; undefined when output.parquet_dir is not set.
 * `observation` (output.observation) names the files of rows that carry no observation of their own.
 */
export function parquetSinkOptionsFromConfig(c: Config): ParquetSinkOptions | undefined {
  const dir = str(c, 'output', 'parquet_dir');
  if (dir === undefined || dir === '') return undefined;
  const geo = geoIpOptionsFromConfig(c);
  const license = loadLicense(c); // refused licenses stop here, before anything runs
  return {
    dir,
    observation: str(c, 'output', 'observation') ?? 'damselfly',
    batchSize: num(c, 'output', 'parquet_batch_size'),
    flushIntervalS: num(c, 'output', 'parquet_flush_interval'),
    datasets: lakeDatasets(c),
    prefix: str(c, 'output', 'parquet_file_prefix') ?? PARQUET_SINK_DEFAULTS.prefix,
    tier: PARQUET_SCHEMA_NAMES[str(c, 'output', 'parquet_schema') ?? 'community'] ?? 'community',
    ...(geo ? { geoip: geo } : {}),
    ...(license ? { license } : {}),
    ...(str(c, 'license', 'signing_key') ? { signingKey: str(c, 'license', 'signing_key') } : {}),
  };
}
