// Errors of the Kafka transport (subclasses of streams/errors.ts, so the CLI prints user errors
// as one line).
import { UserError } from '../errors.js';

/** The brokers could not be reached (at start, within connectTimeoutMs) — the user can fix it. */
export class KafkaUnreachableError extends UserError {
  constructor(readonly brokers: string[], detail: string, cause?: unknown) {
    super(`kafka: cannot reach brokers ${brokers.join(',')}: ${detail}`, { cause, retriable: true });
    this.name = 'KafkaUnreachableError';
  }
}

/** The brokers refused our credentials (SASL) — the user can fix it. */
export class KafkaAuthError extends UserError {
  constructor(readonly brokers: string[], detail: string, cause?: unknown) {
    super(`kafka: authentication to ${brokers.join(',')} failed: ${detail}`, { cause });
    this.name = 'KafkaAuthError';
  }
}
