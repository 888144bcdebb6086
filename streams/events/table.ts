// THE event-type table: one entry per event type, from which everything else is derived — topic
// names, partition keys, the analyzer hooks, what the sensor emits, the columns of a batch (and so
// the Arrow schema, the JSON shape, the sandbox views and the C++ column list, which a test holds
// equal to this one). Adding an event type is one entry here plus whatever produces it.
// Pure data, no Node APIs: bundled into the analyzer sandboxes.
import type { ColumnSpec } from './columns.js';
import {
  ALERT_FIELDS, COMMUNITY_FIELDS, CONTROL_FIELDS, DNS_FIELDS, ENVELOPE, HTTP_FIELDS, L7_BASE, NDPI_FIELDS, QUIC_FIELDS, STATS_FIELDS,
  TLS_FIELDS, TRIGGER_FIELDS,
} from './fields.js';

/** Version of the event layout (`v` of every event and batch). Bump on an incompatible change. */
export const EVENT_SCHEMA_VERSION = 1;

export const FLOW_KINDS = ['start', 'update', 'end'] as const;

export interface EventTypeSpec {
  /** Topic suffix: the topic is `<prefix>.<topic>`. */
  readonly topic: string;
  /** Column whose value keys the event (Kafka partition): all events of a flow share a partition. */
  readonly key: string;
  /** Who publishes it: the sensor, analyzers, or pipeline components. */
  readonly source: 'sensor' | 'analyzer' | 'pipeline';
  /** Analyzers may export a hook of this type's name (`flow(e, ctx)`, `dns(e, ctx)`, ...). */
  readonly hook: boolean;
  readonly description: string;
  readonly columns: readonly ColumnSpec[];
}

const FLOW_COLUMNS: readonly ColumnSpec[] = [
  { name: 'ts', type: 'Timestamp', description: 'Event time: the flow\'s last packet so far (= etime), µs' },
  { name: 'kind', type: 'UInt8', enum: FLOW_KINDS, description: 'start (first packet), update (every status_interval), end (the final record)' },
  { name: 'seq', type: 'UInt32', description: 'Record number within the flow: start 0, one per update, end last' },
  ...COMMUNITY_FIELDS,
  ...NDPI_FIELDS,
  ...QUIC_FIELDS,
];

export const EVENT_TYPES = {
  flow: {
    topic: 'flows', key: 'flowid', source: 'sensor', hook: true, columns: FLOW_COLUMNS,
    description: 'A flow record: start, update (cumulative counters) or end; fields of the seeds\' Community tier plus nDPI',
  },
  dns: {
    topic: 'dns', key: 'flowid', source: 'sensor', hook: true, columns: [...ENVELOPE, ...L7_BASE, ...DNS_FIELDS],
    description: 'One DNS message (query with its response when seen)',
  },
  tls: {
    topic: 'tls', key: 'flowid', source: 'sensor', hook: true, columns: [...ENVELOPE, ...L7_BASE, ...TLS_FIELDS],
    description: 'One TLS handshake: ClientHello fields, JA3/JA4, and the server\'s choice (JA3S)',
  },
  http: {
    topic: 'http', key: 'flowid', source: 'sensor', hook: true, columns: [...ENVELOPE, ...L7_BASE, ...HTTP_FIELDS],
    description: 'One HTTP request with its response status',
  },
  alert: {
    topic: 'alerts', key: 'flowid', source: 'analyzer', hook: false, columns: [...ENVELOPE, ...ALERT_FIELDS],
    description: 'A scored finding of an analyzer',
  },
  trigger: {
    topic: 'triggers', key: 'hosts', source: 'pipeline', hook: false, columns: [...ENVELOPE, ...TRIGGER_FIELDS],
    description: 'Start or stop recording the packets of hosts',
  },
  stats: {
    topic: 'stats', key: 'component', source: 'pipeline', hook: false, columns: [...ENVELOPE, ...STATS_FIELDS],
    description: 'Counters of one component',
  },
  control: {
    topic: 'control', key: 'producer', source: 'pipeline', hook: false, columns: [...ENVELOPE, ...CONTROL_FIELDS],
    description: 'A process begins or ends publishing (Kafka only): how stages of a bounded run know their input has ended',
  },
} as const satisfies Record<string, EventTypeSpec>;

export type EventType = keyof typeof EVENT_TYPES;

export const EVENT_TYPE_NAMES = Object.keys(EVENT_TYPES) as EventType[];

/** Types the sensor emits, in the order a batch emits them. */
export const SENSOR_EVENT_TYPES = EVENT_TYPE_NAMES.filter((t) => EVENT_TYPES[t].source === 'sensor') as ('flow' | 'dns' | 'tls' | 'http')[];

/** Types an analyzer can export a hook for. */
export const HOOK_TYPES = EVENT_TYPE_NAMES.filter((t) => EVENT_TYPES[t].hook) as ('flow' | 'dns' | 'tls' | 'http')[];

export function isEventType(t: string): t is EventType {
  return Object.prototype.hasOwnProperty.call(EVENT_TYPES, t);
}

export function spec(type: EventType): EventTypeSpec {
  return EVENT_TYPES[type];
}

export const DEFAULT_TOPIC_PREFIX = 'damselfly';

export function topicFor(type: EventType, prefix: string = DEFAULT_TOPIC_PREFIX): string {
  return `${prefix}.${EVENT_TYPES[type].topic}`;
}

/** The event type a topic carries (`<prefix>.<suffix>`), or undefined. */
export function typeOfTopic(topic: string): EventType | undefined {
  const suffix = topic.slice(topic.lastIndexOf('.') + 1);
  return EVENT_TYPE_NAMES.find((t) => EVENT_TYPES[t].topic === suffix);
}
