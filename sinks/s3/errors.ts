// Errors of the S3 upload, on the streams base classes (see streams/errors.ts): what the user must
// fix (credentials refused, missing bucket, access denied, no credentials at all) is a UserError
// of one line; a failure that a later attempt may get past (5xx, throttling, timeouts, connection
// errors) is retriable. Every message goes through redact(): no secret ever reaches a log line.
import { InternalError, UserError } from '../../streams/errors.js';

/** Something the user must fix before an upload can succeed; retrying the same request is useless. */
export class S3UserError extends UserError {
  constructor(
    message: string,
    readonly s3Code: string,
    cause?: unknown,
  ) {
    super(message, { code: 'SINK_IO', cause });
    this.name = 'S3UserError';
  }
}

/** A request failed for a reason that may pass (server error, throttling, timeout, connection). */
export class S3TransientError extends InternalError {
  constructor(
    message: string,
    readonly s3Code: string,
    cause?: unknown,
  ) {
    super(message, { code: 'SINK_WRITE', cause, retriable: true });
    this.name = 'S3TransientError';
  }
}

/** Any other refusal (a 4xx we do not expect): not retried by the request loop. */
export class S3RequestError extends InternalError {
  constructor(
    message: string,
    readonly s3Code: string,
    cause?: unknown,
  ) {
    super(message, { code: 'SINK_WRITE', cause });
    this.name = 'S3RequestError';
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH',
  'ENETUNREACH', 'ENETDOWN', 'EADDRNOTAVAIL', 'ERR_SOCKET_CONNECTION_TIMEOUT', 'UND_ERR_SOCKET',
]);
const RETRIABLE_NAMES = new Set([
  'TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'SlowDown', 'InternalError', 'ServiceUnavailable',
  'Throttling', 'ThrottlingException', 'RequestThrottled', 'XMinioServerNotInitialized', 'XMinioStorageFull',
]);
const AUTH_NAMES = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken', 'TokenRefreshRequired']);

interface SdkLikeError {
  name?: string;
  code?: string;
  message?: string;
  errors?: unknown[];
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

/** The first errno-like code in an error, its AggregateError members or its cause chain. */
function networkCode(e: unknown, depth = 0): string | undefined {
  if (!e || typeof e !== 'object' || depth > 4) return undefined;
  const x = e as SdkLikeError;
  if (x.code && NETWORK_CODES.has(x.code)) return x.code;
  for (const m of x.errors ?? []) {
    const c = networkCode(m, depth + 1);
    if (c) return c;
  }
  return networkCode(x.cause, depth + 1);
}

/** Replace every secret (and anything shaped like a SigV4 credential or signature) with '***'. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  return out
    .replace(/(Credential=)[^,\s/]+/g, '$1***')
    .replace(/(Signature=)[0-9a-f]{16,}/gi, '$1***')
    .replace(/(X-Amz-(?:Security-Token|Signature|Credential)=)[^&\s]+/gi, '$1***');
}

export interface S3ErrorContext {
  /** What was being done, e.g. "PUT s3://bucket/key". */
  op: string;
  bucket: string;
  endpoint: string;
  secrets: readonly (string | undefined)[];
}

/** Map an AWS SDK (or network) error to one of ours, with a one-line, redacted message. */
export function classifyS3Error(e: unknown, ctx: S3ErrorContext): S3UserError | S3TransientError | S3RequestError {
  if (e instanceof S3UserError || e instanceof S3TransientError || e instanceof S3RequestError) return e;
  const x = (e ?? {}) as SdkLikeError;
  const name = x.name ?? 'Error';
  const status = x.$metadata?.httpStatusCode;
  const raw = redact(String(x.message ?? e).split('\n')[0]!, ctx.secrets);
  const where = `${ctx.op} at ${ctx.endpoint}`;
  if (AUTH_NAMES.has(name)) {
    return new S3UserError(
      `s3: the credentials were refused by ${ctx.endpoint} (${name}): check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or AWS_PROFILE and the shared credentials file)`,
      name,
    );
  }
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(raw)) {
    return new S3UserError(
      's3: no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with a shared credentials file',
      'NoCredentials',
    );
  }
  if (name === 'NoSuchBucket') return new S3UserError(`s3: bucket '${ctx.bucket}' does not exist at ${ctx.endpoint}`, name);
  if (name === 'AccessDenied' || name === 'AllAccessDisabled' || (status === 403 && name === 'Forbidden')) {
    return new S3UserError(`s3: access denied (${where}): the credentials lack permission for bucket '${ctx.bucket}'`, name);
  }
  if (name === 'AbortError') return new S3TransientError(`s3: ${where} aborted`, name, undefined);
  const net = networkCode(e);
  if (net) return new S3TransientError(`s3: ${where} failed: connection error ${net}`, net);
  if (RETRIABLE_NAMES.has(name) || (status !== undefined && (status >= 500 || status === 429 || status === 408))) {
    return new S3TransientError(`s3: ${where} failed: ${name}${status ? ` (HTTP ${status})` : ''}: ${raw}`, name);
  }
  if (status === undefined) {
    // No HTTP answer at all (the connection broke in a way without an errno, a response that did
    // not parse): the next attempt may well work.
    return new S3TransientError(`s3: ${where} failed: ${name}: ${raw}`, name);
  }
  return new S3RequestError(`s3: ${where} refused: ${name} (HTTP ${status}): ${raw}`, name);
}
