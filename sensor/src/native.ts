// Idiomatic TypeScript face of the native sensor core (sensor/native). The addon does the
// per-packet work on a libuv worker thread; this module only validates arguments, maps native
// errors to the module's error classes and types the results. Flows cross the boundary in
// batches (one array per readBatch/flush), never one call per packet or per flow.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FlowRecord } from '../../streams/schema.js';
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
}

export interface CaptureErrorInfo {
  file: string;
  /** 0-based index (within the file) of the packet that could not be read. */
  packetIndex: number;
  /** File offset where libpcap failed (-1 when unknown). */
  byteOffset: number;
  message: string;
}

export interface BatchResult {
  flows: FlowRecord[];
  packets: number;
  bytes: number;
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

/** Columnar flow batch from the addon: 31 numbers and 12 '|'-terminated strings per flow. */
export interface FlowColumns { n: number; nums: Float64Array; strs: string }

interface NativeBatch { flows: FlowColumns; packets: number; bytes: number; done: boolean; error?: CaptureErrorInfo }

interface NativeSensorHandle {
  open(path: string): void;
  readBatch(maxPackets?: number): Promise<NativeBatch>;
  flush(): FlowColumns;
  stats(): SensorStats;
}

const NUM_COLS = 31;
const STR_COLS = 12;

/** Builds FlowRecords from a columnar batch (one object literal per flow: one hidden class). */
export function decodeFlows(c: FlowColumns, obname: string): FlowRecord[] {
  const out = new Array<FlowRecord>(c.n);
  if (c.n === 0) return out;
  const v = c.nums;
  const s = c.strs.split('|');
  for (let i = 0; i < c.n; i++) {
    const o = i * NUM_COLS;
    const k = i * STR_COLS;
    out[i] = {
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
  }
  return out;
}

interface NativeAddon {
  NativeSensor: new (opts: SensorOptions) => NativeSensorHandle;
  communityId(saddr: string, daddr: string, proto: number, sport: number, dport: number): string;
}

/** The package root: the nearest ancestor of this module holding package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new InternalError('cannot locate the damselfly package root');
    dir = up;
  }
}

let addon: NativeAddon | undefined;

export function addonPath(): string {
  return join(packageRoot(), 'sensor', 'native', 'build', 'Release', 'damselfly_native.node');
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
    this.native = new N(opts);
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
      const r: BatchResult = { flows: decodeFlows(b.flows, this.obname), packets: b.packets, bytes: b.bytes, done: b.done };
      if (b.error) r.error = b.error;
      return r;
    } finally {
      this.busy = false;
    }
  }

  /** Ends every remaining flow with reason `eof` and returns them (call after the last file). */
  flush(): FlowRecord[] {
    if (this.busy) throw new InternalError('FileSensor.flush() while a readBatch() is running');
    return decodeFlows(this.native.flush(), this.obname);
  }

  stats(): SensorStats {
    return this.native.stats();
  }
}
