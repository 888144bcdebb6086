// Live capture face of the native core: a capture thread in the addon (libpcap or AF_PACKET
// TPACKET_V3) owns the flow table and hands ended flows to JS in batches, never per packet.
// This module validates options, maps open errors to a one-line user error and wraps batches.
import { loadNative, sensorBatchOf, type NativeColumns, type SensorOptions, type SensorStats, type SensorBatch } from './native.js';
import { UserError, InternalError } from '../../streams/errors.js';

export type LiveType = 'pcap' | 'afpacket';
export const LIVE_TYPES: readonly LiveType[] = ['pcap', 'afpacket'];
export type FanoutMode = 'hash' | 'lb' | 'cpu' | 'rollover' | 'random';
export const FANOUT_MODES: readonly FanoutMode[] = ['hash', 'lb', 'cpu', 'rollover', 'random'];

export interface LiveOptions {
  /** Interface name, e.g. eth0. */
  iface: string;
  type: LiveType;
  /** Promiscuous mode (default true; `--promisc-off` clears it). */
  promisc: boolean;
  /** Longest wait for packets before the capture thread checks for stop/expiry (ms, default 100). */
  timeoutMs?: number;
  /** AF_PACKET ring: bytes per block (multiple of the page size) and number of blocks. */
  blockSize: number;
  blockCount: number;
  /** AF_PACKET fanout group id (0 = none) and how packets are spread over its sockets. */
  fanoutGroup: number;
  fanoutMode: FanoutMode;
}

/** Counters of the core plus the kernel's view of the capture socket (cumulative). */
export interface LiveStats extends SensorStats {
  /** Packets the kernel handed to (or dropped for) this capture. */
  kernel_received: number;
  /** Packets the kernel dropped because the ring/buffer was full. */
  kernel_dropped: number;
  /** Packets dropped by the interface/driver (libpcap only, when known). */
  if_dropped: number;
  /** afpacket: loopback frames the kernel copies as PACKET_OUTGOING and that libpcap skips (each
   * comes back as an incoming frame); always 0 for pcap. */
  kernel_outgoing_skipped: number;
}

export interface LiveBatch extends SensorBatch {
  /** True for the last batch: the capture stopped and every remaining flow ended with `eof`. */
  final: boolean;
  /** Why the capture stopped on its own (interface removed, ...); absent after stop(). */
  error?: string;
  stats: LiveStats;
}

/** The interface cannot be captured on (no such interface, not root, bad filter or ring size). */
export class LiveCaptureError extends UserError {
  constructor(readonly iface: string, message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'LiveCaptureError';
  }
}

interface NativeLiveBatch extends NativeColumns { packets: number; bytes: number; final: boolean; error?: string; stats: LiveStats }
interface NativeLiveHandle {
  start(onBatch: (b: NativeLiveBatch) => void): void;
  stop(): void;
}
type NativeLiveCtor = new (opts: SensorOptions, live: LiveOptions) => NativeLiveHandle;

export class LiveSensor {
  private readonly native: NativeLiveHandle;
  private started = false;
  private checked = false;
  private last: LiveStats | undefined;

  constructor(opts: SensorOptions, readonly live: LiveOptions) {
    if (!LIVE_TYPES.includes(live.type)) throw new UserError(`live capture type '${String(live.type)}': must be one of ${LIVE_TYPES.join(', ')}`);
    if (!FANOUT_MODES.includes(live.fanoutMode)) throw new UserError(`afpacket fanout mode '${String(live.fanoutMode)}': must be one of ${FANOUT_MODES.join(', ')}`);
    const N = (loadNative() as unknown as { NativeLiveSensor: NativeLiveCtor }).NativeLiveSensor;
    this.native = new N(opts, live);
  }

  /**
   * Opens the interface (throws LiveCaptureError) and starts the capture thread. `onBatch` runs on
   * the JS thread about every 250 ms while flows end (at least once a second with fresh stats),
   * and one last time with `final: true` after stop() or a capture failure.
   */
  start(onBatch: (b: LiveBatch) => void): void {
    if (this.started) throw new InternalError('LiveSensor.start() called twice');
    try {
      this.native.start((b) => {
        this.last = b.stats;
        const out: LiveBatch = { ...sensorBatchOf(b, this.checked), packets: b.packets, bytes: b.bytes, final: b.final, stats: b.stats };
        this.checked = true;
        if (b.error) out.error = b.error;
        onBatch(out);
      });
    } catch (e) {
      const msg = (e as Error).message ?? String(e);
      throw new LiveCaptureError(this.live.iface, msg.split('\n')[0]!, e);
    }
    this.started = true;
  }

  /** Asks the capture thread to stop; the final batch (all flows ended `eof`) follows. */
  stop(): void {
    this.native.stop();
  }

  /** The counters of the most recent batch (undefined before the first). */
  stats(): LiveStats | undefined {
    return this.last;
  }
}
