// Idiomatic TypeScript face of the native sensor core (sensor/native). The addon does the
// per-packet work on a libuv worker thread; this module only validates arguments, maps native
// errors to the module's error classes and types the results. Flows cross the boundary in
// batches (one array per readBatch/flush), never one call per packet or per flow.
import { createRequire } from 'node:module';
import { packagePath } from '../../streams/package-root.js';
import { EVENT_SCHEMA_VERSION, type FlowRecord, type FlowEvent, type FlowKind, type DnsEvent, type DnsAnswer, type TlsEvent, type HttpEvent } from '../../streams/schema.js';
import { UserError, InternalError } from '../../streams/errors.js';

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
  /** Run the DNS/TLS/HTTP parsers on the first packets of each flow (default true). */
  l7?: boolean;
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
  /** Flows that ended in this batch (kind `end`, with their final `seq`). */
  flows: FlowEvent[];
  /** `start` / `update` records of this batch, in packet order (cumulative counters). */
  updates: FlowEvent[];
  /** L7 events of this batch, each list in packet order. */
  dns: DnsEvent[];
  tls: TlsEvent[];
  http: HttpEvent[];
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
  capture_errors: number;
  /** nDPI per-flow states currently allocated (flows still being classified). */
  ndpi_states: number;
  /** Flows nDPI classified (by inspection or, at giveup, by port guess). */
  ndpi_classified: number;
}

/** A capture file could not be opened (missing, unreadable, not a pcap/pcapng, bad filter). */
export class CaptureOpenError extends UserError {
  constructor(readonly file: string, message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'CaptureOpenError';
  }
}

/** The native addon is missing or failed to load (run `npm run build:native`). */
export class NativeLoadError extends InternalError {
  constructor(path: string, cause: unknown) {
    super(`cannot load the native sensor addon at ${path} (run npm run build:native)`, { cause });
    this.name = 'NativeLoadError';
  }
}

/** Columnar flow batch from the addon: 33 numbers and 14 '|'-terminated strings per flow. */
export interface FlowColumns { n: number; nums: Float64Array; strs: string }

interface NativeBatch { flows: FlowColumns; status: FlowColumns; l7: string; packets: number; bytes: number; done: boolean; error?: CaptureErrorInfo }

interface NativeSensorHandle {
  open(path: string): void;
  readBatch(maxPackets?: number): Promise<NativeBatch>;
  flush(): { flows: FlowColumns; status: FlowColumns; l7: string };
  stats(): SensorStats;
}

const NUM_COLS = 33;
const STR_COLS = 21;
const KINDS: readonly FlowKind[] = ['start', 'update', 'end'];

/**
 * Builds flow events from a columnar batch (one object literal per flow: one hidden class; the
 * optional ndpi_ja4/ndpi_ja3s are added only to TLS flows' end records).
 */
export function decodeFlows(c: FlowColumns, obname: string): FlowEvent[] {
  const out = new Array<FlowEvent>(c.n);
  if (c.n === 0) return out;
  const v = c.nums;
  const s = c.strs.split('|');
  for (let i = 0; i < c.n; i++) {
    const o = i * NUM_COLS;
    const k = i * STR_COLS;
    const r: FlowEvent = {
      type: 'flow', v: EVENT_SCHEMA_VERSION, ts: v[o + 1]!, kind: KINDS[v[o + 31]!]!, seq: v[o + 32]!,
      version: 1, flowid: s[k]!, obname,
      stime: v[o]!, etime: v[o + 1]!, dur: v[o + 2]!, rtt: v[o + 3]!, pcr: v[o + 4]!,
      proto: s[k + 1]!, saddr: s[k + 2]!, daddr: s[k + 3]!, sport: v[o + 5]!, dport: v[o + 6]!,
      iflags: s[k + 4]!, uflags: s[k + 5]!, stcpseq: v[o + 7]!, dtcpseq: v[o + 8]!,
      svlan: v[o + 9]!, dvlan: v[o + 10]!, spkts: v[o + 11]!, dpkts: v[o + 12]!,
      sbytes: v[o + 13]!, dbytes: v[o + 14]!, sentropy: v[o + 15]!, dentropy: v[o + 16]!,
      ssmallpktcnt: v[o + 17]!, dsmallpktcnt: v[o + 18]!, slargepktcnt: v[o + 19]!, dlargepktcnt: v[o + 20]!,
      snonemptypktcnt: v[o + 21]!, dnonemptypktcnt: v[o + 22]!,
      sfirstnonemptycnt: v[o + 23]!, dfirstnonemptycnt: v[o + 24]!,
      smaxpktsize: v[o + 25]!, dmaxpktsize: v[o + 26]!, savgpayload: v[o + 27]!, davgpayload: v[o + 28]!,
      sstdevpayload: v[o + 29]!, dstdevpayload: v[o + 30]!,
      spd: s[k + 6]!, spdt: s[k + 7]!, reason: s[k + 8] as FlowRecord['reason'],
      smac: s[k + 9]!, dmac: s[k + 10]!, community_id: s[k + 11]!,
    };
    if (s[k + 12]) r.ndpi_ja4 = s[k + 12]!;
    if (s[k + 13]) r.ndpi_ja3s = s[k + 13]!;
    if (s[k + 14]) {  // nDPI on: end records carry the labels
      r.ndpi_appid = s[k + 14]!;
      r.ndpi_category = s[k + 15]!;
      r.ndpi_risk_score = Number(s[k + 16]);
      r.ndpi_risk_severity = Number(s[k + 17]);
      r.ndpi_risk_list = s[k + 18]!;
      if (s[k + 19]) r.ndpi_tcp_fp = s[k + 19]!;
      if (s[k + 20]) r.ndpi_fp = s[k + 20]!;
    }
    out[i] = r;
  }
  return out;
}

export interface L7Events { dns: DnsEvent[]; tls: TlsEvent[]; http: HttpEvent[] }

/**
 * Decodes the addon's L7 string: events end with \x1c; fields are \x1f-separated:
 * type ts flowid saddr daddr sport dport community_id, then the type's fields (l7/l7.h). Text
 * fields are printable ASCII: other bytes arrive escaped as \xHH (and '\' as '\\').
 */
export function decodeL7(str: string, obname: string): L7Events {
  const out: L7Events = { dns: [], tls: [], http: [] };
  if (str.length === 0) return out;
  const evs = str.split('\x1c');
  for (let i = 0; i < evs.length - 1; i++) {
    const f = evs[i]!.split('\x1f');
    const base = {
      v: EVENT_SCHEMA_VERSION, obname, ts: Number(f[1]), flowid: f[2]!, community_id: f[7]!,
      saddr: f[3]!, daddr: f[4]!, sport: Number(f[5]), dport: Number(f[6]),
    };
    switch (f[0]) {
      case '1': {
        const answers: DnsAnswer[] = [];
        if (f[11]) {
          for (const a of f[11].split('\x1e')) {
            const p = a.split('\x1d');
            answers.push({ name: p[0]!, type: p[1]!, ttl: Number(p[2]), data: p[3] ?? '' });
          }
        }
        out.dns.push({ type: 'dns', ...base, query: f[8]!, qtype: f[9]!, rcode: f[10]!, answers });
        break;
      }
      case '2':
        out.tls.push({ type: 'tls', ...base, sni: f[8]!, alpn: f[9]!, version: f[10]!, cipher: f[11]!, ja3: f[12]!, ja3s: f[13]!, ja4: f[14]! });
        break;
      case '3':
        out.http.push({ type: 'http', ...base, method: f[8]!, host: f[9]!, uri: f[10]!, user_agent: f[11]!, status: Number(f[12]) });
        break;
    }
  }
  return out;
}

interface NativeAddon {
  NativeSensor: new (opts: SensorOptions) => NativeSensorHandle;
  communityId(saddr: string, daddr: string, proto: number, sport: number, dport: number): string;
}

let addon: NativeAddon | undefined;

export function addonPath(): string {
  return packagePath('sensor', 'native', 'build', 'Release', 'damselfly_native.node');
}

export function loadNative(): NativeAddon {
  if (addon) return addon;
  const path = addonPath();
  try {
    addon = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (e) {
    throw new NativeLoadError(path, e);
  }
  return addon;
}

/** Community ID v1 (seed 0) of a flow tuple; for ICMP pass type as sport and code as dport. */
export function communityId(saddr: string, daddr: string, proto: number, sport: number, dport: number): string {
  return loadNative().communityId(saddr, daddr, proto, sport, dport);
}

export class FileSensor {
  private readonly native: NativeSensorHandle;
  private busy = false;
  private readonly obname: string;

  constructor(opts: SensorOptions) {
    const N = loadNative().NativeSensor;
    try {
      this.native = new N(opts);
    } catch (e) {  // a custom nDPI file that cannot be loaded is the user's to fix
      const msg = (e as Error).message ?? String(e);
      if (msg.startsWith('nDPI: ')) throw new UserError(msg, { cause: e });
      throw e;
    }
    this.obname = opts.observation;
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
   * flows that ended meanwhile. `done` is true at end of file or after a read error (`error`).
   */
  async readBatch(maxPackets = 65536): Promise<BatchResult> {
    if (this.busy) throw new InternalError('FileSensor.readBatch() called concurrently');
    this.busy = true;
    try {
      const b = await this.native.readBatch(maxPackets);
      const r: BatchResult = {
        flows: decodeFlows(b.flows, this.obname), updates: decodeFlows(b.status, this.obname),
        ...decodeL7(b.l7, this.obname), packets: b.packets, bytes: b.bytes, done: b.done,
      };
      if (b.error) r.error = b.error;
      return r;
    } finally {
      this.busy = false;
    }
  }

  /** Ends every remaining flow with reason `eof` and returns them (call after the last file). */
  flush(): FlowEvent[] {
    return this.flushAll().flows;
  }

  /** Like flush(), with the pending start/update records and the L7 events of the final flows. */
  flushAll(): BatchResult {
    if (this.busy) throw new InternalError('FileSensor.flush() while a readBatch() is running');
    const b = this.native.flush();
    return { flows: decodeFlows(b.flows, this.obname), updates: decodeFlows(b.status, this.obname), ...decodeL7(b.l7, this.obname), packets: 0, bytes: 0, done: true };
  }

  stats(): SensorStats {
    return this.native.stats();
  }
}
