// `--test-s3`: can this process write to the configured bucket? PUT a small probe object, HEAD it
// (size and ETag as sent), DELETE it; one line back on success, one UserError line on failure
// (credentials refused, no such bucket, access denied, endpoint unreachable).
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { UserError } from '../../streams/errors.js';
import { resolveS3Options, s3OptionsFromConfig, type S3Options } from './config.js';
import type { Config } from '../../streams/config.js';
import { S3UserError } from './errors.js';
import { S3Uploader } from './uploader.js';

export interface S3ProbeResult {
  /** The line to print. */
  line: string;
  key: string;
  ms: number;
}

/** Probe the bucket; throws a one-line UserError when it cannot be written. */
export async function testS3(options: S3Options): Promise<S3ProbeResult> {
  const o = resolveS3Options({ ...options, maxAttempts: options.maxAttempts ?? 2 });
  const up = new S3Uploader(o);
  const t0 = performance.now();
  const name = `.damselfly-probe-${hostname().replace(/[^A-Za-z0-9.-]/g, '_')}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const key = o.prefix ? `${o.prefix}/${name}` : name;
  const body = Buffer.from(`damselfly s3 probe ${new Date().toISOString()}\n`);
  try {
    await up.putSmall(key, body);
    const h = await up.head(key);
    const md5 = `"${createHash('md5').update(body).digest('hex')}"`;
    if (!h || h.size !== body.length) {
      throw new UserError(`s3: probe ${up.url(key)} was written but reads back ${h ? `${h.size} bytes instead of ${body.length}` : 'as missing'} at ${up.endpointLabel}`);
    }
    await up.delete(key);
    const ms = Math.round(performance.now() - t0);
    const etagNote = h.etag === md5 ? '' : ' (ETag is not the MD5: server-side encryption?)';
    return { key, ms, line: `s3: ok: put, head and delete of ${up.url(key)} at ${up.endpointLabel} (region ${o.region}) in ${ms} ms${etagNote}` };
  } catch (e) {
    if (e instanceof UserError) throw e;
    // Transient errors outlived the retries: for a probe that means unreachable or failing.
    const msg = e instanceof Error ? e.message : String(e);
    throw new S3UserError(msg.startsWith('s3:') ? msg : `s3: ${msg}`, 'Probe');
  } finally {
    up.destroy();
  }
}

/**
 * `--test-s3` from a process config: the probe writes no files, so a missing output.parquet_dir
 * (where uploads come from) does not matter here; a missing bucket is a UserError.
 */
export async function testS3FromConfig(c: Config): Promise<S3ProbeResult> {
  const o = s3OptionsFromConfig({ ...c, output: { ...c.output, parquet_dir: String(c.output?.parquet_dir || process.cwd()) } });
  if (!o) throw new UserError('--test-s3 needs a bucket: --s3-bucket NAME (or s3.bucket in the config)');
  return testS3(o);
}
