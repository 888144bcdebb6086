// Public surface of the streams module. Other modules import from here, not from the files.
export * from './schema.js';
export type {
  BatchHandler,
  GroupStats,
  HandlerErrorContext,
  RetryOptions,
  StreamEvent,
  SubscribeOptions,
  Subscription,
  TopicStats,
  Transport,
  TransportStats,
} from './transport.js';
export {
  DamselflyError,
  HandlerError,
  InternalError,
  InvalidArgumentError,
  SubscriptionFailedError,
  TransportClosedError,
  UserError,
  formatError,
  isUserError,
  messageOf,
} from './errors.js';
export type { DamselflyErrorOptions, ErrorCode } from './errors.js';
export { EmbeddedTransport, EMBEDDED_DEFAULTS } from './embedded/index.js';
export type { EmbeddedTransportOptions } from './embedded/index.js';
