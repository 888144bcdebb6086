// The consumer side of the Kafka transport: one @platformatic/kafka Consumer per subscription, in
// Kafka group `groupIdFor(group, topic)`, reading from the group's committed offsets (a new group
// starts from `startFrom`), committing by hand only after the handler resolved (at-least-once: a
// crash or a rebalance before the commit redelivers; commits are coalesced, consumer-io.ts).
//
// What reaches the handler: each Arrow message → one EventBatch (cut into maxBatch slices when
// bigger; committed after the last); consecutive JSON messages of one partition, as far as they are
// already fetched, → one batch of at most maxBatch (EventBatch.fromRows). A batch carries its
// origin (batchOrigin(): the message's damselfly-batch id, else topic/partition/offset, plus the
// slice; for JSON the offset range) so a sink can recognize a redelivery. A message that cannot be
// read (framing.ts refuses it: unknown schema version, corrupt Arrow, not JSON, wrong type for the
// topic) is refused: one log line naming topic/partition/offset and the reason (rate-limited),
// counted, its offset committed, and consumption goes on. Control events go to `onControl`, never
// to the data handler.
//
// One message at a time on the process's JS thread; memory per subscription is one fetch (8 MiB)
// plus a few buffered messages. When the stream fails (broker away or frozen: the client gives up a
// fetch after a few retries) the same consumer consumes again after a backoff — it keeps its member
// id, so the group does not wait for an old member to time out — resuming from the committed
// offsets, for as long as it takes; a consumer that keeps failing to join is replaced. A handler
// that keeps failing fails the subscription (SubscriptionFailedError).
import { Consumer, stringDeserializer } from '@platformatic/kafka';
import { installCompression } from './compression.js';
import { EventBatch } from '../events/batch.js';
import { typeOfTopic, type EventType } from '../events/table.js';
import { BatchFormatError, HandlerError, SubscriptionFailedError, messageOf } from '../errors.js';
import { log } from '../log.js';
import type { ControlEvent } from '../schema.js';
import type { BatchHandler, GroupStats, SubscribeOptions, Subscription } from '../transport.js';
import { bounded, groupIdFor, sleep } from './admin.js';
import { CommitQueue, MessageReader, RefusalLog, type Msg, type Stream } from './consumer-io.js';
import { KafkaAuthError, describeKafkaError, isAuthError } from './errors.js';
import { decodeMessage, eventsOf, type Decoded } from './framing.js';
import { clientOptions, type ResolvedKafkaTransportOptions } from './options.js';

const COMPONENT = 'kafka';
/** Failed joins in a row after which the consumer is replaced rather than asked to join again. */
const RECREATE_AFTER = 10;

/** GroupStats plus the messages this group refused (and the events they said they held). */
export interface KafkaGroupStats extends GroupStats {
  refused: number;
  refusedMessages: number;
}

export type GroupCounters = Omit<KafkaGroupStats, 'queued'>;

export function newGroupCounters(): GroupCounters {
  return { subscribers: 0, delivered: 0, errors: 0, undelivered: 0, failed: false, refused: 0, refusedMessages: 0 };
}

export interface ControlPosition {
  partition: number;
  offset: bigint;
}

export interface KafkaSubscribeOptions extends SubscribeOptions {
  /** Control events (control topic only), one call each, with where they were read. */
  onControl?: (event: ControlEvent, at: ControlPosition) => void | Promise<void>;
  /** Where a group without commits starts (default: the transport's startFrom). */
  startFrom?: 'earliest' | 'latest';
}


/** Where a consumed batch came from (stable across redeliveries of the same messages), if known. */
export function batchOrigin(batch: EventBatch): string | undefined {
  return batch.origin;
}

export class KafkaSubscription implements Subscription {
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (e: unknown) => void;
  private consumer: Consumer<string, Buffer, string, string> | null = null;
  private stream: Stream | null = null;
  private reader: MessageReader | null = null;
  private loop: Promise<void> | null = null;
  private stopping = false;
  private readonly maxBatch: number;
  private readonly expected: EventType | undefined;
  private readonly commits: CommitQueue;
  private readonly refusals: RefusalLog;
  /** Stream failures since a message was last read, and joins that failed in a row. */
  private failures = 0;
  private joinFailures = 0;
  /** Aborts this subscription's backoff waits (close()), or the transport's (its close()). */
  private readonly stopCtl = new AbortController();
  private readonly waits: AbortSignal;

  constructor(
    private readonly o: ResolvedKafkaTransportOptions,
    readonly topic: string,
    private readonly opts: KafkaSubscribeOptions,
    private readonly g: GroupCounters,
    private readonly handler: BatchHandler<EventBatch>,
    private readonly signal: AbortSignal,
    private readonly onEnd: () => void,
  ) {
    this.maxBatch = opts.maxBatch ?? o.maxBatch;
    this.expected = typeOfTopic(topic);
    this.waits = AbortSignal.any([signal, this.stopCtl.signal]);
    this.commits = new CommitQueue(opts.group);
    this.refusals = new RefusalLog(opts.group);
    this.done = new Promise<void>((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
    this.done.catch(() => undefined); // failures surface via close() too; never "unhandled"
  }

  get group(): string {
    return this.opts.group;
  }

  /** Partitions of the topic assigned to this subscription now. */
  assignment(): number[] {
    const a = this.consumer?.assignments?.find((x) => x.topic === this.topic);
    return a ? [...a.partitions].sort((x, y) => x - y) : [];
  }

  /**
   * Whether the partition is (still) this member's. A fetch sent before a rebalance can return
   * after it with records of partitions that moved to another member (the client does not drop
   * them): handling them would deliver them twice. They are skipped, uncommitted; their new owner
   * reads them from the committed offset.
   */
  private owns(partition: number): boolean {
    const a = this.consumer?.assignments;
    if (!a) return true; // not known yet: take it (nothing else could)
    return a.some((x) => x.topic === this.topic && x.partitions.includes(partition));
  }

  /** Join the group (retrying while the brokers are away; refused credentials reject), then consume. */
  async start(): Promise<void> {
    let delay = this.o.backoff.initialDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.open();
        break;
      } catch (e) {
        await this.discard();
        if (isAuthError(e)) throw new KafkaAuthError(this.o.brokers, describeKafkaError(e), e);
        if (this.stopping || this.signal.aborted) throw e;
        if (attempt === 1 || attempt % 10 === 0) {
          log('warn', COMPONENT, `group ${this.group} cannot join on ${this.topic} (${describeKafkaError(e)}); retrying`, { attempt });
        }
        await sleep(delay, this.waits);
        delay = Math.min(delay * 2, this.o.backoff.maxDelayMs);
      }
    }
    this.g.subscribers++;
    this.loop = this.run();
  }

  private async open(): Promise<void> {
    const c = this.consumer ?? this.newConsumer();
    this.consumer = c;
    const stream = await c.consume({
      topics: [this.topic],
      mode: 'committed',
      fallbackMode: this.opts.startFrom ?? this.o.startFrom,
      autocommit: false,
      highWaterMark: 8,
    });
    this.stream = stream;
    this.reader = new MessageReader(stream);
  }

  private newConsumer(): Consumer<string, Buffer, string, string> {
    const o = this.o;
    installCompression();
    const c = new Consumer<string, Buffer, string, string>({
      ...clientOptions(o, 'consumer'),
      groupId: groupIdFor(this.group, this.topic),
      autocommit: false,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: o.heartbeatIntervalMs,
      rebalanceTimeout: Math.max(o.sessionTimeoutMs, 10_000),
      retries: 3,
      retryDelay: 250,
      // Bounded memory per subscription: one fetch of up to 8 MiB plus 8 buffered messages.
      maxWaitTime: 100,
      minBytes: 1,
      maxBytes: 8 << 20,
      maxBytesPerPartition: 2 << 20,
      highWaterMark: 8,
      deserializers: { key: stringDeserializer, headerKey: stringDeserializer, headerValue: stringDeserializer },
    });
    c.on('error', (e: unknown) => log('debug', COMPONENT, `consumer of ${this.group} on ${this.topic}: ${messageOf(e)}`));
    return c;
  }

  /** Close the stream only: the consumer keeps its member id, so joining again is quick. */
  private async discardStream(): Promise<void> {
    await bounded(this.commits.flush(), 10_000);
    const s = this.stream;
    this.stream = null;
    this.reader = null;
    if (s) await bounded(s.close().catch(() => undefined), 5000);
  }

  /** Close the stream, then the consumer (it refuses to leave the group while a stream is open). */
  private async discard(): Promise<void> {
    await bounded(this.commits.flush(), 10_000);
    const s = this.stream;
    const c = this.consumer;
    this.stream = null;
    this.consumer = null;
    this.reader = null;
    if (s) await bounded(s.close().catch(() => undefined), 5000);
    if (c) {
      const left = await bounded(c.close().then(() => true, () => false), 10_000);
      if (!left) await bounded(new Promise<void>((res) => c.close(true, () => res())), 5000);
    }
  }

  private async run(): Promise<void> {
    let failure: SubscriptionFailedError | null = null;
    let delay = this.o.backoff.initialDelayMs;
    try {
      while (!this.stopping) {
        let joined = this.reader !== null;
        try {
          if (!joined) {
            await this.open();
            joined = true;
            this.joinFailures = 0;
          }
          failure = await this.pump(this.reader!);
          if (failure) break;
          if (!this.stopping) await this.discard(); // the stream ended by itself: join again
        } catch (e) {
          if (this.stopping) break;
          if (isAuthError(e)) {
            failure = new SubscriptionFailedError(this.topic, this.group, 0, 0, new KafkaAuthError(this.o.brokers, describeKafkaError(e), e));
            break;
          }
          // A stream that delivered since the last failure worked: this is a new outage. (Joining
          // again can succeed while the broker is still away; only messages prove it is back.)
          if (this.failures === 0) delay = this.o.backoff.initialDelayMs;
          const failures = ++this.failures;
          if (failures === 1 || failures % 10 === 0) {
            log('warn', COMPONENT, `group ${this.group} lost ${this.topic} (${describeKafkaError(e)}); reconnecting, uncommitted events come again`, { failures });
          }
          // Consume again with the same consumer (same member id: the group need not wait for the
          // old member to time out; the client joins as a new member if the old one expired). A
          // consumer that keeps failing to join is replaced.
          if (!joined && ++this.joinFailures % RECREATE_AFTER === 0) await this.discard();
          else await this.discardStream();
          await sleep(delay, this.waits);
          delay = Math.min(delay * 2, this.o.backoff.maxDelayMs);
        }
      }
    } catch (e) {
      // A bug here (not in the handler) must still end the subscription visibly.
      failure = new SubscriptionFailedError(this.topic, this.group, 0, 0, e);
    }
    await this.discard();
    this.g.subscribers--;
    this.onEnd();
    if (failure) {
      this.g.failed = true;
      this.rejectDone(failure);
    } else {
      this.resolveDone();
    }
  }

  /** Deliver what the stream yields until it ends or we stop; a failure when the handler gave up. */
  private async pump(reader: MessageReader): Promise<SubscriptionFailedError | null> {
    while (!this.stopping) {
      const m = await reader.next();
      if (m === null) return null;
      if (!this.owns(m.partition)) continue;
      if (this.failures > 0) {
        log('info', COMPONENT, `group ${this.group} consuming ${this.topic} again`, { after_failures: this.failures });
        this.failures = 0;
      }
      let d: Decoded;
      try {
        d = decodeMessage(this.topic, m.value, m.headers);
      } catch (e) {
        if (!(e instanceof BatchFormatError)) throw e;
        this.refuse(m, e);
        this.commits.mark(m);
        continue;
      }
      let f: SubscriptionFailedError | null = null;
      if (this.expected === 'control' || (d.format === 'json' ? d.event.type === 'control' : d.batch.type === 'control')) {
        await this.control(m, d.format === 'json' ? EventBatch.fromRows('control', [d.event]) : d.batch);
        this.commits.mark(m);
      } else if (d.format === 'arrow') {
        const origin = d.id ?? `${m.topic}/${m.partition}/${m.offset}`;
        const b = d.batch;
        let whole = true;
        for (let a = 0; a < b.length && !f; a += this.maxBatch) {
          // Revoked between slices (a rebalance): the new owner takes the message from the start.
          if (a > 0 && !this.owns(m.partition)) {
            whole = false;
            break;
          }
          const slice = b.slice(a, a + this.maxBatch);
          slice.origin = slice.length === b.length ? origin : `${origin}[${a}:${a + slice.length}]`;
          f = await this.deliver(slice);
        }
        if (!f && whole) {
          this.commits.mark(m);
          this.g.delivered += b.length;
        }
      } else {
        f = await this.jsonGroup(reader, m, d.event);
      }
      if (f) return f;
    }
    return null;
  }

  /** Consecutive JSON messages of m's partition already fetched, as one batch (bad ones refused). */
  private async jsonGroup(reader: MessageReader, first: Msg, event: Record<string, unknown> & { type: EventType }): Promise<SubscriptionFailedError | null> {
    const type = event.type;
    const rows: Record<string, unknown>[] = [event];
    const from: Msg[] = [first];
    let last = first;
    while (rows.length < this.maxBatch) {
      const n = reader.readNow();
      if (n === null) break;
      if (n.partition !== first.partition || !this.owns(n.partition)) {
        reader.pushBack(n);
        break;
      }
      let d: Decoded;
      try {
        d = decodeMessage(this.topic, n.value, n.headers);
      } catch (e) {
        if (!(e instanceof BatchFormatError)) throw e;
        this.refuse(n, e);
        last = n;
        continue;
      }
      if (d.format !== 'json' || d.event.type !== type) {
        reader.pushBack(n);
        break;
      }
      rows.push(d.event);
      from.push(n);
      last = n;
    }
    const batch = this.rowsToBatch(type, rows, from);
    if (batch.length > 0) {
      batch.origin = `${first.topic}/${first.partition}/${first.offset}-${last.offset}`;
      const f = await this.deliver(batch);
      if (f) return f;
    }
    this.commits.mark(last);
    this.g.delivered += batch.length;
    return null;
  }

  private rowsToBatch(type: EventType, rows: Record<string, unknown>[], from: Msg[]): EventBatch {
    try {
      return EventBatch.fromRows(type, rows);
    } catch (e) {
      if (!(e instanceof BatchFormatError)) throw e;
      // One row does not fit its columns (an enum label, a list that is not one): find it.
      const good: Record<string, unknown>[] = [];
      for (let i = 0; i < rows.length; i++) {
        try {
          EventBatch.fromRows(type, [rows[i]]);
          good.push(rows[i]!);
        } catch (e2) {
          if (!(e2 instanceof BatchFormatError)) throw e2;
          this.refuse(from[i]!, e2);
        }
      }
      return EventBatch.fromRows(type, good);
    }
  }

  private async control(m: Msg, b: EventBatch): Promise<void> {
    if (!this.opts.onControl) return;
    for (const e of b.rows()) {
      try {
        await this.opts.onControl(e as ControlEvent, { partition: m.partition, offset: m.offset });
      } catch (err) {
        log('warn', COMPONENT, `control event handler failed: ${messageOf(err)}`, { topic: this.topic, group: this.group });
      }
    }
    this.g.delivered += b.length;
  }

  private refuse(m: Msg, e: BatchFormatError): void {
    this.g.refusedMessages++;
    this.g.refused += eventsOf(m.headers);
    this.refusals.refused(m, e);
  }

  /** Run the handler with bounded retries; a failure when every attempt failed. */
  private async deliver(batch: EventBatch): Promise<SubscriptionFailedError | null> {
    const r = this.opts.retry ?? {};
    const maxAttempts = Math.max(1, r.maxAttempts ?? 5);
    let delay = Math.max(0, r.initialDelayMs ?? 10);
    const maxDelay = Math.max(delay, r.maxDelayMs ?? 1000);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.handler(batch);
        return null;
      } catch (cause) {
        this.g.errors++;
        const final = attempt >= maxAttempts;
        try {
          this.opts.onError?.(new HandlerError(this.topic, this.group, attempt, batch.length, cause), {
            topic: this.topic, group: this.group, attempt, batchSize: batch.length, final,
          });
        } catch {
          // onError must not throw; if it does, it must not break delivery either.
        }
        if (final) {
          this.g.undelivered += batch.length;
          const f = new SubscriptionFailedError(this.topic, this.group, attempt, batch.length, cause ?? new Error('handler rejected with no reason'));
          log('error', COMPONENT, f.message);
          return f;
        }
        if (delay > 0) await sleep(delay);
        delay = Math.min(delay * 2, maxDelay);
      }
    }
  }

  /** Stop after the in-flight batch (uncommitted messages go to the group's other members). */
  async close(): Promise<void> {
    this.stopping = true;
    this.stopCtl.abort();
    this.reader?.stop();
    if (this.loop) await this.loop;
    else await this.discard();
  }
}
