// The lake on S3 end to end, against a real MinIO: `run --s3-*` uploads every finished Parquet
// file (flows and datasets) through the spool under its hive key, byte for byte what was written
// locally (so `damselfly verify` holds for the object); --test-s3 checks the settings in one line;
// wrong credentials are one clear line without the secret.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { generateCapture } from '../../synth/index.js';
import { runCli, tempDir } from '../helpers.js';
import { minioMissing, startMinio, type MinioServer } from '../sinks/s3/minio.js';

const BUCKET = 'lake';

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      if (e.startsWith('.')) continue;
      const f = join(d, e);
      if (statSync(f).isDirectory()) walk(f);
      else if (f.endsWith('.parquet')) out.push(f);
    }
  };
  walk(dir);
  return out.sort();
}

describe('lake on S3 (MinIO)', { timeout: 300_000, skip: minioMissing() ?? false }, () => {
  const t = tempDir();
  let minio: MinioServer;
  let client: S3Client;
  const pcap = join(t.dir, 'mix.pcap');
  const saved = { ...process.env };
  before(async () => {
    minio = await startMinio({ buckets: [BUCKET] });
    client = new S3Client({ region: 'us-east-1', endpoint: minio.endpoint, forcePathStyle: true, credentials: minio.credentials });
    await generateCapture({ out: pcap, packets: 10_000, seed: 3, truth: false });
    process.env.AWS_ACCESS_KEY_ID = minio.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = minio.credentials.secretAccessKey;
  });
  after(async () => {
    process.env = saved;
    await minio?.stop();
    t.cleanup();
  });
  const s3 = (): string[] => ['--s3-bucket', BUCKET, '--s3-endpoint', minio.endpoint, '--s3-region', 'us-east-1', '--s3-force-path-style', '--s3-prefix', 'site-a'];

  it('run uploads every finished file under its key, byte for byte; verify holds for the object', async () => {
    const out = join(t.dir, 'lake');
    const r = runCli(['run', '-i', pcap, '--parquet-dir', out, '--no-builtin-analyzers', ...s3()]);
    assert.equal(r.status, 0, r.stderr);
    const local = files(out);
    assert.ok(local.length >= 2, 'flows and at least one dataset');
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'site-a/' }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!).sort();
    assert.deepEqual(keys, local.map((f) => `site-a/${relative(out, f)}`).sort());
    for (const k of keys) assert.match(k, /^site-a\/damselfly\/(v1|dns|tls|http)\/year=\d{4}\/month=\d{2}\/day=\d{2}\/damselfly-/);
    const key = keys.find((k) => k.includes('/v1/'))!;
    const obj = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const body = Buffer.from(await obj.Body!.transformToByteArray());
    assert.ok(body.equals(readFileSync(join(out, key.slice('site-a/'.length)))), 'the object is the file');
    const copy = join(t.dir, 'downloaded.parquet');
    (await import('node:fs')).writeFileSync(copy, body);
    const v = runCli(['verify', copy]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
  });

  it('--test-s3: one line, exit 0; wrong credentials: one line naming the problem, no secret, exit 2', () => {
    const ok = runCli(['run', '--test-s3', ...s3()]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout.trim().split('\n').length, 1);
    process.env.AWS_SECRET_ACCESS_KEY = 'wrong-secret-value-1234';
    try {
      const bad = runCli(['run', '--test-s3', ...s3()]);
      assert.equal(bad.status, 2, bad.stdout + bad.stderr);
      const last = bad.stderr.trim().split('\n').pop()!;
      assert.match(last, /s3: the credentials were refused by .* \(SignatureDoesNotMatch\)/);
      assert.ok(!bad.stderr.includes('wrong-secret-value-1234') && !bad.stdout.includes('wrong-secret-value-1234'), 'the secret is not printed');
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = minio.credentials.secretAccessKey;
    }
  });
});
