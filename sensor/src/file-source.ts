// Drives the native sensor over a list of capture files: batches of packets are processed on a
// libuv worker thread; each batch's events are handed to `emit` per type, in this order: flow
// records (start/update, then end), then dns, tls, http events (emit awaits backpressure from
// the transport). The flow table persists across files.
import { FileSensor, type SensorOptions, type CaptureErrorInfo, type SensorStats, type BatchResult } from './native.js';
import { EVENT_SCHEMA_VERSION, type FlowEvent, type FlowRecord, type SensorEvent } from '../../streams/schema.js';

export interface SourceProgress {
  file: string;
  fileIndex: number;
  files: number;
  packets: number;
  bytes: number;
  flows: number;
}

export interface SourceSummary {
  packets: number;
  bytes: number;
  flows: number;
  files: number;
  /** Files that could not be opened or were damaged; flows before the damage were still emitted. */
  errors: CaptureErrorInfo[];
  stats: SensorStats;
}

/** Receives flow events only (used by sources that produce no L7 events). */
/** Receives one batch of events of one type (`flow`, `dns`, `tls` or `http`). */
export type EventEmitFn = (type: SensorEvent['type'], events: SensorEvent[]) => Promise<void>;

/** Flow records as `end` events (records already decoded as FlowEvents pass through). */
export function toFlowEvents(flows: FlowRecord[]): FlowEvent[] {
  const out = new Array<FlowEvent>(flows.length);
  for (let i = 0; i < flows.length; i++) {
    const f = flows[i]!;
    out[i] = 'type' in f ? (f as FlowEvent) : { type: 'flow', v: EVENT_SCHEMA_VERSION, ts: f.etime, kind: 'end', seq: 0, ...f };
  }
  return out;
}

export class FileSource {
  private readonly sensor: FileSensor;
  private packets = 0;
  private bytes = 0;
  private flows = 0;

  constructor(
    opts: SensorOptions,
    private readonly files: string[],
    private readonly emit: EventEmitFn,
    private readonly onProgress?: (p: SourceProgress) => void,
    private readonly batchPackets = 65536,
  ) {
    this.sensor = new FileSensor(opts);
  }

  private async deliver(b: BatchResult): Promise<void> {
    this.flows += b.flows.length;
    const flowEvents = b.updates.length === 0 ? b.flows : b.flows.length === 0 ? b.updates : b.updates.concat(b.flows);
    if (flowEvents.length > 0) await this.emit('flow', flowEvents);
    if (b.dns.length > 0) await this.emit('dns', b.dns);
    if (b.tls.length > 0) await this.emit('tls', b.tls);
    if (b.http.length > 0) await this.emit('http', b.http);
  }

  async run(): Promise<SourceSummary> {
    const errors: CaptureErrorInfo[] = [];
    for (let i = 0; i < this.files.length; i++) {
      const file = this.files[i]!;
      try {
        this.sensor.open(file);
      } catch (e) {
        errors.push({ file, packetIndex: 0, byteOffset: 0, message: (e as Error).message });
        continue;
      }
      // Double-buffered: the worker thread decodes the next batch while this thread hands the
      // previous one downstream (the addon copies each batch out, so they never share memory).
      let next = this.sensor.readBatch(this.batchPackets);
      for (;;) {
        const b = await next;
        if (!b.done) next = this.sensor.readBatch(this.batchPackets);
        this.packets += b.packets;
        this.bytes += b.bytes;
        await this.deliver(b);
        this.onProgress?.({ file, fileIndex: i, files: this.files.length, packets: this.packets, bytes: this.bytes, flows: this.flows });
        if (b.error) errors.push(b.error);
        if (b.done) break;
      }
    }
    await this.deliver(this.sensor.flushAll());
    return {
      packets: this.packets,
      bytes: this.bytes,
      flows: this.flows,
      files: this.files.length,
      errors,
      stats: this.sensor.stats(),
    };
  }
}
