// The alerts sink: suppression window per (analyzer, key), then every configured output.
import type { Sink, SinkResult, SinkStats } from '../sink.js';
import type { EventBatch } from '../../streams/events/batch.js';
import { AlertSuppressor } from './suppress.js';
import { JsonlOutput, StdoutOutput, WebhookOutput, type AlertOutput, type WebhookOptions } from './outputs.js';

export { AlertSuppressor } from './suppress.js';
export { JsonlOutput, StdoutOutput, WebhookOutput, type AlertOutput, type WebhookOptions } from './outputs.js';

export interface AlertSinkOptions {
  /** JSONL file (`--alerts FILE.jsonl`), appended. */
  file?: string;
  stdout?: boolean;
  webhook?: WebhookOptions;
  /** Suppression window in ms of event time (default 60000; 0 = off). */
  suppressMs?: number;
}

export interface AlertSinkStats extends SinkStats {
  suppressed: number;
  webhookDropped: number;
}

export class AlertSink implements Sink<EventBatch<'alert'>, AlertSinkStats> {
  readonly name = 'alerts';
  private readonly outputs: AlertOutput[] = [];
  private readonly suppressor: AlertSuppressor;
  private received = 0;
  private written = 0;
  private errors = 0;
  private webhook?: WebhookOutput;

  constructor(private readonly o: AlertSinkOptions) {
    this.suppressor = new AlertSuppressor(o.suppressMs ?? 60_000);
  }

  async open(): Promise<void> {
    if (this.o.file) {
      const j = new JsonlOutput(this.o.file);
      await j.open();
      this.outputs.push(j);
    }
    if (this.o.stdout) this.outputs.push(new StdoutOutput());
    if (this.o.webhook) this.outputs.push((this.webhook = new WebhookOutput(this.o.webhook)));
  }

  async write(batch: EventBatch<'alert'>): Promise<void> {
    this.received += batch.length;
    // Alerts are few: plain objects are what every output writes.
    const pass = batch.rows().filter((a) => this.suppressor.admit(a));
    if (pass.length === 0) return;
    const res = await Promise.allSettled(this.outputs.map((out) => out.write(pass)));
    const failed = res.find((r) => r.status === 'rejected');
    if (failed) {
      this.errors++;
      throw (failed as PromiseRejectedResult).reason;
    }
    this.written += pass.length;
  }

  async close(): Promise<SinkResult> {
    for (const o of this.outputs) await o.close();
    return { files: this.o.file ? [this.o.file] : [], rows: this.written };
  }

  stats(): AlertSinkStats {
    return { received: this.received, written: this.written, errors: this.errors, suppressed: this.suppressor.suppressed, webhookDropped: this.webhook?.dropped ?? 0 };
  }
}
