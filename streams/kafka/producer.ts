// The producer side of the Kafka transport: a bounded buffer of encoded messages and ONE sender
// loop over one idempotent @platformatic/kafka Producer.
//
// publish() encodes the batch (framing.ts: Arrow per partition, or JSON per event) on the caller's
// thread and queues the messages; it resolves once they are in the buffer. The buffer is bounded
// in encoded bytes (maxBufferBytes): a publish that does not fit waits (backpressure, FIFO) up to
// shedAfterMs, then its batch is shed — counted per topic, logged at most every 5 s, never silent.
// A topic whose partition count is not known yet (broker unreachable since start) is queued as the
// batch itself with an estimated size, and encoded by the sender once the topic is reached.
//
// The sender sends the head of the buffer in requests bounded in messages, in bytes, and in bytes
// per partition (one record batch per partition per request must stay under the broker's limit),
// with exactly ONE send() in flight: @platformatic/kafka 1.35 gives two concurrent idempotent sends
// to one partition the same sequence number and the broker then silently drops one (upstream #326).
// A failed send (broker away, frozen broker's request timeout) is re-sent AS IS after a backoff —
// its partitions' sequence numbers were not advanced, so the broker deduplicates whatever of it
// did land — for as long as it takes; the next messages are never sent before it, as they would
// take its sequence numbers. After UNKNOWN_PRODUCER_ID / OUT_OF_ORDER_SEQUENCE_NUMBER / a fenced
// epoch (the client does not reset its producer id itself, #309) or every few failures in a row, the
// Producer is recreated (new producer id; what landed twice is a duplicate, never a loss). A message
// the broker refuses as too large is sent alone, then dropped and counted as shed if still refused.
import { Producer, ProduceAcks, stringSerializer } from '@platformatic/kafka';
import { installCompression } from './compression.js';
import type { EventBatch } from '../events/batch.js';
import { messageOf } from '../errors.js';
import { log } from '../log.js';
import type { KafkaAdmin } from './admin.js';
import { bounded, sleep } from './admin.js';
import { describeKafkaError, isAuthError, protocolErrorIn } from './errors.js';
import { encodeMessages, estimateBytes, type MessageIds, type OutMessage } from './framing.js';
import { clientOptions, type KafkaFormat, type ResolvedKafkaTransportOptions } from './options.js';

const COMPONENT = 'kafka';
/** Per-message bookkeeping on top of key and value (headers, record framing). */
const MESSAGE_OVERHEAD = 96;
/** Largest produce request (the broker accepts 100 MB; larger requests gain nothing). */
const MAX_REQUEST_BYTES = 8 * 1024 * 1024;
const SEQUENCE_ERRORS = ['UNKNOWN_PRODUCER_ID', 'OUT_OF_ORDER_SEQUENCE_NUMBER', 'INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED'];
const TOO_LARGE = ['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE'];
const RECREATE_AFTER = 3;

/** Producer-side counters of one topic, in events (sendErrors: failed send attempts). */
export interface ProducerTopicCounters {
  published: number;
  sent: number;
  shed: number;
  sendErrors: number;
  queued: number;
  maxQueued: number;
  blockedPublishes: number;
}

interface Queued extends OutMessage {
  bytes: number;
  sent: boolean;
}

/** What one publish() put in the buffer: its messages, or (partitions unknown yet) the batch. */
interface Segment {
  topic: string;
  format: KafkaFormat;
  messages: Queued[] | null;
  batch: EventBatch | null;
  bytes: number;
  events: number;
  /** Messages not yet acknowledged. */
  left: number;
}

interface Waiter {
  seg: Segment;
  resolve: () => void;
  timer?: NodeJS.Timeout;
}

interface Ref {
  seg: Segment;
  m: Queued;
}

export class KafkaProducer {
  private client: Producer<string, Buffer, string, string> | null = null;
  private readonly segments: Segment[] = [];
  private head = 0;
  private bufferedBytesNow = 0;
  private readonly waiters: Waiter[] = [];
  private wakeSender: (() => void) | null = null;
  private sender: Promise<void> | null = null;
  private stopped = false;
  private lastShedLog = 0;
  private shedSinceLog = 0;
  readonly topics = new Map<string, ProducerTopicCounters>();

  constructor(
    private readonly o: ResolvedKafkaTransportOptions,
    private readonly admin: KafkaAdmin,
    private readonly ids: MessageIds,
    private readonly signal: AbortSignal,
  ) {}

  get bufferedBytes(): number {
    return this.bufferedBytesNow;
  }

  counters(topic: string): ProducerTopicCounters {
    let t = this.topics.get(topic);
    if (!t) {
      t = { published: 0, sent: 0, shed: 0, sendErrors: 0, queued: 0, maxQueued: 0, blockedPublishes: 0 };
      this.topics.set(topic, t);
    }
    return t;
  }

  /** Queue `batch` for `topic` (see the header); resolves once it is buffered or shed. */
  publish(topic: string, batch: EventBatch, format: KafkaFormat = this.o.format): Promise<void> {
    const t = this.counters(topic);
    const partitions = this.admin.cachedPartitions(topic);
    const seg: Segment = { topic, format, messages: null, batch: null, bytes: 0, events: batch.length, left: 0 };
    if (partitions !== undefined) this.encode(seg, batch, partitions);
    else {
      seg.batch = batch;
      seg.bytes = estimateBytes(batch, format);
    }
    this.ensureSender();
    if (this.waiters.length === 0 && this.fits(seg.bytes)) {
      this.accept(seg);
      return Promise.resolve();
    }
    t.blockedPublishes++;
    return new Promise<void>((resolve) => {
      const w: Waiter = { seg, resolve };
      if (Number.isFinite(this.o.shedAfterMs)) w.timer = setTimeout(() => this.shed(w), this.o.shedAfterMs);
      this.waiters.push(w);
    });
  }

  private encode(seg: Segment, batch: EventBatch, partitions: number): void {
    const out = encodeMessages(batch, partitions, seg.format, this.o.maxMessageBytes, this.ids);
    const msgs = out as Queued[];
    let bytes = 0;
    for (const m of msgs) {
      m.bytes = m.value.length + m.key.length + MESSAGE_OVERHEAD;
      m.sent = false;
      bytes += m.bytes;
    }
    seg.messages = msgs;
    seg.batch = null;
    seg.left = msgs.length;
    seg.bytes = bytes;
  }

  private fits(bytes: number): boolean {
    // An empty buffer takes any batch, so one oversized publish cannot wait forever.
    return this.bufferedBytesNow === 0 || this.bufferedBytesNow + bytes <= this.o.maxBufferBytes;
  }

  private accept(seg: Segment): void {
    this.segments.push(seg);
    this.bufferedBytesNow += seg.bytes;
    const t = this.counters(seg.topic);
    t.published += seg.events;
    t.queued += seg.events;
    if (t.queued > t.maxQueued) t.maxQueued = t.queued;
    this.wake();
  }

  private shed(w: Waiter): void {
    const i = this.waiters.indexOf(w);
    if (i < 0) return;
    this.waiters.splice(i, 1);
    this.countShed(w.seg.topic, w.seg.events, `producer buffer full for ${this.o.shedAfterMs} ms (broker slow or down): shedding events`);
    w.resolve();
    this.admitWaiters();
  }

  private countShed(topic: string, events: number, why: string): void {
    const t = this.counters(topic);
    t.shed += events;
    this.shedSinceLog += events;
    const now = Date.now();
    if (now - this.lastShedLog >= 5000) {
      log('warn', COMPONENT, why, {
        topic, shed: this.shedSinceLog, shed_total: t.shed, buffered_bytes: this.bufferedBytesNow, max_buffer_bytes: this.o.maxBufferBytes,
      });
      this.lastShedLog = now;
      this.shedSinceLog = 0;
    }
  }

  private admitWaiters(): void {
    while (this.waiters.length > 0 && this.fits(this.waiters[0]!.seg.bytes)) {
      const w = this.waiters.shift()!;
      if (w.timer) clearTimeout(w.timer);
      this.accept(w.seg);
      w.resolve();
    }
  }

  private wake(): void {
    const w = this.wakeSender;
    this.wakeSender = null;
    w?.();
  }

  private ensureSender(): void {
    this.sender ??= this.sendLoop();
  }

  private pending(): boolean {
    return this.head < this.segments.length;
  }

  /** The next request: unsent messages from the head, in order, within the bounds. */
  private async nextRequest(): Promise<Ref[]> {
    const o = this.o;
    const refs: Ref[] = [];
    const perPartition = new Map<string, number>();
    let bytes = 0;
    for (let s = this.head; s < this.segments.length; s++) {
      const seg = this.segments[s]!;
      if (seg.messages === null) {
        if (refs.length > 0) break;
        const n = await this.admin.ensureTopic(seg.topic);
        const before = seg.bytes;
        this.encode(seg, seg.batch!, n);
        this.bufferedBytesNow += seg.bytes - before;
      }
      for (const m of seg.messages!) {
        if (m.sent) continue;
        const pk = `${seg.topic}:${m.partition}`;
        const inPartition = perPartition.get(pk) ?? 0;
        if (refs.length > 0 && (refs.length >= o.sendBatchEvents || bytes + m.bytes > MAX_REQUEST_BYTES || inPartition + m.bytes > o.maxMessageBytes)) {
          return refs;
        }
        refs.push({ seg, m });
        perPartition.set(pk, inPartition + m.bytes);
        bytes += m.bytes;
      }
    }
    return refs;
  }

  private getClient(): Producer<string, Buffer, string, string> {
    if (this.client) return this.client;
    const o = this.o;
    installCompression();
    const p = new Producer<string, Buffer, string, string>({
      ...clientOptions(o, 'producer'),
      idempotent: o.idempotent,
      acks: o.acks === -1 ? ProduceAcks.ALL : o.acks === 1 ? ProduceAcks.LEADER : ProduceAcks.NO_RESPONSE,
      compression: o.compression,
      // A few quick retries of its own; past them the error reaches the loop below, which counts
      // and logs it and sends the same request again with its backoff.
      retries: 3,
      retryDelay: (_c: unknown, _op: string, attempt: number) => Math.min(100 * 2 ** Math.max(0, attempt - 1), 1000),
      autocreateTopics: false,
      serializers: { key: stringSerializer, headerKey: stringSerializer, headerValue: stringSerializer },
    });
    p.on('error', (e: unknown) => log('debug', COMPONENT, `producer: ${messageOf(e)}`));
    this.client = p;
    return p;
  }

  private async dropClient(): Promise<void> {
    const p = this.client;
    this.client = null;
    if (p) await bounded(p.close().catch(() => undefined), 5000);
  }

  private async sendLoop(): Promise<void> {
    const o = this.o;
    let delay = o.backoff.initialDelayMs;
    let failures = 0;
    let request: Ref[] | null = null;
    let single = false;
    while (!this.stopped) {
      if (request === null && !this.pending()) {
        await new Promise<void>((r) => {
          this.wakeSender = r;
        });
        // Woken from idle: let a burst of publishes gather into one request.
        if (o.lingerMs > 0 && !this.stopped) await sleep(o.lingerMs, this.signal);
        continue;
      }
      try {
        request ??= await this.nextRequest();
        if (single && request.length > 1) request = request.slice(0, 1);
        const messages = request.map(({ seg, m }) => ({ topic: seg.topic, partition: m.partition, key: m.key, value: m.value, headers: m.headers }));
        if (messages.length > 0) await this.getClient().send({ messages });
        if (failures > 0) log('info', COMPONENT, 'sending again', { after_failures: failures });
        this.acked(request);
        request = null;
        single = false;
        failures = 0;
        delay = o.backoff.initialDelayMs;
      } catch (e) {
        if (this.stopped) break;
        failures++;
        if (request) {
          for (const topic of new Set(request.map((r) => r.seg.topic))) this.counters(topic).sendErrors++;
          // Partitions the brokers did acknowledge (a request spanning several leaders) are done;
          // their sequence numbers moved on, sending them again would only duplicate them.
          const produced = (e as { produced?: { offsets?: { topic: string; partition: number }[] } }).produced?.offsets ?? [];
          if (produced.length > 0) {
            const ok = new Set(produced.map((p) => `${p.topic}:${p.partition}`));
            const done = request.filter((r) => ok.has(`${r.seg.topic}:${r.m.partition}`));
            this.acked(done);
            request = request.filter((r) => !ok.has(`${r.seg.topic}:${r.m.partition}`));
          }
          if (protocolErrorIn(e, TOO_LARGE) !== undefined) {
            if (request.length > 1) single = true;
            else if (request.length === 1) {
              const r = request[0]!;
              log('error', COMPONENT, `the broker refuses a message of ${r.m.value.length} bytes as too large (topic ${r.seg.topic}, partition ${r.m.partition}); dropped`);
              this.acked(request, true);
              request = null;
              continue;
            }
          } else if (protocolErrorIn(e, ['UNKNOWN_TOPIC_OR_PARTITION']) !== undefined) {
            for (const r of request) this.admin.forget(r.seg.topic);
          }
        }
        const sequence = protocolErrorIn(e, SEQUENCE_ERRORS);
        if (isAuthError(e)) {
          if (failures === 1 || failures % 10 === 0) log('error', COMPONENT, `send refused: ${describeKafkaError(e)}`, { failures });
        } else if (failures === 1 || failures % 10 === 0) {
          log('warn', COMPONENT, `send failed (${describeKafkaError(e)}); retrying with backoff, events stay buffered`, {
            failures,
            buffered_bytes: this.bufferedBytesNow,
          });
        }
        if (sequence !== undefined || failures % RECREATE_AFTER === 0) {
          if (sequence !== undefined) log('warn', COMPONENT, `producer state lost (${sequence}): a new producer id sends the same messages again`);
          await this.dropClient();
        }
        await sleep(delay, this.signal);
        delay = Math.min(delay * 2, o.backoff.maxDelayMs);
      }
    }
  }

  /** Messages acknowledged (or dropped: counted as shed): release them. */
  private acked(refs: readonly Ref[], dropped = false): void {
    if (this.stopped) return; // a send that completed after stop(): its events were counted as shed
    for (const { seg, m } of refs) {
      if (m.sent) continue;
      m.sent = true;
      seg.left--;
      this.bufferedBytesNow -= m.bytes;
      const t = this.counters(seg.topic);
      t.queued -= m.events;
      if (dropped) this.countShed(seg.topic, m.events, 'message refused by the broker: shedding it');
      else t.sent += m.events;
    }
    while (this.head < this.segments.length && this.segments[this.head]!.left === 0 && this.segments[this.head]!.messages !== null) {
      this.segments[this.head] = undefined as unknown as Segment;
      this.head++;
    }
    if (this.head > 4096 && this.head * 2 > this.segments.length) {
      this.segments.splice(0, this.head);
      this.head = 0;
    }
    this.admitWaiters();
  }

  /** Resolves true when every accepted event has been acknowledged, false after timeoutMs. */
  async flush(timeoutMs = Infinity): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending() || this.waiters.length > 0) {
      if (Date.now() >= deadline || this.signal.aborted) return false;
      await sleep(Math.min(10, Math.max(1, deadline - Date.now())), this.signal);
    }
    return true;
  }

  /**
   * Stop: what is still buffered or waiting is counted as shed (and returned), the sender ends and
   * the client closes. Call after flush(): a client closed with a send in flight never settles it.
   */
  async stop(): Promise<number> {
    let left = 0;
    for (const w of this.waiters.splice(0)) {
      if (w.timer) clearTimeout(w.timer);
      this.counters(w.seg.topic).shed += w.seg.events;
      left += w.seg.events;
      w.resolve();
    }
    for (let s = this.head; s < this.segments.length; s++) {
      const seg = this.segments[s]!;
      const t = this.counters(seg.topic);
      const events = seg.messages ? seg.messages.reduce((a, m) => a + (m.sent ? 0 : m.events), 0) : seg.events;
      t.shed += events;
      t.queued -= events;
      left += events;
    }
    this.segments.length = 0;
    this.head = 0;
    this.bufferedBytesNow = 0;
    this.stopped = true;
    this.wake();
    await bounded(this.sender ?? Promise.resolve(), 5000);
    await this.dropClient();
    return left;
  }
}
