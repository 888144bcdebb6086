// The JSON-lines sink: events of any type written as one JSON object per line to a stream
// (stdout for `damselfly sensor --format jsonl|ecs|ipfix-json`), with the stream's backpressure: the
// events as they are (jsonl), as Elastic Common Schema documents (ecs.ts), or keyed by IPFIX
// information-element names (ipfix.ts).
import type { Writable } from 'node:stream';
import type { EventBatch } from '../../streams/events/batch.js';
import { encodeJsonLines } from '../../streams/events/json.js';
import type { Sink, SinkResult, SinkStats } from '../sink.js';
import type { SectionSpec } from '../../streams/config.js';
import { encodeEcsLines } from './ecs.js';
import { encodeIpfixLines } from './ipfix.js';

/** The formats, each with its encoder: one table. */
const ENCODERS = { jsonl: encodeJsonLines, ecs: encodeEcsLines, 'ipfix-json': encodeIpfixLines } as const;
export type JsonlFormat = keyof typeof ENCODERS;
export const JSONL_FORMATS = Object.keys(ENCODERS) as readonly JsonlFormat[];

/** The sink's key of the `output` section. */
export const JSONL_OUTPUT_KEYS: SectionSpec = {
  format: { type: 'string', default: 'jsonl', enum: JSONL_FORMATS, description: 'How `sensor` prints events (stdout): jsonl (the events as they are), ecs (Elastic Common Schema 8.11 documents) or ipfix-json (IPFIX information-element names, RFC 5102/5103)' },
};

export class JsonlSink implements Sink<EventBatch, SinkStats> {
  readonly name = 'sink.jsonl';
  private received = 0;
  private written = 0;
  private errors = 0;

  constructor(private readonly out: Writable = process.stdout, private readonly format: JsonlFormat = 'jsonl') {}

  async open(): Promise<void> {}

  async write(batch: EventBatch): Promise<void> {
    this.received += batch.length;
    if (batch.length === 0) return;
    try {
      await writeText(this.out, ENCODERS[this.format](batch));
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
