// Object keys (sinks/s3/keys.ts), the s3 config section's checks (sinks/s3/config.ts) and the
// redaction of secrets in error messages (sinks/s3/errors.ts): no server needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hivePartitionOf, objectKey } from '../../../sinks/s3/keys.js';
import { resolveS3Options, s3OptionsFromConfig, S3_CONFIG_SECTION } from '../../../sinks/s3/config.js';
import { classifyS3Error, redact, S3TransientError, S3UserError } from '../../../sinks/s3/errors.js';
import { validate } from '../../../streams/config.js';
import { PROCESS_CONFIG } from '../../../pipeline/config.js';
import { UserError } from '../../../streams/errors.js';

const base = { baseDir: '/data/flows', prefix: 'sensors/s1', hivePartitioning: true };

test('keys: <prefix>/<path under parquet_dir>; a hive path is kept as it is', () => {
  const f = '/data/flows/obs/v1/year=2026/month=11/day=28/damselfly-obs-v1-20261128-101500.parquet';
  assert.equal(objectKey(f, base, 0), 'sensors/s1/obs/v1/year=2026/month=11/day=28/damselfly-obs-v1-20261128-101500.parquet');
  assert.equal(objectKey(f, { ...base, prefix: '' }, 0), 'obs/v1/year=2026/month=11/day=28/damselfly-obs-v1-20261128-101500.parquet');
  assert.equal(objectKey(f, { ...base, hivePartitioning: false }, 0), 'sensors/s1/obs/v1/year=2026/month=11/day=28/damselfly-obs-v1-20261128-101500.parquet');
});

test('keys: hive_partitioning inserts year=/month=/day= before the file name, from the name or else the mtime (UTC)', () => {
  assert.equal(objectKey('/data/flows/rockfish-20250128-235959.parquet', base, 0), 'sensors/s1/year=2025/month=01/day=28/rockfish-20250128-235959.parquet');
  assert.equal(objectKey('/data/flows/intel/x_20240301T120000.parquet', base, 0), 'sensors/s1/intel/year=2024/month=03/day=01/x_20240301T120000.parquet');
  const mtime = Date.UTC(2023, 6, 4, 23, 30);
  assert.equal(objectKey('/data/flows/a.parquet', base, mtime), 'sensors/s1/year=2023/month=07/day=04/a.parquet');
  assert.equal(objectKey('/data/flows/a.parquet', { ...base, hivePartitioning: false }, mtime), 'sensors/s1/a.parquet');
  assert.equal(hivePartitionOf('f-20251399-000000.parquet', mtime), 'year=2023/month=07/day=04', 'month 13 is not a date');
  assert.throws(() => objectKey('/elsewhere/a.parquet', base, 0), /not under output.parquet_dir/);
});

test('config: the seed keys with their defaults, all problems in one user error', () => {
  for (const k of ['bucket', 'prefix', 'region', 'endpoint', 'force_path_style', 'hive_partitioning', 'delete_after_upload', 'aggregate', 'aggregate_hold_minutes']) {
    assert.ok(S3_CONFIG_SECTION[k], `s3.${k}`);
  }
  assert.equal(S3_CONFIG_SECTION.aggregate_hold_minutes!.default, 1);
  assert.equal(S3_CONFIG_SECTION.delete_after_upload!.default, false);
  const cfg = validate(PROCESS_CONFIG, {
    output: { parquet_dir: '/data/flows' },
    s3: { bucket: 'flow-data', prefix: '/sensors/s1/', region: 'us-east-1', endpoint: 'http://127.0.0.1:9000', force_path_style: true, hive_partitioning: true, spool_max_mb: 2 },
  });
  const r = resolveS3Options(s3OptionsFromConfig(cfg)!);
  assert.equal(r.prefix, 'sensors/s1');
  assert.equal(r.spoolDir, '/data/flows/.s3-spool');
  assert.equal(r.spoolMaxBytes, 2 * 1048576);
  assert.equal(r.multipartThresholdBytes, 32 * 1048576);
  assert.equal(r.partSizeBytes, 16 * 1048576);
  assert.equal(s3OptionsFromConfig(validate(PROCESS_CONFIG, {})), undefined, 'no bucket: no upload');
  assert.throws(() => s3OptionsFromConfig(validate(PROCESS_CONFIG, { s3: { bucket: 'b12' } })), /output.parquet_dir is not/);
  const saved = [process.env.AWS_REGION, process.env.AWS_DEFAULT_REGION];
  delete process.env.AWS_REGION;
  delete process.env.AWS_DEFAULT_REGION;
  try {
    assert.throws(
      () => resolveS3Options({ bucket: 'Bad_Bucket', baseDir: '/d', endpoint: 'ftp://x', partSizeBytes: 1024, aggregateHoldMinutes: 0 }),
      (e: unknown) => {
        assert.ok(e instanceof UserError);
        for (const p of ['s3.bucket', 's3.region: required', 's3.endpoint', 's3.aggregate_hold_minutes', 's3.multipart_part_mb']) {
          assert.ok(e.message.includes(p), `${p} in ${e.message}`);
        }
        assert.doesNotMatch(e.message, /\n/);
        return true;
      },
    );
  } finally {
    if (saved[0] !== undefined) process.env.AWS_REGION = saved[0];
    if (saved[1] !== undefined) process.env.AWS_DEFAULT_REGION = saved[1];
  }
});

test('errors: auth refusals are one-line user errors with no secret; 5xx, throttling and connection errors are retriable', () => {
  const ctx = { op: 'PUT s3://b/k', bucket: 'b', endpoint: 'http://127.0.0.1:9', secrets: ['AKIASECRETKEYID', 'sEcReT/abc+def'] };
  const auth = classifyS3Error(Object.assign(new Error('The AWS Access Key Id AKIASECRETKEYID you provided does not exist'), { name: 'InvalidAccessKeyId', $metadata: { httpStatusCode: 403 } }), ctx);
  assert.ok(auth instanceof S3UserError);
  assert.doesNotMatch(auth.message, /AKIASECRETKEYID|sEcReT|\n/);
  assert.ok(classifyS3Error(Object.assign(new Error('x'), { name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } }), ctx) instanceof S3UserError);
  assert.ok(classifyS3Error(Object.assign(new Error('x'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } }), ctx) instanceof S3TransientError);
  assert.ok(classifyS3Error(Object.assign(new Error('x'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } }), ctx) instanceof S3TransientError);
  assert.ok(classifyS3Error(new AggregateError([Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })]), ctx) instanceof S3TransientError);
  const odd = classifyS3Error(Object.assign(new Error('key sEcReT/abc+def leaked Signature=0123456789abcdef0123'), { name: 'Weird', $metadata: { httpStatusCode: 400 } }), ctx);
  assert.doesNotMatch(odd.message, /sEcReT|0123456789abcdef0123/);
  assert.equal(redact('Credential=AKIAX/20260101/us-east-1/s3/aws4_request, Signature=deadbeefdeadbeefdeadbeef', []), 'Credential=***/20260101/us-east-1/s3/aws4_request, Signature=***');
});
