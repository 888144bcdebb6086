// The Sink contract: a component that consumes event batches from a transport subscription and
// persists or forwards them (Parquet, alerts, pcap triggers). One instance per output.
//
// Lifecycle: open() (fail fast on user errors such as an unwritable directory) → write(batch)*
// (each an EventBatch of the sink's event type, by column)
// → close(). write() is the subscription handler: it resolves once the batch is safely taken
// (buffered or written), which is the transport's commit. At-least-once delivery means a batch
// may arrive twice: a sink that promises exactly-once output deduplicates itself (Parquet: by
// flowid + seq). If write() rejects, nothing of the batch may be lost: the transport retries it.

import type { EventBatch } from '../streams/events/batch.js';

/** Counters every sink reports (Vector's component spec: received / sent / dropped / errors). */
export interface SinkStats {
  /** Events handed to write(). */
  received: number;
  /** Rows/records durably written. */
  written: number;
  /** Failed write attempts. */
  errors: number;
}

export interface SinkResult {
  /** Files produced over the sink's lifetime, in the order they were completed. */
  files: string[];
  /** Rows written over the sink's lifetime. */
  rows: number;
}

export interface Sink<B = EventBatch, S extends SinkStats = SinkStats> {
  readonly name: string;
  open(): Promise<void>;
  write(batch: B): Promise<void>;
  /** Flush everything buffered, release resources; idempotent. */
  close(): Promise<SinkResult>;
  stats(): S;
}
