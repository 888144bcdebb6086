// The JSON-lines sink: events of any type written as one JSON object per line to a stream
// (stdout for `damselfly sensor --format jsonl`), with the stream's backpressure.
import type { Writable } from 'node:stream';
import type { EventBatch } from '../../streams/events/batch.js';
import { encodeJsonLines } from '../../streams/events/json.js';
import type { Sink, SinkResult, SinkStats } from '../sink.js';

export class JsonlSink implements Sink<EventBatch, SinkStats> {
  readonly name = 'sink.jsonl';
  private received = 0;
  private written = 0;
  private errors = 0;

  constructor(private readonly out: Writable = process.stdout) {}

  async open(): Promise<void> {}

  async write(batch: EventBatch): Promise<void> {
    this.received += batch.length;
    if (batch.length === 0) return;
    try {
      await writeText(this.out, encodeJsonLines(batch));
    } catch (e) {
      this.errors++;
      throw e;
    }
    this.written += batch.length;
  }

  async close(): Promise<SinkResult> {
    return { files: [], rows: this.written };
  }

  stats(): SinkStats {
    return { received: this.received, written: this.written, errors: this.errors };
  }
}

/** Writes `text`, waiting for 'drain' when the stream's buffer is full. */
export async function writeText(out: Writable, text: string): Promise<void> {
  if (out.write(text)) return;
  await new Promise<void>((resolve, reject) => {
    const onErr = (err: Error): void => reject(err);
    out.once('error', onErr);
    out.once('drain', () => {
      out.off('error', onErr);
      resolve();
    });
  });
}
