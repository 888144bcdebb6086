// Errors of the Kafka transport (subclasses of streams/errors.ts, so the CLI prints user errors
// as one line), and how to read @platformatic/kafka's error trees: a failure arrives as nested
// MultipleErrors (`.errors`) and causes (`.cause`) — "metadata failed 3 times" around "Cannot
// connect to any broker" around a NetworkError around the AuthenticationError or ECONNREFUSED that
// says what happened. `findBy()` does not follow `.cause`, so we walk the tree ourselves.
import { AuthenticationError } from '@platformatic/kafka';
import { UserError, messageOf } from '../errors.js';

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

interface TreeNode {
  message?: string;
  errors?: unknown[];
  cause?: unknown;
  apiId?: string;
  serverErrorMessage?: string | null;
}

/** The first error in `e`'s tree (itself, `.errors`, `.cause`, depth first) that `pred` accepts. */
export function findError(e: unknown, pred: (x: unknown) => boolean, depth = 0): unknown {
  if (e === null || e === undefined || depth > 16) return undefined;
  if (pred(e)) return e;
  if (typeof e !== 'object') return undefined;
  const n = e as TreeNode;
  if (Array.isArray(n.errors)) {
    for (const x of n.errors) {
      const f = findError(x, pred, depth + 1);
      if (f !== undefined) return f;
    }
  }
  return n.cause !== undefined ? findError(n.cause, pred, depth + 1) : undefined;
}

/** Whether the broker refused our credentials somewhere in the tree. */
export function isAuthError(e: unknown): boolean {
  return findError(e, (x) => x instanceof AuthenticationError || (x as TreeNode).apiId === 'SASL_AUTHENTICATION_FAILED') !== undefined;
}

/** The Kafka protocol error id (UNKNOWN_PRODUCER_ID, MESSAGE_TOO_LARGE, ...) found in the tree, if one of `ids`. */
export function protocolErrorIn(e: unknown, ids: readonly string[]): string | undefined {
  const f = findError(e, (x) => typeof (x as TreeNode)?.apiId === 'string' && ids.includes((x as TreeNode).apiId!));
  return f === undefined ? undefined : (f as TreeNode).apiId;
}

/** @platformatic/kafka's answer for a topic the broker does not know (UNKNOWN_TOPIC_OR_PARTITION in a metadata response). */
export function isUnknownTopic(e: unknown, topic: string): boolean {
  return findError(e, (x) => (x as TreeNode)?.apiId === 'UNKNOWN_TOPIC_OR_PARTITION' || messageOf(x) === `Unknown topic ${topic}.`) !== undefined;
}

/**
 * One line saying what went wrong: the deepest message of the tree (ECONNREFUSED, the broker's
 * own error text), after the AuthenticationError's when there is one.
 */
export function describeKafkaError(e: unknown): string {
  const auth = findError(e, (x) => x instanceof AuthenticationError) as TreeNode | undefined;
  const root = auth ?? e;
  let leaf: unknown = root;
  let server: string | undefined;
  for (let depth = 0; depth < 16 && leaf !== null && typeof leaf === 'object'; depth++) {
    const n = leaf as TreeNode;
    if (typeof n.serverErrorMessage === 'string' && n.serverErrorMessage) server = n.serverErrorMessage;
    const next = Array.isArray(n.errors) && n.errors.length > 0 ? n.errors[0] : n.cause;
    if (next === undefined || next === null) break;
    leaf = next;
  }
  const parts = auth ? [messageOf(auth)] : [];
  const deepest = messageOf(leaf);
  if (!parts.includes(deepest)) parts.push(deepest);
  if (server && !parts.some((p) => p.includes(server!))) parts.push(server);
  return parts.map((p) => p.replace(/\.$/, '')).join(': ').replace(/\s*\n\s*/g, ' ');
}
