// Idiomatic TypeScript face of the native sensor core (sensor/native). The addon does the
// per-packet work on a libuv worker thread and hands each batch over by column (one typed array or
// one string per column, see sensor/native/src/columns.h); this module wraps those columns as
// EventBatches, validates arguments, maps native errors to the module's error classes and types
// the results. No per-event work happens here.
import { addonPath as packageAddonPath, requireAddon } from '../../streams/addon.js';
import type { FlowEvent } from '../../streams/schema.js';
import { UserError, InternalError } from '../../streams/errors.js';
import { EventBatch } from '../../streams/events/batch.js';
import type { Columns, Validity, ColumnSpec } from '../../streams/events/columns.js';
import { EVENT_TYPES, SENSOR_EVENT_TYPES } from '../../streams/events/table.js';

export interface SensorOptions {
  /** Observation domain name, copied into every record's `obname`. */
  observation: string;
  /** Seconds without packets after which a flow ends with reason `idle`. */
  idleTimeout: number;
  /** Seconds after the first packet after which a flow ends with reason `active`. */
  activeTimeout: number;
  /** Maximum concurrent flows (0 = unlimited); the least recently active flow is evicted. */
  maxFlows: number;
  /** Payload bytes per direction used for the entropy features. */
  maxPayload: number;
  /** Truncate captured frames to this many bytes (0 = keep). */
  snaplen: number;
  /** BPF filter expression applied to every file. */
  filter?: string;
  /** Fill smac/dmac from Ethernet headers. */
  mac: boolean;
  fragment: { disabled: boolean; maxTables: number; timeout: number };
  /**
   * Seconds (packet time) between `update` records of an active flow; 0 = no updates. A `start`
   * record is emitted at every flow's first packet unless statusEvents is false. Default 60.
   */
  statusInterval?: number;
  /** Emit `start`/`update` flow records (default true). */
  statusEvents?: boolean;
  /** Run the DNS/TLS/QUIC/DTLS/HTTP parsers (default true): every DNS message and HTTP
   * request/response of a flow, the TLS handshake(s), QUIC/DTLS ClientHellos. */
  l7?: boolean;
  /**
   * Decrypt QUIC client Initial packets to read their ClientHello (a `tls` event with JA4 "q...");
   * false: QUIC flows only get quic_version/quic_dcid/quic_scid. Default: config flow.quic_decrypt.
   */
  quicDecrypt?: boolean;
  /** Unparsed TCP bytes buffered per direction for the L7 parsers (one message head must fit;
   * default 16384, at least 1024). */
  l7MaxBuffer?: number;
  /** L7 events reported per flow, 0 = all (default); the rest count in l7_events_capped. */
  l7MaxEventsPerFlow?: number;
  /** nDPI labels (ndpi_appid, ndpi_category, ndpi_risk_*) on end records; off by default. */
  ndpi?: { enabled: boolean; protocolFile?: string; categoriesFile?: string };
}

export interface CaptureErrorInfo {
  file: string;
  /** 0-based index (within the file) of the packet that could not be read. */
  packetIndex: number;
  /** File offset where libpcap failed (-1 when unknown). */
  byteOffset: number;
  message: string;
}

/** What one batch of the native sensor carries, from a file or a live interface. */
export interface SensorBatch {
  /** Flow records of this batch: start/update records first, then the flows that ended (kind end), each in packet order. */
  flow: EventBatch<'flow'>;
  /** L7 events of this batch, each in packet order. */
  dns: EventBatch<'dns'>;
  tls: EventBatch<'tls'>;
  http: EventBatch<'http'>;
  /** How many flows ended in this batch (rows of kind end). */
  ended: number;
  /** Packets and bytes read since the previous batch. */
  packets: number;
  bytes: number;
}

export interface BatchResult extends SensorBatch {
  done: boolean;
  error?: CaptureErrorInfo;
}

/** Counters of the native core (cumulative over the sensor's lifetime). */
export interface SensorStats {
  packets: number;
  bytes: number;
  files: number;
  err_truncated: number;
  err_bad_ipv4: number;
  err_bad_ipv6: number;
  err_bad_l4: number;
  /** Packets metered without their whole transport header (cut by the snaplen or the IP length):
   * on the 5-tuple flow when both ports were captured, else on the IP-level flow (ports 0). */
  l4_header_cut: number;
  err_unsupported_link: number;
  non_ip: number;
  flows_created: number;
  flows_ended: number;
  flows_active: number;
  flows_evicted: number;
  frag_fragments: number;
  frag_reassembled: number;
  frag_timed_out: number;
  frag_dropped: number;
  /** Fragment datagrams still incomplete at their timeout, at their eviction for
   * fragment.max_tables (also in frag_dropped) or at the end of the capture, each
   * metered as one packet of its flow: ports from the offset-0 fragment when it arrived, else 0. */
  frag_incomplete: number;
  capture_errors: number;
  /** L7 events (dns/tls/http) reported. */
  l7_events: number;
  /** L7 events not reported because their flow reached l7.max_events_per_flow. */
  l7_events_capped: number;
  /** DNS queries / HTTP requests reported unanswered early because too many newer ones were
   * waiting for their answers (a later answer is then reported on its own). */
  l7_pending_evicted: number;
  /** TCP directions whose L7 parsing stopped early: a gap in the capture, or a message head
   * larger than l7.max_buffer (later messages of that direction are not reported). */
  l7_stream_lost: number;
  /** nDPI per-flow states currently allocated (flows still being classified). */
  ndpi_states: number;
  /** Flows nDPI classified (by inspection or, at giveup, by port guess). */
  ndpi_classified: number;
  /** QUIC client Initial packets decrypted. */
  quic_initials: number;
  /** QUIC client Initial packets that did not decrypt (truncated, not the client's keys, altered). */
  quic_decrypt_failed: number;
  /** QUIC long-header packets of a version we hold no Initial keys for (not decrypted). */
  quic_unsupported_version: number;
  /** QUIC CRYPTO bytes beyond the 16 KiB reassembly window (or its 32 ranges) of a flow: not used. */
  quic_crypto_dropped: number;
  /** QUIC Initial packets whose frame walk stopped at a frame type it does not step over. */
  quic_frames_unknown: number;
  /** QUIC flows that ended with CRYPTO data but no complete ClientHello (no tls event). */
  quic_hello_incomplete: number;
  /** DTLS hello fragments (a hello split over records) that were not reassembled. */
  dtls_fragments_skipped: number;
  /** ClientHellos past the per-flow limit of 4 (TLS after HelloRetryRequests, DTLS): no event. */
  tls_hellos_skipped: number;
}

/** A capture file could not be opened (missing, unreadable, not a pcap/pcapng, bad filter). */
export class CaptureOpenError extends UserError {
  constructor(readonly file: string, message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'CaptureOpenError';
  }
}

/** The native addon is missing or failed to load (run `npm run build:native`). */
/** A batch as the addon hands it over (columns.h columns_to_js). */
export interface NativeColumns {
  flow: NativeTypeColumns;
  dns: NativeTypeColumns;
  tls: NativeTypeColumns;
  http: NativeTypeColumns;
  ended: number;
}
interface NativeTypeColumns { length: number; cols: Columns; valid: Validity }

interface NativeBatch extends NativeColumns { packets: number; bytes: number; done: boolean; error?: CaptureErrorInfo }

interface NativeSensorHandle {
  open(path: string): void;
  readBatch(maxPackets?: number): Promise<NativeBatch>;
  flush(): NativeColumns;
  stats(): SensorStats;
}

/** [name, type, nullable, item fields?] per column, as the addon describes its batches. */
export type NativeColumnList = [string, string, boolean, NativeColumnList?][];

/**
 * Wraps the addon's columns as EventBatches. The column lists were checked against the table when
 * the addon loaded (loadNative); the first batch of each sensor is also checked in full
 * (EventBatch.check), later ones are taken as they are.
 */
export function sensorBatchOf(c: NativeColumns, checked: boolean): Pick<SensorBatch, 'flow' | 'dns' | 'tls' | 'http' | 'ended'> {
  const wrap = <T extends 'flow' | 'dns' | 'tls' | 'http'>(type: T): EventBatch<T> => {
    const n = c[type];
    return (checked ? new EventBatch(type, n.length, n.cols, n.valid) : EventBatch.check({ type, ...n })) as EventBatch<T>;
  };
  return { flow: wrap('flow'), dns: wrap('dns'), tls: wrap('tls'), http: wrap('http'), ended: c.ended };
}

/** The ended flows (rows of kind end) of a batch, as plain objects. */
export function endedFlows(b: Pick<SensorBatch, 'flow'>): FlowEvent[] {
  const kind = b.flow.cols.kind as Uint8Array;
  const out: FlowEvent[] = [];
  for (let i = 0; i < b.flow.length; i++) if (kind[i] === 2) out.push((b.flow.get(i) as unknown as { toJSON(): FlowEvent }).toJSON());
  return out;
}

/** Describes a table column as the addon does, for comparing the two lists. */
export function describeColumn(s: ColumnSpec): NativeColumnList[number] {
  const row: NativeColumnList[number] = [s.name, s.type, s.nullable === true];
  if (s.type === 'List' && s.of?.fields) row.push(s.of.fields.map((f) => describeColumn(f)));
  return row;
}

/** Where the addon's column lists differ from the table (empty when they agree). */
export function columnListDifferences(native: Record<string, NativeColumnList>): string[] {
  const problems: string[] = [];
  for (const t of SENSOR_EVENT_TYPES) {
    const want = EVENT_TYPES[t].columns.map((s) => JSON.stringify(describeColumn(s)));
    const got = (native[t] ?? []).map((r) => JSON.stringify(r));
    const n = Math.max(want.length, got.length);
    for (let i = 0; i < n; i++) if (want[i] !== got[i]) problems.push(`${t} column ${i}: table ${want[i] ?? '(none)'}, native ${got[i] ?? '(none)'}`);
  }
  return problems;
}

interface NativeAddon {
  NativeSensor: new (opts: SensorOptions) => NativeSensorHandle;
  communityId(saddr: string, daddr: string, proto: number, sport: number, dport: number): string;
  /** null when the BPF expression compiles (Ethernet link type), else libpcap's message. */
  checkFilter(expr: string): string | null;
  /** Test helper: the client's QUIC Initial keys the parser derives (hex), null for an unknown version. */
  quicClientKeys(version: number, dcid: Buffer): { key: string; iv: string; hp: string } | null;
  columns(): Record<string, NativeColumnList>;
}

let addon: NativeAddon | undefined;

export function addonPath(): string {
  return packageAddonPath(['sensor', 'native'], 'damselfly_native');
}

export function loadNative(): NativeAddon {
  if (addon) return addon;
  const a = requireAddon<NativeAddon>(addonPath(), 'the native sensor addon');
  const diff = columnListDifferences(a.columns());
  if (diff.length > 0) throw new InternalError(`the native sensor's column lists differ from streams/events/table.ts (rebuild it: npm run build:native): ${diff.join('; ')}`);
  addon = a;
  return addon;
}

/** Community ID v1 (seed 0) of a flow tuple; for ICMP pass type as sport and code as dport. */
export function communityId(saddr: string, daddr: string, proto: number, sport: number, dport: number): string {
  return loadNative().communityId(saddr, daddr, proto, sport, dport);
}

export class FileSensor {
  private readonly native: NativeSensorHandle;
  private busy = false;
  private checked = false;

  constructor(opts: SensorOptions) {
    const N = loadNative().NativeSensor;
    try {
      this.native = new N(opts);
    } catch (e) {  // a custom nDPI file that cannot be loaded is the user's to fix
      const msg = (e as Error).message ?? String(e);
      if (msg.startsWith('nDPI: ')) throw new UserError(msg, { cause: e });
      throw e;
    }
  }

  private wrap(c: NativeColumns): Pick<SensorBatch, 'flow' | 'dns' | 'tls' | 'http' | 'ended'> {
    const b = sensorBatchOf(c, this.checked);
    this.checked = true;
    return b;
  }

  /** Opens the next capture file; the flow table persists across files. */
  open(path: string): void {
    if (this.busy) throw new InternalError('FileSensor.open() while a readBatch() is running');
    try {
      this.native.open(path);
    } catch (e) {
      const msg = (e as Error).message ?? String(e);
      throw new CaptureOpenError(path, msg.split('\n')[0]!, e);
    }
  }

  /**
   * Processes up to maxPackets packets of the open file on a worker thread; resolves with the
   * batch's events by type. `done` is true at end of file or after a read error (`error`).
   */
  async readBatch(maxPackets = 65536): Promise<BatchResult> {
    if (this.busy) throw new InternalError('FileSensor.readBatch() called concurrently');
    this.busy = true;
    try {
      const b = await this.native.readBatch(maxPackets);
      const r: BatchResult = { ...this.wrap(b), packets: b.packets, bytes: b.bytes, done: b.done };
      if (b.error) r.error = b.error;
      return r;
    } finally {
      this.busy = false;
    }
  }

  /** Ends every remaining flow with reason `eof` and returns them as objects (call after the last file). */
  flush(): FlowEvent[] {
    return endedFlows(this.flushAll());
  }

  /** Ends every remaining flow with reason `eof`: the final batch, with pending start/update records and L7 events. */
  flushAll(): BatchResult {
    if (this.busy) throw new InternalError('FileSensor.flush() while a readBatch() is running');
    return { ...this.wrap(this.native.flush()), packets: 0, bytes: 0, done: true };
  }

  stats(): SensorStats {
    return this.native.stats();
  }
}
