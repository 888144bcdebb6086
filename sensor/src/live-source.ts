// Drives a live capture like FileSource drives files: the same emit/progress/summary shape, so
// the commands wire either one. Batches from the capture thread are emitted strictly in order
// (each emit awaited before the next starts); run() resolves after stop() (or a capture failure)
// once the final batch — every remaining flow, reason eof — has been emitted.
import { LiveSensor, type LiveOptions, type LiveBatch, type LiveStats } from './live-sensor.js';
import { emitSensorBatch, type EventEmitFn, type SourceProgress, type SourceSummary } from './file-source.js';
import type { SensorOptions } from './native.js';

export interface LiveSummary extends SourceSummary {
  stats: LiveStats;
}

export class LiveSource {
  private readonly sensor: LiveSensor;
  private packets = 0;
  private bytes = 0;
  private flows = 0;
  private stopRequested = false;

  constructor(
    opts: SensorOptions,
    private readonly live: LiveOptions,
    private readonly emit: EventEmitFn,
    private readonly onProgress?: (p: SourceProgress) => void,
    /** Called once the interface is open and the capture thread runs. */
    private readonly onStarted?: () => void,
  ) {
    this.sensor = new LiveSensor(opts, live);
  }


  /** Stops the capture; run() then resolves after the final flows were emitted. Idempotent. */
  stop(): void {
    this.stopRequested = true;
    this.sensor.stop();
  }

  /**
   * Opens the interface and captures until stop(). Throws LiveCaptureError synchronously (not
   * through the promise) when the interface cannot be opened, so a command fails before it
   * sets up its sinks.
   */
  run(): Promise<LiveSummary> {
    let resolve!: (s: LiveSummary) => void;
    let reject!: (e: unknown) => void;
    const done = new Promise<LiveSummary>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    let chain: Promise<void> = Promise.resolve();
    let failed: unknown;
    const onBatch = (b: LiveBatch): void => {
      this.packets += b.packets;
      this.bytes += b.bytes;
      this.flows += b.ended;
      chain = chain
        .then(async () => {
          if (failed === undefined) await emitSensorBatch(b, this.emit);
          this.onProgress?.({ file: this.live.iface, fileIndex: 0, files: 1, packets: this.packets, bytes: this.bytes, flows: this.flows });
        })
        .catch((e: unknown) => {
          // A failing consumer stops the capture; the error is reported once all batches settled.
          if (failed === undefined) failed = e;
          this.sensor.stop();
        });
      if (!b.final) return;
      void chain.then(() => {
        if (failed !== undefined) return reject(failed);
        resolve({
          packets: this.packets,
          bytes: this.bytes,
          flows: this.flows,
          files: 0,
          errors: b.error ? [{ file: this.live.iface, packetIndex: 0, byteOffset: -1, message: b.error }] : [],
          stats: b.stats,
        });
      });
    };
    this.sensor.start(onBatch);
    if (this.stopRequested) this.sensor.stop();
    this.onStarted?.();
    return done;
  }
}
