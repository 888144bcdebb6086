// Options of the S3 upload (the seeds' `s3` section: bucket, prefix, region, endpoint,
// force_path_style, hive_partitioning, delete_after_upload, aggregate, aggregate_hold_minutes,
// plus the local spool's and multipart's keys), their defaults (written once, here), the checks,
// and the typed resolver from a validated config. Credentials are not config keys: they come from
// the standard AWS chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE and the shared
// files, SSO, instance roles), so they never sit in a YAML file or a log.
import path from 'node:path';
import { UserError } from '../../streams/errors.js';
import { bool, num, str, type Config, type SectionSpec } from '../../streams/config.js';

const MiB = 1024 * 1024;

export const S3_DEFAULTS = {
  forcePathStyle: false,
  hivePartitioning: false,
  deleteAfterUpload: false,
  aggregate: false,
  aggregateHoldMinutes: 1,
  spoolMaxMb: 10_240,
  /** Files up to this size go in one PUT (read into memory); larger ones as multipart uploads. */
  multipartThresholdMb: 32,
  /** S3 and MinIO refuse parts under 5 MiB (except the last); 16 MiB keeps ~4 in flight at 64 MiB. */
  multipartPartMb: 16,
  /** Name of the spool directory under output.parquet_dir when s3.spool_dir is not set. */
  spoolDirName: '.s3-spool',
} as const;

/** The `s3` section. The upload runs when `bucket` is set. */
export const S3_CONFIG_SECTION: SectionSpec = {
  bucket: { type: 'string', description: 'S3 bucket name (the upload of finished Parquet files runs when it is set)', example: 'my-flow-bucket' },
  prefix: { type: 'string', description: 'S3 key prefix: objects are <prefix>/<path of the file relative to output.parquet_dir>', example: 'sensors/sensor-01' },
  region: { type: 'string', description: 'AWS region (required with a bucket; default: AWS_REGION from the environment)', example: 'us-east-1' },
  endpoint: { type: 'string', description: 'Custom endpoint (MinIO, DO Spaces, R2, ...); default: AWS for the region', example: 'https://nyc3.digitaloceanspaces.com' },
  force_path_style: { type: 'bool', default: S3_DEFAULTS.forcePathStyle, description: 'Use path-style URLs (required for MinIO)' },
  hive_partitioning: {
    type: 'bool', default: S3_DEFAULTS.hivePartitioning,
    description: 'Keys carry year=YYYY/month=MM/day=DD/ before the file name (taken from the local path when it has them, else from the UTC date in the file name, else from its mtime)',
  },
  delete_after_upload: {
    type: 'bool', default: S3_DEFAULTS.deleteAfterUpload,
    description: 'Delete local files after upload (else they stay where the writer put them; the spool keeps only a hard link or copy until the upload completes)',
  },
  aggregate: {
    type: 'bool', default: S3_DEFAULTS.aggregate,
    description: 'Merge the Parquet files of one minute (same object directory, minute of the date-time in the file name) into one object before upload',
  },
  aggregate_hold_minutes: { type: 'int', default: S3_DEFAULTS.aggregateHoldMinutes, min: 1, description: "Hold time before aggregating: a minute's files are merged and sent this long after the minute ends (and after its first file came)" },
  spool_dir: {
    type: 'string',
    description: `Local spool of files waiting for upload (durable across restarts); default <output.parquet_dir>/${S3_DEFAULTS.spoolDirName}, which keeps it on the files' filesystem so adding a file is a hard link, not a copy`,
    example: `/var/lib/damselfly/flows/${S3_DEFAULTS.spoolDirName}`,
  },
  spool_max_mb: {
    type: 'int', default: S3_DEFAULTS.spoolMaxMb, min: 1,
    description: 'Most MiB of files waiting in the spool; when full, new files wait (a warning is logged, nothing is dropped)',
  },
  multipart_threshold_mb: {
    type: 'int', default: S3_DEFAULTS.multipartThresholdMb, min: 5, max: 5 * 1024,
    description: 'Files larger than this (MiB) are sent as multipart uploads; smaller ones in one PUT',
  },
  multipart_part_mb: { type: 'int', default: S3_DEFAULTS.multipartPartMb, min: 5, max: 5 * 1024, description: 'Multipart part size (MiB)' },
};

/** Options of the S3 uploader and spool (what the config resolves to; tests set them directly). */
export interface S3Options {
  bucket: string;
  /** Key prefix without leading or trailing '/'; '' for none. */
  prefix?: string;
  region?: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  hivePartitioning?: boolean;
  deleteAfterUpload?: boolean;
  aggregate?: boolean;
  aggregateHoldMinutes?: number;
  /** Directory the object keys are relative to (output.parquet_dir). */
  baseDir: string;
  /** Spool directory (default <baseDir>/.s3-spool). */
  spoolDir?: string;
  spoolMaxBytes?: number;
  multipartThresholdBytes?: number;
  partSizeBytes?: number;
  /** Parts of one file in flight at once. */
  partConcurrency?: number;
  /** Explicit credentials (tests); default: the standard AWS provider chain. Never logged. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Socket idle time before a request counts as timed out (ms). */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Attempts per request before an upload attempt fails (the spool then retries the file later). */
  maxAttempts?: number;
  /** First retry delay (ms); doubles per attempt, with jitter, up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export interface ResolvedS3Options extends Required<Omit<S3Options, 'credentials' | 'endpoint'>> {
  endpoint: string | undefined;
  credentials: S3Options['credentials'];
}

/** Apply defaults and check; every problem is reported at once, as one user error. */
export function resolveS3Options(o: S3Options): ResolvedS3Options {
  const region = o.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? '';
  const r: ResolvedS3Options = {
    bucket: o.bucket,
    prefix: (o.prefix ?? '').replace(/^\/+|\/+$/g, ''),
    region,
    endpoint: o.endpoint === '' ? undefined : o.endpoint,
    forcePathStyle: o.forcePathStyle ?? S3_DEFAULTS.forcePathStyle,
    hivePartitioning: o.hivePartitioning ?? S3_DEFAULTS.hivePartitioning,
    deleteAfterUpload: o.deleteAfterUpload ?? S3_DEFAULTS.deleteAfterUpload,
    aggregate: o.aggregate ?? S3_DEFAULTS.aggregate,
    aggregateHoldMinutes: o.aggregateHoldMinutes ?? S3_DEFAULTS.aggregateHoldMinutes,
    baseDir: path.resolve(o.baseDir ?? '.'),
    spoolDir: path.resolve(o.spoolDir ?? path.join(o.baseDir ?? '.', S3_DEFAULTS.spoolDirName)),
    spoolMaxBytes: o.spoolMaxBytes ?? S3_DEFAULTS.spoolMaxMb * MiB,
    multipartThresholdBytes: o.multipartThresholdBytes ?? S3_DEFAULTS.multipartThresholdMb * MiB,
    partSizeBytes: o.partSizeBytes ?? S3_DEFAULTS.multipartPartMb * MiB,
    partConcurrency: o.partConcurrency ?? 4,
    credentials: o.credentials,
    requestTimeoutMs: o.requestTimeoutMs ?? 60_000,
    connectTimeoutMs: o.connectTimeoutMs ?? 10_000,
    maxAttempts: o.maxAttempts ?? 5,
    backoffMs: o.backoffMs ?? 250,
    maxBackoffMs: o.maxBackoffMs ?? 30_000,
  };
  const problems: string[] = [];
  // Bucket names: 3-63 of a-z 0-9 . - (the S3 rules; MinIO applies the same).
  if (typeof r.bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(r.bucket)) {
    problems.push(`s3.bucket: must be a valid bucket name, 3-63 of a-z 0-9 . - (got '${String(r.bucket)}')`);
  }
  if (r.region === '') problems.push('s3.region: required (or set AWS_REGION)');
  if (r.endpoint !== undefined) {
    try {
      const u = new URL(r.endpoint);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    } catch {
      problems.push(`s3.endpoint: must be an http:// or https:// URL (got '${r.endpoint}')`);
    }
  }
  // The config key is an integer >= 1; the API takes fractions (tests hold for seconds).
  if (!(r.aggregateHoldMinutes > 0)) problems.push(`s3.aggregate_hold_minutes: must be > 0 (got ${r.aggregateHoldMinutes})`);
  if (!(r.spoolMaxBytes > 0)) problems.push(`s3.spool_max_mb: must be > 0`);
  // S3's limits: parts of 5 MiB..5 GiB (the last may be smaller), at most 10,000 of them.
  if (!Number.isInteger(r.partSizeBytes) || r.partSizeBytes < 5 * MiB || r.partSizeBytes > 5 * 1024 * MiB) {
    problems.push(`s3.multipart_part_mb: must be 5..5120 MiB (got ${r.partSizeBytes / MiB})`);
  }
  if (!(r.multipartThresholdBytes >= 1)) problems.push('s3.multipart_threshold_mb: must be > 0');
  if (!Number.isInteger(r.partConcurrency) || r.partConcurrency < 1) problems.push('s3: partConcurrency must be an integer > 0');
  if (problems.length > 0) throw new UserError(`s3: ${problems.join('; ')}`, { code: 'CONFIG' });
  return r;
}

/** The S3 options from a validated config; undefined when s3.bucket is not set. */
export function s3OptionsFromConfig(c: Config): S3Options | undefined {
  const bucket = str(c, 's3', 'bucket');
  if (bucket === undefined || bucket === '') return undefined;
  const baseDir = str(c, 'output', 'parquet_dir');
  if (baseDir === undefined || baseDir === '') {
    throw new UserError('s3.bucket is set but output.parquet_dir is not: the S3 upload sends the files the Parquet sink writes there', { code: 'CONFIG' });
  }
  const o: S3Options = {
    bucket,
    baseDir,
    forcePathStyle: bool(c, 's3', 'force_path_style'),
    hivePartitioning: bool(c, 's3', 'hive_partitioning'),
    deleteAfterUpload: bool(c, 's3', 'delete_after_upload'),
    aggregate: bool(c, 's3', 'aggregate'),
    aggregateHoldMinutes: num(c, 's3', 'aggregate_hold_minutes'),
    spoolMaxBytes: num(c, 's3', 'spool_max_mb') * MiB,
    multipartThresholdBytes: num(c, 's3', 'multipart_threshold_mb') * MiB,
    partSizeBytes: num(c, 's3', 'multipart_part_mb') * MiB,
  };
  const prefix = str(c, 's3', 'prefix');
  if (prefix !== undefined) o.prefix = prefix;
  const region = str(c, 's3', 'region');
  if (region !== undefined) o.region = region;
  const endpoint = str(c, 's3', 'endpoint');
  if (endpoint !== undefined) o.endpoint = endpoint;
  const spoolDir = str(c, 's3', 'spool_dir');
  if (spoolDir !== undefined) o.spoolDir = spoolDir;
  return o;
}
