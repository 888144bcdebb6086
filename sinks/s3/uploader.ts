// Sends one local file to one S3 object, never leaving a partial object behind: a file up to the
// multipart threshold goes in one PUT (S3 makes a PUT visible whole or not at all); a larger one
// as a multipart upload, visible only once CompleteMultipartUpload succeeds (a failed upload is
// aborted). Every request is retried with exponential backoff and jitter on what may pass (5xx,
// throttling, timeouts, connection errors); what the user must fix (credentials refused, missing
// bucket) fails at once as one line. Content-MD5 on every PUT and part makes the server check
// the bytes it stored.
//
// Memory: a single PUT reads its file into memory (<= the threshold, 32 MiB by default); a
// multipart upload holds partConcurrency parts (4 x 16 MiB by default).

import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { log } from '../../streams/log.js';
import { classifyS3Error, S3TransientError, S3UserError } from './errors.js';
import type { ResolvedS3Options } from './config.js';

const NAME = 'sink.s3';

// The SDK warns once per process (a multi-line process warning on stderr) that its releases after
// January 2027 need Node 22; package.json pins a release that supports Node 20, so the warning
// only clutters the CLI's output. An explicit setting in the environment wins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface UploadResult {
  key: string;
  bytes: number;
  etag: string;
  /** 0 for a single PUT. */
  parts: number;
}

export interface UploaderStats {
  /** Requests retried after a retriable failure. */
  retries: number;
  /** Requests that failed (each attempt counts). */
  requestErrors: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Delay before retry number `attempt` (1-based): doubling from base, capped, with 50-100 % jitter. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number): number {
  const d = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 20));
  return Math.round(d * (0.5 + Math.random() * 0.5));
}

/** The multipart ETag S3 computes: md5 of the parts' binary md5s, then "-<parts>". */
export function multipartEtag(partMd5s: readonly Buffer[]): string {
  return `"${createHash('md5').update(Buffer.concat(partMd5s)).digest('hex')}-${partMd5s.length}"`;
}

export class S3Uploader {
  readonly client: S3Client;
  readonly endpointLabel: string;
  private readonly counters: UploaderStats = { retries: 0, requestErrors: 0 };

  constructor(readonly o: ResolvedS3Options) {
    this.client = new S3Client({
      region: o.region,
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      forcePathStyle: o.forcePathStyle,
      ...(o.credentials ? { credentials: o.credentials } : {}),
      // Our loop retries (with the spool behind it); the SDK's own retries would multiply them.
      maxAttempts: 1,
      // Content-MD5 is ours; the SDK's default CRC32 trailers (aws-chunked bodies) add nothing.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        connectionTimeout: o.connectTimeoutMs,
        // A socket idle this long (no response byte, no request byte accepted) fails the request.
        socketTimeout: o.requestTimeoutMs,
        requestTimeout: Math.max(o.requestTimeoutMs * 10, 300_000),
        throwOnRequestTimeout: true,
      },
    });
    this.endpointLabel = o.endpoint ?? `s3.${o.region}.amazonaws.com`;
  }

  stats(): UploaderStats {
    return { ...this.counters };
  }

  /** s3://bucket/key, for messages. */
  url(key: string): string {
    return `s3://${this.o.bucket}/${key}`;
  }

  /** The credentials the chain resolved (a profile's, a role's; refreshed ones too), for redact(). */
  private resolved: string[] | undefined;

  private async secrets(): Promise<(string | undefined)[]> {
    // The SDK memoizes the provider, so asking again is cheap; a chain that found nothing is not asked again.
    if (this.resolved === undefined || this.resolved.length > 0) {
      try {
        const c = await this.client.config.credentials();
        this.resolved = [c.secretAccessKey, c.sessionToken ?? '', c.accessKeyId];
      } catch {
        this.resolved = [];
      }
    }
    const c = this.o.credentials;
    return [...this.resolved, c?.secretAccessKey, c?.sessionToken, c?.accessKeyId, process.env.AWS_SECRET_ACCESS_KEY, process.env.AWS_SESSION_TOKEN, process.env.AWS_ACCESS_KEY_ID];
  }

  /**
   * One request with retries. Retriable failures wait backoffDelay() and go again, up to
   * maxAttempts in all; the last one's error is thrown. User errors are thrown at once.
   */
  async request<T>(op: string, fn: (signal: AbortSignal | undefined) => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw new S3TransientError(`s3: ${op} aborted`, 'AbortError');
      try {
        return await fn(signal);
      } catch (e) {
        this.counters.requestErrors++;
        const err = classifyS3Error(e, { op, bucket: this.o.bucket, endpoint: this.endpointLabel, secrets: await this.secrets() });
        if (!(err instanceof S3TransientError) || attempt >= this.o.maxAttempts || signal?.aborted) throw err;
        const delay = backoffDelay(attempt, this.o.backoffMs, this.o.maxBackoffMs);
        this.counters.retries++;
        log('debug', NAME, `retrying in ${delay} ms: ${err.message}`, { attempt });
        await sleep(delay, signal);
      }
    }
  }

  /** Upload `file` (of `size` bytes, which must not change meanwhile) to `key`. */
  async uploadFile(file: string, key: string, size: number, signal?: AbortSignal): Promise<UploadResult> {
    if (size <= this.o.multipartThresholdBytes) {
      const body = await readFile(file);
      if (body.length !== size) throw new S3UserError(`s3: ${file} changed size while spooled (${size} -> ${body.length} bytes)`, 'FileChanged');
      const md5 = createHash('md5').update(body).digest('base64');
      const r = await this.request(`PUT ${this.url(key)}`, (s) =>
        this.client.send(new PutObjectCommand({ Bucket: this.o.bucket, Key: key, Body: body, ContentLength: size, ContentMD5: md5 }), { abortSignal: s }),
      signal);
      return { key, bytes: size, etag: r.ETag ?? '', parts: 0 };
    }
    return this.uploadMultipart(file, key, size, signal);
  }

  private async uploadMultipart(file: string, key: string, size: number, signal?: AbortSignal): Promise<UploadResult> {
    const url = this.url(key);
    // At most 10,000 parts (S3's limit): grow the part size, in whole MiB, for huge files.
    let partSize = this.o.partSizeBytes;
    if (Math.ceil(size / partSize) > 10_000) partSize = Math.ceil(size / 10_000 / 1048576) * 1048576;
    const nParts = Math.ceil(size / partSize);
    const created = await this.request(`CreateMultipartUpload ${url}`, (s) =>
      this.client.send(new CreateMultipartUploadCommand({ Bucket: this.o.bucket, Key: key }), { abortSignal: s }),
    signal);
    const uploadId = created.UploadId!;
    const etags: string[] = new Array(nParts);
    const md5s: Buffer[] = new Array(nParts);
    const fh = await open(file, 'r');
    try {
      let next = 0;
      let failed = false;
      const worker = async () => {
        for (;;) {
          const i = next++;
          if (i >= nParts || failed) return;
          const offset = i * partSize;
          const len = Math.min(partSize, size - offset);
          const buf = Buffer.allocUnsafe(len);
          const { bytesRead } = await fh.read(buf, 0, len, offset);
          if (bytesRead !== len) throw new S3UserError(`s3: ${file} changed size while spooled (short read at ${offset})`, 'FileChanged');
          const md5 = createHash('md5').update(buf).digest();
          const r = await this.request(`UploadPart ${i + 1}/${nParts} ${url}`, (s) =>
            this.client.send(new UploadPartCommand({
              Bucket: this.o.bucket, Key: key, UploadId: uploadId, PartNumber: i + 1,
              Body: buf, ContentLength: len, ContentMD5: md5.toString('base64'),
            }), { abortSignal: s }),
          signal);
          etags[i] = r.ETag!;
          md5s[i] = md5;
        }
      };
      const workers = Array.from({ length: Math.min(this.o.partConcurrency, nParts) }, () =>
        worker().catch((e: unknown) => {
          failed = true;
          throw e;
        }));
      // Every worker has stopped before the file is closed and the upload aborted.
      const settled = await Promise.allSettled(workers);
      const bad = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (bad) throw bad.reason;
      const expected = multipartEtag(md5s);
      let attempted = false;
      let result: UploadResult;
      try {
        const done = await this.request(`CompleteMultipartUpload ${url}`, (s) => {
          attempted = true;
          return this.client.send(new CompleteMultipartUploadCommand({
            Bucket: this.o.bucket, Key: key, UploadId: uploadId,
            MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
          }), { abortSignal: s });
        }, signal);
        result = { key, bytes: size, etag: done.ETag ?? expected, parts: nParts };
      } catch (e) {
        // A Complete whose answer was lost (timeout) may have succeeded: the retry then finds no
        // upload. The object is ours if its size and multipart ETag are what we sent.
        const h = attempted && (e as { s3Code?: string }).s3Code === 'NoSuchUpload' ? await this.head(key, signal).catch(() => undefined) : undefined;
        if (!h || h.size !== size || h.etag !== expected) throw e;
        result = { key, bytes: size, etag: expected, parts: nParts };
      }
      // Other open uploads of this key are strays — a Create whose answer was lost, or an upload
      // a crashed process left — since the spool is the key's only writer: abort them (one List
      // per multipart file; best effort).
      await this.abortStrays(key, uploadId);
      return result;
    } catch (e) {
      // Best effort: an upload left open holds its parts (not an object) until a bucket
      // lifecycle rule or a later abort removes them.
      await this.request(`AbortMultipartUpload ${url}`, (s) =>
        this.client.send(new AbortMultipartUploadCommand({ Bucket: this.o.bucket, Key: key, UploadId: uploadId }), { abortSignal: s }),
      ).catch(() => undefined);
      throw e;
    } finally {
      await fh.close();
    }
  }

  private async abortStrays(key: string, keep: string): Promise<void> {
    try {
      const r = await this.request(`ListMultipartUploads ${this.url(key)}`, (s) =>
        this.client.send(new ListMultipartUploadsCommand({ Bucket: this.o.bucket, Prefix: key }), { abortSignal: s }));
      for (const u of r.Uploads ?? []) {
        if (u.Key !== key || !u.UploadId || u.UploadId === keep) continue;
        const id = u.UploadId;
        await this.request(`AbortMultipartUpload ${this.url(key)}`, (s) =>
          this.client.send(new AbortMultipartUploadCommand({ Bucket: this.o.bucket, Key: key, UploadId: id }), { abortSignal: s }));
        log('debug', NAME, `aborted a stray multipart upload of ${this.url(key)}`);
      }
    } catch {
      // a bucket lifecycle rule for incomplete uploads is the backstop
    }
  }

  async head(key: string, signal?: AbortSignal): Promise<{ size: number; etag: string } | undefined> {
    try {
      const h = await this.request(`HEAD ${this.url(key)}`, (s) =>
        this.client.send(new HeadObjectCommand({ Bucket: this.o.bucket, Key: key }), { abortSignal: s }),
      signal);
      return { size: h.ContentLength ?? -1, etag: h.ETag ?? '' };
    } catch (e) {
      if ((e as { s3Code?: string }).s3Code === 'NotFound' || (e as { s3Code?: string }).s3Code === 'NoSuchKey') return undefined;
      throw e;
    }
  }

  async putSmall(key: string, body: Buffer, signal?: AbortSignal): Promise<void> {
    const md5 = createHash('md5').update(body).digest('base64');
    await this.request(`PUT ${this.url(key)}`, (s) =>
      this.client.send(new PutObjectCommand({ Bucket: this.o.bucket, Key: key, Body: body, ContentLength: body.length, ContentMD5: md5 }), { abortSignal: s }),
    signal);
  }

  async delete(key: string, signal?: AbortSignal): Promise<void> {
    await this.request(`DELETE ${this.url(key)}`, (s) =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.o.bucket, Key: key }), { abortSignal: s }),
    signal);
  }

  destroy(): void {
    this.client.destroy();
  }
}
