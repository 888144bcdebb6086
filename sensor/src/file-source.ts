// Drives the native sensor over a list of capture files: batches of packets are processed on a
// libuv worker thread; each batch's events are handed to `emit` as one EventBatch per type, in the
// table's order: flow records (start/update, then end), then dns, tls, http events (emit awaits
// backpressure from the transport). The flow table persists across files.
import { FileSensor, type SensorOptions, type CaptureErrorInfo, type SensorStats, type SensorBatch } from './native.js';
import type { EventBatch } from '../../streams/events/batch.js';
import { SENSOR_EVENT_TYPES } from '../../streams/events/table.js';

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

/** Receives the batches of a source, one event type each; resolves when the batch is taken (backpressure). */
export type EventEmitFn = (batch: EventBatch) => Promise<void>;

/** Hands a sensor batch's events to `emit`, one batch per type with events, in the table's order. */
export async function emitSensorBatch(b: Pick<SensorBatch, 'flow' | 'dns' | 'tls' | 'http'>, emit: EventEmitFn): Promise<void> {
  for (const t of SENSOR_EVENT_TYPES) if (b[t].length > 0) await emit(b[t]);
}

export class FileSource {
  private readonly sensor: FileSensor;
  private packets = 0;
  private bytes = 0;
  private flows = 0;
  private stopRequested = false;

  constructor(
    opts: SensorOptions,
    /** The files, or (watch mode) an endless sequence of them that stop() ends too. */
    private readonly files: string[] | (AsyncIterable<string> & { stop(): void }),
    private readonly emit: EventEmitFn,
    private readonly onProgress?: (p: SourceProgress) => void,
    private readonly batchPackets = 65536,
    /** Called once a file's events have been handed on (watch mode remembers it). */
    private readonly onFileDone?: (file: string) => void,
  ) {
    this.sensor = new FileSensor(opts);
  }

  private async deliver(b: SensorBatch): Promise<void> {
    this.flows += b.ended;
    await emitSensorBatch(b, this.emit);
  }

  /** Stops reading after the batch in progress; run() then flushes every flow (reason eof) and resolves. */
  stop(): void {
    this.stopRequested = true;
    if (!Array.isArray(this.files)) this.files.stop();
  }

  async run(): Promise<SourceSummary> {
    const errors: CaptureErrorInfo[] = [];
    const total = Array.isArray(this.files) ? this.files.length : 0;
    let i = -1;
    for await (const file of this.files) {
      i++;
      try {
        this.sensor.open(file);
      } catch (e) {
        errors.push({ file, packetIndex: 0, byteOffset: 0, message: (e as Error).message });
        this.onFileDone?.(file);
        continue;
      }
      // Double-buffered: the worker thread decodes the next batch while this thread hands the
      // previous one downstream (the addon copies each batch out, so they never share memory).
      let next = this.sensor.readBatch(this.batchPackets);
      for (;;) {
        const b = await next;
        if (this.stopRequested) b.done = true;
        if (!b.done) next = this.sensor.readBatch(this.batchPackets);
        this.packets += b.packets;
        this.bytes += b.bytes;
        await this.deliver(b);
        this.onProgress?.({ file, fileIndex: i, files: total || i + 1, packets: this.packets, bytes: this.bytes, flows: this.flows });
        if (b.error) errors.push(b.error);
        if (b.done) break;
      }
      if (this.stopRequested) break;
      this.onFileDone?.(file);
    }
    await this.deliver(this.sensor.flushAll());
    return {
      packets: this.packets,
      bytes: this.bytes,
      flows: this.flows,
      files: i + 1,
      errors,
      stats: this.sensor.stats(),
    };
  }
}
