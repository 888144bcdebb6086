// S3 upload of finished files (the lake issue's S3 side). How a caller wires it:
//
//   const spool = await S3Spool.fromConfig(cfg);   // undefined without s3.bucket; UserError on bad config
//   await spool?.add(file);                        // a finished file under output.parquet_dir: resolves once durable
//   spool?.stats();                                // added / uploaded / pending / errors / retries / fullWaits / failed / dropped (0)
//   const left = await spool?.close({ timeoutMs: 30_000 });   // drains, then reports what waits for the next start
//
//   --test-s3:  console.log((await testS3(s3OptionsFromConfig(cfg)!)).line)   // or a one-line UserError
//
// Credentials: the standard AWS chain (environment, AWS_PROFILE + shared files, SSO, roles).
export { S3Spool } from './spool.js';
export type { S3SpoolStats, S3SpoolCloseReport } from './spool.js';
export { S3Uploader, multipartEtag } from './uploader.js';
export type { UploadResult, UploaderStats } from './uploader.js';
export { testS3, testS3FromConfig } from './probe.js';
export type { S3ProbeResult } from './probe.js';
export { S3_CONFIG_SECTION, S3_DEFAULTS, resolveS3Options, s3OptionsFromConfig } from './config.js';
export type { S3Options, ResolvedS3Options } from './config.js';
export { objectKey, hivePartitionOf } from './keys.js';
export { S3UserError, S3TransientError, S3RequestError, redact } from './errors.js';
