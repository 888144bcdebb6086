// The S3 spool and uploader (sinks/s3/spool.ts, uploader.ts, probe.ts) against a real MinIO
// server started for this file: hive keys and bytes, multipart (ETag and size), an outage (files
// wait in the spool, upload after the server restarts, and a new process picks up what an old one
// left), a proxy injecting 500s and slow answers (retried, objects intact), wrong credentials and
// a missing bucket (one line, no secret), testS3, and the bound of a full spool.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { S3Spool } from '../../../sinks/s3/spool.js';
import { testS3 } from '../../../sinks/s3/probe.js';
import { multipartEtag } from '../../../sinks/s3/uploader.js';
import { S3UserError } from '../../../sinks/s3/errors.js';
import type { S3Options } from '../../../sinks/s3/config.js';
import { formatError } from '../../../streams/errors.js';
import { configureLog } from '../../../streams/log.js';
import { tempDir } from '../../helpers.js';
import { minioMissing, startMinio, type MinioServer } from './minio.js';

const skip = minioMissing();
const BUCKET = 'lake';
const MiB = 1048576;
let minio: MinioServer;
let client: S3Client;
const tmp = tempDir('damselfly-s3-');

before(async () => {
  if (skip) return;
  configureLog({ verbose: 0 });
  minio = await startMinio({ buckets: [BUCKET] });
  client = new S3Client({ region: 'us-east-1', endpoint: minio.endpoint, forcePathStyle: true, credentials: minio.credentials });
});

after(async () => {
  client?.destroy();
  await minio?.stop();
  tmp.cleanup();
  setTimeout(() => process.exit(), 10_000).unref(); // a leaked socket must not hang the runner
});

let dirSeq = 0;
function options(extra: Partial<S3Options> = {}): S3Options & { baseDir: string } {
  const baseDir = extra.baseDir ?? join(tmp.dir, `run${dirSeq++}`);
  mkdirSync(baseDir, { recursive: true });
  return {
    bucket: BUCKET, region: 'us-east-1', endpoint: minio.endpoint, forcePathStyle: true, credentials: minio.credentials,
    prefix: 'sensors/s1', hivePartitioning: true,
    requestTimeoutMs: 2000, connectTimeoutMs: 1000, maxAttempts: 4, backoffMs: 20, maxBackoffMs: 300,
    ...extra,
    baseDir,
  };
}

function writeFile(baseDir: string, rel: string, bytes: number): { path: string; data: Buffer } {
  const p = join(baseDir, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  const data = randomBytes(bytes);
  writeFileSync(p, data);
  return { path: p, data };
}

async function getObject(key: string): Promise<Buffer> {
  const r = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('files land under <prefix>/…/year=/month=/day=/ with their bytes; sources kept without delete_after_upload', { skip }, async () => {
  const o = options();
  const a = writeFile(o.baseDir, 'obs/v1/year=2026/month=11/day=28/damselfly-obs-v1-20261128-101500.parquet', 3000);
  const b = writeFile(o.baseDir, 'rockfish-20250128-120000.parquet', 10);
  const c = writeFile(o.baseDir, 'intel/notes.parquet', 77);
  utimesSync(c.path, new Date(Date.UTC(2024, 1, 29, 12)), new Date(Date.UTC(2024, 1, 29, 12)));
  const spool = await S3Spool.open(o);
  for (const f of [a, b, c]) await spool.add(f.path);
  assert.equal(spool.stats().pending + spool.stats().uploaded, 3, 'each add is in the spool or uploaded when it resolves');
  assert.equal(await spool.drain(20_000), true);
  const report = await spool.close();
  assert.deepEqual({ pending: report.pending, uploaded: report.uploaded }, { pending: 0, uploaded: 3 });
  assert.equal(sha(await getObject('sensors/s1/obs/v1/year=2026/month=11/day=28/damselfly-obs-v1-20261128-101500.parquet')), sha(a.data));
  assert.equal(sha(await getObject('sensors/s1/year=2025/month=01/day=28/rockfish-20250128-120000.parquet')), sha(b.data));
  assert.equal(sha(await getObject('sensors/s1/intel/year=2024/month=02/day=29/notes.parquet')), sha(c.data));
  for (const f of [a, b, c]) assert.ok(existsSync(f.path), `${f.path} kept`);
  assert.deepEqual(readdirSync(spool.spoolDir), [], 'spool empty');
  const st = spool.stats();
  assert.equal(st.added, 3);
  assert.equal(st.uploadedBytes, 3087);
  assert.equal(st.dropped, 0);
});

test('multipart: a file of several parts above the threshold; ETag and size are the multipart ones', { skip }, async () => {
  const o = options({ multipartThresholdBytes: 1 * MiB, partSizeBytes: 5 * MiB, deleteAfterUpload: true });
  const f = writeFile(o.baseDir, 'big-20261128-000000.parquet', 12 * MiB + 12345);
  const small = writeFile(o.baseDir, 'small-20261128-000000.parquet', 1000);
  const key = 'sensors/s1/year=2026/month=11/day=28/big-20261128-000000.parquet';
  // What a process that crashed mid-upload leaves: an open multipart upload of the same key.
  await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
  const spool = await S3Spool.open(o);
  const parts: number[] = [];
  spool.onUpload = (r) => parts.push(r.parts);
  await spool.add(f.path);
  await spool.add(small.path);
  assert.equal(await spool.drain(30_000), true);
  await spool.close();
  assert.deepEqual(parts, [3, 0], 'three parts, then a single PUT');
  const open = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: key }));
  assert.deepEqual(open.Uploads ?? [], [], 'the stray upload was aborted');
  const h = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  assert.equal(h.ContentLength, f.data.length);
  const md5s = [0, 1, 2].map((i) => createHash('md5').update(f.data.subarray(i * 5 * MiB, (i + 1) * 5 * MiB)).digest());
  assert.equal(h.ETag, multipartEtag(md5s));
  assert.equal(sha(await getObject(key)), sha(f.data));
  assert.equal(existsSync(f.path), false, 'delete_after_upload removed the source');
  assert.equal(existsSync(small.path), false);
});

test('MinIO down mid-run: files wait durably in the spool, upload after it restarts; a new process picks up what is left', { skip }, async () => {
  const o = options({ deleteAfterUpload: true });
  const spool = await S3Spool.open(o);
  const f1 = writeFile(o.baseDir, 'f1-20261128-000001.parquet', 500);
  await spool.add(f1.path);
  assert.equal(await spool.drain(10_000), true);

  await minio.halt();
  const f2 = writeFile(o.baseDir, 'f2-20261128-000002.parquet', 600);
  const f3 = writeFile(o.baseDir, 'f3-20261128-000003.parquet', 700);
  await spool.add(f2.path);
  await spool.add(f3.path);
  await until(() => spool.stats().errors >= 2, 10_000, 'failed attempts while the server is down');
  assert.equal(spool.stats().pending, 2);
  assert.ok(existsSync(f2.path) && existsSync(f3.path), 'sources kept until uploaded');
  await minio.restart();
  assert.equal(await spool.drain(15_000), true, 'uploaded after the restart');
  assert.equal(sha(await getObject('sensors/s1/year=2026/month=11/day=28/f2-20261128-000002.parquet')), sha(f2.data));
  assert.equal(sha(await getObject('sensors/s1/year=2026/month=11/day=28/f3-20261128-000003.parquet')), sha(f3.data));

  // Down again, and this process ends before it comes back.
  await minio.halt();
  const f4 = writeFile(o.baseDir, 'f4-20261128-000004.parquet', 800);
  await spool.add(f4.path);
  const report = await spool.close({ timeoutMs: 300 });
  assert.deepEqual({ pending: report.pending, pendingBytes: report.pendingBytes, timedOut: report.timedOut }, { pending: 1, pendingBytes: 800, timedOut: true });
  assert.deepEqual(readdirSync(spool.spoolDir).sort(), ['000000000004.data', '000000000004.json'], 'the entry is on disk');
  await minio.restart();
  const next = await S3Spool.open(o);
  assert.equal(next.stats().recovered, 1);
  assert.equal(await next.drain(15_000), true);
  await next.close();
  assert.equal(sha(await getObject('sensors/s1/year=2026/month=11/day=28/f4-20261128-000004.parquet')), sha(f4.data));
  assert.equal(existsSync(f4.path), false, 'deleted after its upload by the next process');
});

/** A proxy in front of MinIO: per request URL, attempt 1 answers 500, attempt 2 answers late, later ones pass. */
async function faultyProxy(target: string, lateMs: number): Promise<{ endpoint: string; faults: () => number; close: () => Promise<void> }> {
  const seen = new Map<string, number>();
  let faults = 0;
  const up = new URL(target);
  const server = http.createServer((req, res) => {
    const id = `${req.method} ${req.url}`;
    const n = (seen.get(id) ?? 0) + 1;
    seen.set(id, n);
    if (n === 1) {
      faults++;
      req.resume();
      req.on('end', () => {
        res.writeHead(500, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected by the test proxy</Message></Error>');
      });
      return;
    }
    // Headers go through unchanged: the client signed Host = the proxy, and MinIO checks that.
    const fwd = http.request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers }, (ures) => {
      const chunks: Buffer[] = [];
      ures.on('data', (c: Buffer) => chunks.push(c));
      ures.on('end', () => {
        const send = () => {
          if (res.destroyed) return;
          res.writeHead(ures.statusCode ?? 502, ures.headers);
          res.end(Buffer.concat(chunks));
        };
        if (n === 2) {
          faults++;
          setTimeout(send, lateMs);
        } else send();
      });
    });
    fwd.on('error', () => res.destroy());
    req.pipe(fwd);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    faults: () => faults,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

test('500s and slow answers are retried; the objects are whole and correct', { skip }, async () => {
  const proxy = await faultyProxy(minio.endpoint, 1500);
  try {
    const o = options({ endpoint: proxy.endpoint, requestTimeoutMs: 500, multipartThresholdBytes: 1 * MiB, partSizeBytes: 5 * MiB });
    const spool = await S3Spool.open(o);
    const files = [writeFile(o.baseDir, 'p1-20261128-000001.parquet', 2000), writeFile(o.baseDir, 'p2-20261128-000002.parquet', 11 * MiB)];
    for (const f of files) await spool.add(f.path);
    assert.equal(await spool.drain(40_000), true);
    const st = spool.stats();
    await spool.close();
    assert.ok(proxy.faults() >= 8, `faults injected: ${proxy.faults()}`);
    assert.ok(st.retries >= 8, `requests retried: ${st.retries}`);
    assert.equal(st.uploaded, 2);
    const open = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'sensors/s1/year=2026/month=11/day=28/p2-20261128-000002.parquet' }));
    assert.deepEqual(open.Uploads ?? [], [], 'no multipart upload left open (the slow Create opened a stray one)');
    assert.equal(sha(await getObject('sensors/s1/year=2026/month=11/day=28/p1-20261128-000001.parquet')), sha(files[0]!.data));
    assert.equal(sha(await getObject('sensors/s1/year=2026/month=11/day=28/p2-20261128-000002.parquet')), sha(files[1]!.data));
  } finally {
    await proxy.close();
  }
});

test('testS3: put/head/delete of a probe, one line', { skip }, async () => {
  const r = await testS3(options());
  assert.match(r.line, /^s3: ok: put, head and delete of s3:\/\/lake\/sensors\/s1\/\.damselfly-probe-\S+ at http:\/\/127\.0\.0\.1:\d+ \(region us-east-1\) in \d+ ms$/);
  const h = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: r.key })).catch((e: Error) => e);
  assert.ok(h instanceof Error && h.name === 'NotFound', 'probe deleted');
});

test('credentials come from the standard AWS chain: the environment, then a profile in the shared credentials file', { skip }, async () => {
  const keys = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_EC2_METADATA_DISABLED'];
  const saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
  const restore = () => {
    for (const k of keys) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  };
  try {
    for (const k of keys) delete process.env[k];
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    process.env.AWS_CONFIG_FILE = join(tmp.dir, 'no-config');
    process.env.AWS_ACCESS_KEY_ID = minio.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = minio.credentials.secretAccessKey;
    const { credentials: _env, ...fromEnv } = options();
    assert.match((await testS3(fromEnv)).line, /^s3: ok/);

    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    const file = join(tmp.dir, 'aws-credentials');
    writeFileSync(file, `[lake]\naws_access_key_id = ${minio.credentials.accessKeyId}\naws_secret_access_key = ${minio.credentials.secretAccessKey}\n`);
    process.env.AWS_SHARED_CREDENTIALS_FILE = file;
    process.env.AWS_PROFILE = 'lake';
    const { credentials: _file, ...fromFile } = options();
    assert.match((await testS3(fromFile)).line, /^s3: ok/);

    process.env.AWS_PROFILE = 'absent';
    await assert.rejects(testS3(fromFile), (e: unknown) => {
      assert.ok(e instanceof S3UserError, String(e));
      assert.match(formatError(e), /^s3: no AWS credentials found/);
      return true;
    });
  } finally {
    restore();
  }
});

test('wrong credentials or a missing bucket: one clear line, no secret in it; the spool keeps the file', { skip }, async () => {
  const badSecret = `${minio.credentials.secretAccessKey.slice(0, 10)}WRONG${randomBytes(8).toString('hex')}`;
  const cases: Array<[Partial<S3Options>, RegExp]> = [
    [{ credentials: { accessKeyId: 'AKIAWRONGWRONGWRONG1', secretAccessKey: 'wrongSecretValue/1234567890abcdef' } }, /credentials were refused .*\(InvalidAccessKeyId\)/],
    [{ credentials: { accessKeyId: minio.credentials.accessKeyId, secretAccessKey: badSecret } }, /credentials were refused .*\(SignatureDoesNotMatch\)/],
    [{ bucket: 'no-such-bucket' }, /bucket 'no-such-bucket' does not exist at http:\/\/127\.0\.0\.1:\d+$/],
  ];
  for (const [extra, pattern] of cases) {
    const o = options(extra);
    await assert.rejects(testS3(o), (e: unknown) => {
      assert.ok(e instanceof S3UserError, String(e));
      const line = formatError(e);
      assert.match(line, pattern);
      assert.doesNotMatch(line, /\n/);
      for (const s of [o.credentials!.secretAccessKey, o.credentials!.accessKeyId]) assert.ok(!line.includes(s), `no credential in: ${line}`);
      return true;
    });
  }
  const o = options({ credentials: { accessKeyId: 'AKIAWRONGWRONGWRONG1', secretAccessKey: 'wrongSecretValue/1234567890abcdef' } });
  const spool = await S3Spool.open(o);
  const f = writeFile(o.baseDir, 'x-20261128-000000.parquet', 100);
  await spool.add(f.path);
  await until(() => spool.stats().errors >= 1, 5000, 'a failed attempt');
  const report = await spool.close({ timeoutMs: 100 });
  assert.equal(report.pending, 1, 'kept for a later run');
  assert.match(spool.stats().lastError!, /InvalidAccessKeyId/);
  assert.ok(!spool.stats().lastError!.includes('wrongSecretValue'));
});

test('a full spool makes add() wait (counted, never dropped); close() gives up on it with an error', async () => {
  const baseDir = join(tmp.dir, 'full');
  mkdirSync(baseDir, { recursive: true });
  // Nothing listens on port 9 of loopback: every upload fails, the spool only fills.
  const o: S3Options = {
    bucket: BUCKET, region: 'us-east-1', endpoint: 'http://127.0.0.1:9', forcePathStyle: true,
    credentials: { accessKeyId: 'AKIAFULLTEST', secretAccessKey: 'full-test-secret' },
    baseDir, spoolMaxBytes: 1000, maxAttempts: 1, backoffMs: 20, maxBackoffMs: 100,
  };
  configureLog({ verbose: -1 });
  const spool = await S3Spool.open(o);
  const a = writeFile(baseDir, 'a.parquet', 600);
  const b = writeFile(baseDir, 'b.parquet', 600);
  await spool.add(a.path);
  let settled = false;
  const pb = spool.add(b.path).finally(() => {
    settled = true;
  });
  pb.catch(() => undefined);
  await until(() => spool.stats().waiting === 1, 5000, 'add() waiting for room');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(settled, false, 'still waiting');
  assert.equal(spool.stats().fullWaits, 1);
  assert.equal(spool.stats().pending, 1);
  const report = await spool.close({ timeoutMs: 100 });
  await assert.rejects(pb, /closed while .*b\.parquet waited for room .* not spooled/);
  assert.equal(report.pending, 1);
  assert.ok(existsSync(b.path), 'the refused file is where it was');
  configureLog({ verbose: 0 });
});

/** Options of a spool whose uploads all fail (nothing listens on loopback port 9): it only fills. */
function offlineOptions(baseDir: string, extra: Partial<S3Options> = {}): S3Options {
  return {
    bucket: BUCKET, region: 'us-east-1', endpoint: 'http://127.0.0.1:9', forcePathStyle: true,
    credentials: { accessKeyId: 'AKIAOFFLINE', secretAccessKey: 'offline-secret' },
    baseDir, maxAttempts: 1, backoffMs: 20, maxBackoffMs: 100, ...extra,
  };
}

test('start-up: a crashed add() (data without manifest, temp files) is cleaned, an unreadable manifest goes to failed/, seq continues', async () => {
  const baseDir = join(tmp.dir, 'recover');
  const spoolDir = join(baseDir, '.s3-spool');
  mkdirSync(spoolDir, { recursive: true });
  writeFileSync(join(spoolDir, '000000000007.data'), 'orphan');
  writeFileSync(join(spoolDir, '000000000008.json.tmp'), '{');
  writeFileSync(join(spoolDir, '000000000003.data'), 'x');
  writeFileSync(join(spoolDir, '000000000003.json'), 'not json');
  writeFileSync(join(spoolDir, 'lock'), '999999999\n'); // its owner crashed
  configureLog({ verbose: -2 });
  const spool = await S3Spool.open(offlineOptions(baseDir));
  await assert.rejects(S3Spool.open(offlineOptions(baseDir)), /spool is in use by process \d+ \(this one/, 'one owner at a time');
  const f = writeFile(baseDir, 'n-20261128-000000.parquet', 10);
  await spool.add(f.path);
  await spool.close({ timeoutMs: 50 });
  configureLog({ verbose: 0 });
  assert.deepEqual(readdirSync(spoolDir).sort(), ['000000000009.data', '000000000009.json', 'failed'], 'orphans gone; the new entry numbered after every number seen; lock released');
  assert.deepEqual(readdirSync(join(spoolDir, 'failed')).sort(), ['000000000003.data', '000000000003.json']);
  assert.equal(spool.stats().recovered, 0);
});

test('a spool on another filesystem copies the file (fsync, rename); delete_after_upload then checks size and mtime', { skip: existsSync('/dev/shm') ? false : 'no /dev/shm' }, async () => {
  const baseDir = join(tmp.dir, 'xdev');
  const spoolDir = mkdtempSync(join('/dev/shm', 'damselfly-spool-'));
  try {
    const f = writeFile(baseDir, 'c-20261128-000000.parquet', 4096);
    configureLog({ verbose: -2 });
    const spool = await S3Spool.open(offlineOptions(baseDir, { spoolDir }));
    await spool.add(f.path);
    const report = await spool.close({ timeoutMs: 50 });
    configureLog({ verbose: 0 });
    assert.equal(report.pending, 1);
    assert.equal(statSync(f.path).nlink, 1, 'a copy, not a link');
    const m = JSON.parse(readFileSync(join(spoolDir, '000000000001.json'), 'utf8')) as { linked: boolean; size: number; key: string };
    assert.deepEqual({ linked: m.linked, size: m.size }, { linked: false, size: 4096 });
    assert.equal(sha(readFileSync(join(spoolDir, '000000000001.data'))), sha(f.data));
    if (!skip) {
      // The next process, with the server up: uploads the copy and deletes the unchanged source.
      const next = await S3Spool.open(options({ baseDir, spoolDir, deleteAfterUpload: true }));
      assert.equal(await next.drain(10_000), true);
      await next.close();
      assert.equal(sha(await getObject(m.key)), sha(f.data));
      assert.equal(existsSync(f.path), false);
    }
  } finally {
    rmSync(spoolDir, { recursive: true, force: true });
  }
});
