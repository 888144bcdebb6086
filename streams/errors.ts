// Errors of the streams module, after kafkajs' src/errors.js: one base class carrying `retriable`
// and `cause`, a closed union of codes, and two families the CLI treats differently:
//   - UserError: the user can fix it (bad flag/config, missing file, unreachable broker,
//     unwritable directory). The CLI prints `error: <message>` on one line, no stack.
//   - InternalError: a bug or an unexpected failure; keeps its cause chain for the logs.
// Other modules subclass these (sinks/errors.ts) instead of inventing their own bases.

export type ErrorCode =
  | 'USER'
  | 'CONFIG'
  | 'INTERNAL'
  | 'TRANSPORT_CLOSED'
  | 'HANDLER_FAILED'
  | 'SUBSCRIPTION_FAILED'
  | 'INVALID_ARGUMENT'
  | 'SINK_IO'
  | 'SINK_WRITE'
  | 'BAD_BATCH';

export interface DamselflyErrorOptions {
  /** Underlying error (kept as the standard `Error.cause`). */
  cause?: unknown;
  /** Whether retrying the same operation may succeed (kafkajs convention). */
  retriable?: boolean;
  code?: ErrorCode;
}

export class DamselflyError extends Error {
  readonly retriable: boolean;
  readonly code: ErrorCode;

  constructor(message: string, opts: DamselflyErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'DamselflyError';
    this.retriable = opts.retriable ?? false;
    this.code = opts.code ?? 'INTERNAL';
  }
}

/** Something the user can fix; printed as one line by the CLI. */
export class UserError extends DamselflyError {
  constructor(message: string, opts: DamselflyErrorOptions = {}) {
    super(message, { code: 'USER', ...opts });
    this.name = 'UserError';
  }
}

/** A bug or unexpected failure; keeps its cause for diagnosis. */
export class InternalError extends DamselflyError {
  constructor(message: string, opts: DamselflyErrorOptions = {}) {
    super(message, { code: 'INTERNAL', ...opts });
    this.name = 'InternalError';
  }
}

/** publish()/subscribe() after close() began (programming error in the caller). */
export class TransportClosedError extends InternalError {
  constructor(readonly transport: string, readonly topic?: string) {
    super(`transport ${transport} is closed${topic ? ` (topic ${topic})` : ''}`, { code: 'TRANSPORT_CLOSED' });
    this.name = 'TransportClosedError';
  }
}

/** Bad argument to a transport call (empty topic, empty group, maxBatch < 1, ...). */
export class InvalidArgumentError extends InternalError {
  constructor(message: string) {
    super(message, { code: 'INVALID_ARGUMENT' });
    this.name = 'InvalidArgumentError';
  }
}

/** One failed handler attempt; passed to `onError` hooks. `cause` is what the handler threw. */
export class HandlerError extends InternalError {
  constructor(
    readonly topic: string,
    readonly group: string,
    readonly attempt: number,
    readonly batchSize: number,
    cause: unknown,
  ) {
    super(
      `handler of group ${group} on topic ${topic} failed (attempt ${attempt}, batch of ${batchSize}): ${messageOf(cause)}`,
      { code: 'HANDLER_FAILED', cause, retriable: true },
    );
    this.name = 'HandlerError';
  }
}

/** A subscription gave up after its bounded retries; the undelivered events are counted. */
export class SubscriptionFailedError extends InternalError {
  constructor(
    readonly topic: string,
    readonly group: string,
    readonly attempts: number,
    readonly undelivered: number,
    cause: unknown,
  ) {
    super(
      `group ${group} on topic ${topic} stopped after ${attempts} failed attempts; ${undelivered} events undelivered: ${messageOf(cause)}`,
      { code: 'SUBSCRIPTION_FAILED', cause },
    );
    this.name = 'SubscriptionFailedError';
  }
}

/**
 * A batch that cannot be read: an unknown schema version, an event type this build does not know,
 * a corrupt payload (Arrow or JSON), columns missing or of the wrong type or length. Consumers
 * refuse it with one clear line, count it, and go on with the next one.
 */
export class BatchFormatError extends DamselflyError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'BAD_BATCH', cause });
    this.name = 'BatchFormatError';
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/** One line for the CLI: user errors as their message, others with their name and cause. */
export function formatError(e: unknown): string {
  if (e instanceof UserError) return e.message.split('\n')[0]!;
  if (e instanceof Error) {
    const cause = e.cause === undefined ? '' : ` (caused by: ${messageOf(e.cause)})`;
    return `${e.name}: ${e.message}${cause}`;
  }
  return String(e);
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
