export { EmbeddedTransport, EMBEDDED_DEFAULTS } from './embedded-transport.js';
export type { EmbeddedTransportOptions } from './embedded-transport.js';
