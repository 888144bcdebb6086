// Alert outputs: JSONL file, stdout, HTTP webhook (POST of a JSON array, retried with backoff).
import { createWriteStream, type WriteStream } from 'node:fs';
import { request } from 'node:http';
import { request as requestTls } from 'node:https';
import { log } from '../../streams/log.js';
import type { AlertEvent } from '../../streams/schema.js';
import { SinkPathError, SinkWriteError, describeFsError } from '../errors.js';

export interface AlertOutput {
  readonly name: string;
  write(alerts: readonly AlertEvent[]): Promise<void>;
  close(): Promise<void>;
}

export class JsonlOutput implements AlertOutput {
  readonly name: string;
  private stream?: WriteStream;
  constructor(readonly file: string) {
    this.name = `jsonl:${file}`;
  }

  async open(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const s = createWriteStream(this.file, { flags: 'a' });
      s.once('open', () => resolve());
      s.once('error', (e) => reject(new SinkPathError('alerts', this.file, describeFsError(e), e)));
      this.stream = s;
    });
  }

  write(alerts: readonly AlertEvent[]): Promise<void> {
    const s = this.stream!;
    const text = alerts.map((a) => JSON.stringify(a)).join('\n') + '\n';
    return new Promise((resolve, reject) => s.write(text, (e) => (e ? reject(new SinkWriteError('alerts', this.file, e)) : resolve())));
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.stream ? this.stream.end(() => resolve()) : resolve()));
  }
}

export class StdoutOutput implements AlertOutput {
  readonly name = 'stdout';
  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {}
  async write(alerts: readonly AlertEvent[]): Promise<void> {
    const text = alerts.map((a) => JSON.stringify(a)).join('\n') + '\n';
    await new Promise<void>((resolve) => (this.out.write(text) ? resolve() : this.out.once('drain', () => resolve())));
  }
  async close(): Promise<void> {}
}

/** The webhook URL as logs may show it: no user, password or query (where tokens live). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '(invalid URL)';
  }
}

export interface WebhookOptions {
  url: string;
  /** Attempts per batch, the first included (default 5). */
  maxAttempts?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  headers?: Record<string, string>;
}

/** POST each batch as a JSON array; 2xx = delivered; 5xx/429/network errors are retried; 4xx is not. */
export class WebhookOutput implements AlertOutput {
  readonly name: string;
  attempts = 0;
  failures = 0;
  dropped = 0;
  constructor(private readonly o: WebhookOptions) {
    this.name = `webhook:${redactUrl(o.url)}`;
  }

  private post(body: string): Promise<number> {
    const u = new URL(this.o.url);
    const req = u.protocol === 'https:' ? requestTls : request;
    return new Promise((resolve, reject) => {
      const r = req(u, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...this.o.headers }, timeout: this.o.timeoutMs ?? 10_000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      r.on('timeout', () => r.destroy(new Error('timed out')));
      r.on('error', reject);
      r.end(body);
    });
  }

  async write(alerts: readonly AlertEvent[]): Promise<void> {
    const body = JSON.stringify(alerts);
    const max = this.o.maxAttempts ?? 5;
    let delay = this.o.initialDelayMs ?? 200;
    let last = '';
    for (let attempt = 1; attempt <= max; attempt++) {
      this.attempts++;
      try {
        const status = await this.post(body);
        if (status >= 200 && status < 300) return;
        last = `HTTP ${status}`;
        if (status >= 400 && status < 500 && status !== 429) break;
      } catch (e) {
        last = (e as Error).message;
      }
      this.failures++;
      if (attempt < max) {
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, this.o.maxDelayMs ?? 10_000);
      }
    }
    // A dead webhook must not stop the other outputs or the pipeline: count and report.
    this.dropped += alerts.length;
    log('error', 'sink.alerts', `webhook ${redactUrl(this.o.url)} failed (${last}); ${alerts.length} alerts not delivered there`);
  }

  async close(): Promise<void> {}
}
