// s3.aggregate (sinks/s3/aggregate.ts and the spool's loop) against a private MinIO: the Parquet
// files of one minute (same object directory) become one object under the earliest file's key,
// rows in order, damselfly.* metadata kept with the total row count; another minute is another
// object; a minute still within its hold time waits, and close() sends it at once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { S3Spool } from '../../../sinks/s3/spool.js';
import { minuteOf, nextGroup } from '../../../sinks/s3/aggregate.js';
import type { S3Options } from '../../../sinks/s3/config.js';
import { configureLog } from '../../../streams/log.js';
import { tempDir } from '../../helpers.js';
import { minioMissing, startMinio, type MinioServer } from './minio.js';

const skip = minioMissing();
const BUCKET = 'agg';
let minio: MinioServer;
let client: S3Client;
let db: DuckDBInstance;
let con: DuckDBConnection;
const tmp = tempDir('damselfly-s3-agg-');

before(async () => {
  db = await DuckDBInstance.create(':memory:');
  con = await db.connect();
  if (skip) return;
  configureLog({ verbose: 0 });
  minio = await startMinio({ buckets: [BUCKET] });
  client = new S3Client({ region: 'us-east-1', endpoint: minio.endpoint, forcePathStyle: true, credentials: minio.credentials });
});

after(async () => {
  con?.closeSync();
  db?.closeSync();
  client?.destroy();
  await minio?.stop();
  tmp.cleanup();
  setTimeout(() => process.exit(), 10_000).unref();
});

/** A Parquet file of rows x = from..from+n-1 with damselfly.* metadata, like the Parquet sink's. */
async function parquet(path: string, from: number, n: number): Promise<void> {
  mkdirSync(join(path, '..'), { recursive: true });
  await con.run(`COPY (SELECT range::BIGINT AS x, 'r' || range::VARCHAR AS s FROM range(${from}, ${from + n})) TO '${path}'
    (FORMAT parquet, COMPRESSION zstd, KV_METADATA {'damselfly.observation': 'obs', 'damselfly.rows': '${n}'})`);
}

test('groups: same directory and minute (from the file name, else the time added), due after the hold', () => {
  assert.equal(minuteOf('a/damselfly-obs-v1-20250101-120059.parquet', 0), Date.UTC(2025, 0, 1, 12, 0));
  assert.equal(minuteOf('a/x.parquet', Date.UTC(2025, 0, 1, 12, 0, 42)), Date.UTC(2025, 0, 1, 12, 0));
  const e = (seq: number, key: string) => ({ seq, key, addedAt: 0 });
  const entries = [e(1, 'o/d/f-20250101-120001.parquet'), e(2, 'o/d/f-20250101-120100.parquet'), e(3, 'o/d/f-20250101-120030.parquet'), e(4, 'p/d/f-20250101-120002.parquet')];
  const g = nextGroup(entries, 2)!;
  assert.deepEqual(g.entries.map((x) => x.seq), [1, 3]);
  assert.equal(g.dueAt, Date.UTC(2025, 0, 1, 12, 3));
  assert.deepEqual(nextGroup(entries, 2, (x) => x.seq !== 1)!.entries.map((x) => x.seq), [1], 'an unmergeable entry goes alone');
});

test('a minute of files becomes one object: rows in order, metadata kept with the total; another minute is another object', { skip }, async () => {
  const baseDir = join(tmp.dir, 'flows');
  const dir = join(baseDir, 'obs', 'v1', 'year=2025', 'month=01', 'day=01');
  const names = ['damselfly-obs-v1-20250101-120005.parquet', 'damselfly-obs-v1-20250101-120030.parquet', 'damselfly-obs-v1-20250101-120059.parquet', 'damselfly-obs-v1-20250101-120100.parquet'];
  for (const [i, n] of names.entries()) await parquet(join(dir, n), i * 100, 100);
  const o: S3Options = {
    bucket: BUCKET, region: 'us-east-1', endpoint: minio.endpoint, forcePathStyle: true, credentials: minio.credentials,
    baseDir, prefix: 'lake', aggregate: true, aggregateHoldMinutes: 0.05, deleteAfterUpload: true, backoffMs: 20, maxBackoffMs: 200,
  };
  const spool = await S3Spool.open(o);
  for (const n of names) await spool.add(join(dir, n));
  assert.equal(spool.stats().objects, 0, 'held for 3 s after the first file came');
  assert.equal(await spool.drain(30_000), true);
  const st = spool.stats();
  await spool.close();
  assert.deepEqual({ uploaded: st.uploaded, objects: st.objects }, { uploaded: 4, objects: 2 });
  assert.deepEqual(readdirSync(dir), [], 'sources deleted after upload');
  const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'lake/' }));
  const prefix = 'lake/obs/v1/year=2025/month=01/day=01/';
  assert.deepEqual((listed.Contents ?? []).map((c) => c.Key).sort(), [prefix + names[0], prefix + names[3]]);
  const got = join(tmp.dir, 'merged.parquet');
  const r = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: prefix + names[0] }));
  writeFileSync(got, await r.Body!.transformToByteArray());
  const rows = (await con.runAndReadAll(`SELECT x FROM read_parquet('${got}')`)).getRows().map((row) => Number(row[0]));
  assert.deepEqual(rows, Array.from({ length: 300 }, (_, i) => i), 'three files, rows in order');
  const kv = Object.fromEntries((await con.runAndReadAll(`SELECT decode(key)::VARCHAR, decode(value)::VARCHAR FROM parquet_kv_metadata('${got}')`)).getRows().map((row) => [String(row[0]), String(row[1])]));
  assert.equal(kv['damselfly.observation'], 'obs');
  assert.equal(kv['damselfly.rows'], '300');
  assert.equal(kv['damselfly.aggregated_files'], '3');
});

test('a minute within its hold time waits; close() sends it at once', { skip }, async () => {
  const baseDir = join(tmp.dir, 'held');
  const now = new Date();
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const files = [join(baseDir, `f-${stamp}.parquet`), join(baseDir, `g-${stamp}.parquet`)];
  await parquet(files[0]!, 0, 10);
  await parquet(files[1]!, 10, 10);
  const spool = await S3Spool.open({
    bucket: BUCKET, region: 'us-east-1', endpoint: minio.endpoint, forcePathStyle: true, credentials: minio.credentials,
    baseDir, prefix: 'held', aggregate: true, aggregateHoldMinutes: 5,
  });
  for (const f of files) await spool.add(f);
  assert.equal(await spool.drain(700), false, 'held');
  assert.equal(spool.stats().pending, 2);
  const report = await spool.close({ timeoutMs: 20_000 });
  assert.deepEqual({ pending: report.pending, timedOut: report.timedOut }, { pending: 0, timedOut: false });
  assert.equal(spool.stats().objects, 1);
  const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'held/' }));
  assert.deepEqual((listed.Contents ?? []).map((c) => c.Key), [`held/f-${stamp}.parquet`]);
});
