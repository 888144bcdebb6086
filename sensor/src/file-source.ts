// Drives the native sensor over a list of capture files: batches of packets are processed on a
// libuv worker thread, ended flows come back as one array per batch and are handed to `emit`
// (which awaits backpressure from the transport). The flow table persists across files.
import { FileSensor, type SensorOptions, type CaptureErrorInfo, type SensorStats } from './native.js';
import { EVENT_SCHEMA_VERSION, type FlowEvent, type FlowRecord } from '../../streams/schema.js';

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

export type EmitFn = (events: FlowEvent[]) => Promise<void>;

export function toFlowEvents(flows: FlowRecord[]): FlowEvent[] {
  const out = new Array<FlowEvent>(flows.length);
  for (let i = 0; i < flows.length; i++) {
    const f = flows[i]!;
    out[i] = { type: 'flow', v: EVENT_SCHEMA_VERSION, ts: f.etime, kind: 'end', seq: 0, ...f };
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
    private readonly emit: EmitFn,
    private readonly onProgress?: (p: SourceProgress) => void,
    private readonly batchPackets = 65536,
  ) {
    this.sensor = new FileSensor(opts);
  }

  private async deliver(flows: FlowRecord[]): Promise<void> {
    if (flows.length === 0) return;
    this.flows += flows.length;
    await this.emit(toFlowEvents(flows));
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
        await this.deliver(b.flows);
        this.onProgress?.({ file, fileIndex: i, files: this.files.length, packets: this.packets, bytes: this.bytes, flows: this.flows });
        if (b.error) errors.push(b.error);
        if (b.done) break;
      }
    }
    await this.deliver(this.sensor.flush());
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
