// Config sections of the sensor (input, flow, fragment, live capture, L7 parsers, nDPI) and its key of the
// `output` section (observation), with the typed resolvers that turn them into SensorOptions /
// LiveOptions. Key names follow the Rockfish probe's YAML (the seeds), which users already know.
// The process schema is composed in pipeline/config.ts.
import { bool, num, str, type Config, type ConfigSchema, type SectionSpec } from '../../streams/config.js';
import { loadNative, type SensorOptions } from './native.js';
import { UserError } from '../../streams/errors.js';
import type { LiveOptions, LiveType, FanoutMode } from './live-sensor.js';
import type { WatchOptions } from './watch.js';

export const SENSOR_CONFIG: ConfigSchema = {
  input: {
    source: { type: 'string', description: 'PCAP/PCAPNG file path or glob; with live_type, an interface name', example: 'capture.pcap' },
    live_type: { type: 'string', enum: ['pcap', 'afpacket'], description: 'Capture live from the interface named by source: pcap (libpcap) or afpacket (Linux TPACKET_V3); absent = source is a capture file or glob', example: 'afpacket' },
    promisc_off: { type: 'bool', default: false, description: 'Disable promiscuous mode (live capture)' },
    filter: { type: 'string', description: 'BPF filter expression', example: 'tcp or udp' },
    snaplen: { type: 'int', default: 65535, min: 64, max: 262144, description: 'Maximum bytes per packet' },
    watch: { type: 'bool', default: false, description: 'Watch source (a directory or glob) for rotated capture files: each is read once, when closed, in name order; runs until stopped' },
    watch_settle_s: { type: 'int', default: 30, min: 1, description: 'With watch: seconds without change after which the newest file counts as closed' },
    watch_state: { type: 'string', description: 'With watch: file remembering the captures already read, so a restart goes on (default under ~/.local/state/damselfly)', example: '/var/lib/damselfly/watch.jsonl' },
  },
  flow: {
    idle_timeout: { type: 'int', default: 300, min: 1, description: 'Seconds of inactivity before a flow expires' },
    active_timeout: { type: 'int', default: 1800, min: 1, description: 'Maximum flow duration before export (seconds)' },
    max_flows: { type: 'int', default: 0, min: 0, description: 'Maximum concurrent flows (0 = unlimited); the oldest is evicted' },
    max_payload: { type: 'int', default: 500, min: 0, max: 65535, description: 'Payload bytes per direction used for entropy' },
    mac: { type: 'bool', default: true, description: 'Include MAC addresses' },
    status_interval: { type: 'int', default: 60, min: 0, description: 'Seconds (packet time) between `update` events of an active flow; 0 = no updates (a `start` event is always emitted)' },
    quic_decrypt: { type: 'bool', default: true, description: 'Decrypt QUIC client Initial packets (keys any observer derives from the connection id) to read the ClientHello: a `tls` event with SNI, ALPN and JA4 "q..."; false: QUIC flows only get quic_version, quic_dcid and quic_scid' },
  },
  afpacket: {
    block_size: { type: 'int', default: 2097152, min: 4096, max: 1 << 30, description: 'Ring buffer block size in bytes (multiple of the page size); ring = block_size x block_count' },
    block_count: { type: 'int', default: 64, min: 1, max: 65536, description: 'Number of ring buffer blocks' },
    fanout_group: { type: 'int', default: 0, min: 0, max: 65535, description: 'Fanout group ID (0 = disabled); processes with the same group share the interface' },
    fanout_mode: { type: 'string', default: 'hash', enum: ['hash', 'lb', 'cpu', 'rollover', 'random'], description: 'Fanout distribution: hash (by flow), lb, cpu, rollover, random' },
  },
  fragment: {
    disabled: { type: 'bool', default: false, description: 'Disable IP fragment reassembly' },
    max_tables: { type: 'int', default: 1024, min: 1, description: 'Max concurrent fragment tables' },
    timeout: { type: 'int', default: 30, min: 1, description: 'Fragment timeout in seconds' },
  },
  l7: {
    max_events_per_flow: { type: 'int', default: 0, min: 0, description: 'DNS/TLS/HTTP events reported per flow (every DNS message, every HTTP request/response pair); 0 = all. Events over the limit are counted in the l7_events_capped statistic' },
    max_buffer: { type: 'int', default: 16384, min: 1024, max: 1048576, description: 'Unparsed TCP bytes buffered per direction of a flow for the L7 parsers: one message head (HTTP headers, a DNS-over-TCP message, a TLS handshake) must fit; parsed messages are released and bodies skipped unbuffered. A direction that overflows is counted in l7_stream_lost' },
  },
  ndpi: {
    enabled: { type: 'bool', default: false, description: 'Enable nDPI application labeling (ndpi_appid, ndpi_category, ndpi_risk_score, ndpi_risk_severity, ndpi_risk_list on flow end events)' },
    protocol_file: { type: 'string', description: 'Custom protocol definitions (nDPI protos.txt format)', example: '/opt/damselfly/etc/ndpi-protos.txt' },
    categories_file: { type: 'string', description: 'Custom category definitions (nDPI categories.txt format)', example: '/opt/damselfly/etc/ndpi-categories.txt' },
  },
};

/** The sensor's key of the `output` section. */
export const SENSOR_OUTPUT_KEYS: SectionSpec = {
  observation: { type: 'string', default: 'damselfly', description: 'Observation domain name (sensor name): obname of every event, folder of its Parquet files', example: 'sensor-01' },
};

export function sensorOptions(c: Config): SensorOptions {
  const filter = str(c, 'input', 'filter');
  // A filter that does not compile fails here, before any sink or analyzer starts.
  if (filter !== undefined) {
    const problem = loadNative().checkFilter(filter);
    if (problem !== null) throw new UserError(`invalid filter '${filter}': ${problem}`);
  }
  const protocolFile = str(c, 'ndpi', 'protocol_file');
  const categoriesFile = str(c, 'ndpi', 'categories_file');
  return {
    observation: str(c, 'output', 'observation') ?? String(SENSOR_OUTPUT_KEYS.observation!.default),
    idleTimeout: num(c, 'flow', 'idle_timeout'),
    activeTimeout: num(c, 'flow', 'active_timeout'),
    maxFlows: num(c, 'flow', 'max_flows'),
    maxPayload: num(c, 'flow', 'max_payload'),
    snaplen: num(c, 'input', 'snaplen'),
    mac: bool(c, 'flow', 'mac'),
    statusInterval: num(c, 'flow', 'status_interval'),
    quicDecrypt: bool(c, 'flow', 'quic_decrypt'),
    l7MaxBuffer: num(c, 'l7', 'max_buffer'),
    l7MaxEventsPerFlow: num(c, 'l7', 'max_events_per_flow'),
    ...(filter !== undefined ? { filter } : {}),
    fragment: {
      disabled: bool(c, 'fragment', 'disabled'),
      maxTables: num(c, 'fragment', 'max_tables'),
      timeout: num(c, 'fragment', 'timeout'),
    },
    ...(bool(c, 'ndpi', 'enabled')
      ? { ndpi: { enabled: true, ...(protocolFile !== undefined ? { protocolFile } : {}), ...(categoriesFile !== undefined ? { categoriesFile } : {}) } }
      : {}),
  };
}

/** Live capture options when input.live_type is set (input.source is then an interface name). */
/** Watch mode's options; undefined when input.watch is off. */
export function watchOptions(c: Config): WatchOptions | undefined {
  if (!bool(c, 'input', 'watch')) return undefined;
  if (str(c, 'input', 'live_type') !== undefined) throw new UserError('--watch reads rotated capture files; it does not combine with --live');
  const source = str(c, 'input', 'source');
  if (!source || source === '-') throw new UserError('--watch needs a directory or a glob of capture files: -i /data/captures (or -i \'/data/captures/*.pcap\')');
  const state = str(c, 'input', 'watch_state');
  return { source, settleSeconds: num(c, 'input', 'watch_settle_s'), ...(state ? { stateFile: state } : {}) };
}

export function liveOptions(c: Config): LiveOptions | undefined {
  const type = str(c, 'input', 'live_type');
  if (type === undefined) return undefined;
  return {
    iface: str(c, 'input', 'source') ?? '',
    type: type as LiveType,
    promisc: !bool(c, 'input', 'promisc_off'),
    blockSize: num(c, 'afpacket', 'block_size'),
    blockCount: num(c, 'afpacket', 'block_count'),
    fanoutGroup: num(c, 'afpacket', 'fanout_group'),
    fanoutMode: (str(c, 'afpacket', 'fanout_mode') ?? 'hash') as FanoutMode,
  };
}
