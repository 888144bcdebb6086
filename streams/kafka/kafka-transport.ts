// The Kafka implementation of the Transport contract (streams/transport.ts), on @platformatic/kafka:
// a thin composition of
//   admin.ts     reaching the brokers, topics and partition counts, offsets, group catch-up
//   producer.ts  publish(): encode (framing.ts, partition.ts), bounded buffer, ONE sender loop
//   consumer.ts  subscribe(): one consumer per subscription, commits after the handler resolved
//   control.ts   announce() / producersEnded(): the end-of-input protocol of bounded runs
// Everything runs on the caller's thread (the clients are asynchronous JS); memory is bounded by
// the producer buffer (maxBufferBytes) and per subscription by one fetch plus a few messages.
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { EventBatch } from '../events/batch.js';
import { typeOfTopic } from '../events/table.js';
import { InvalidArgumentError, TransportClosedError } from '../errors.js';
import { log } from '../log.js';
import type { Batch, BatchHandler, SubscribeOptions, Subscription, TopicStats, Transport, TransportStats } from '../transport.js';
import { KafkaAdmin, bounded } from './admin.js';
import { KafkaSubscription, newGroupCounters, type GroupCounters, type KafkaGroupStats, type KafkaSubscribeOptions } from './consumer.js';
import { announce, producersEnded, type Announcement, type ControlHost } from './control.js';
import { MessageIds } from './framing.js';
import { resolveKafkaOptions, type KafkaTransportOptions, type ResolvedKafkaTransportOptions } from './options.js';
import { KafkaProducer } from './producer.js';

const COMPONENT = 'kafka';

/** TopicStats plus the producer- and consumer-side counters of the Kafka transport (events). */
export interface KafkaTopicStats extends TopicStats {
  /** Events acknowledged by the broker. */
  sent: number;
  /** Events dropped because the buffer stayed full (broker slow or down) beyond shedAfterMs, or left at close. */
  shed: number;
  /** Failed produce attempts (each retried). */
  sendErrors: number;
  /** Events in messages the groups refused (unreadable, wrong type or version), and those messages. */
  refused: number;
  refusedMessages: number;
  groups: Record<string, KafkaGroupStats>;
}

export interface KafkaTransportStats extends TransportStats {
  topics: Record<string, KafkaTopicStats>;
  /** Encoded bytes held in the producer buffer now, and its bound. */
  bufferedBytes: number;
  maxBufferBytes: number;
  connected: boolean;
}

export class KafkaTransport implements Transport {
  readonly name = 'kafka';
  readonly options: ResolvedKafkaTransportOptions;
  /** This instance's id: the producer on the control topic, the prefix of its message ids. */
  readonly id = randomUUID();
  private readonly abort = new AbortController();
  private readonly admin: KafkaAdmin;
  private readonly producer: KafkaProducer;
  private readonly groups = new Map<string, Map<string, GroupCounters>>();
  private readonly subs = new Set<KafkaSubscription>();
  /** Subscriptions that failed (close() rejects with the first). */
  private readonly failures: unknown[] = [];
  private readonly host: ControlHost;
  private closing = false;
  private closed = false;
  private closePromise: Promise<void> | null = null;

  constructor(opts: KafkaTransportOptions) {
    this.options = resolveKafkaOptions(opts);
    // Every subscription and backoff wait listens to this signal: no "possible leak" warning at 11.
    setMaxListeners(0, this.abort.signal);
    this.admin = new KafkaAdmin(this.options, this.abort.signal);
    this.producer = new KafkaProducer(this.options, this.admin, new MessageIds(this.id), this.abort.signal);
    this.host = {
      id: this.id,
      admin: this.admin,
      publish: (topic, batch) => this.publish(topic, batch),
      flush: (ms) => this.flush(ms),
      published: (topic) => this.producer.topics.get(topic)?.published ?? 0,
      subscribeQuietly: (topic, o) => this.open(topic, o, async () => undefined, newGroupCounters()),
    };
  }

  /**
   * Reach the brokers (see KafkaAdmin.connect): rejects with KafkaUnreachableError after
   * connectTimeoutMs, or KafkaAuthError on refused credentials. publish() and subscribe() call it
   * when needed; call it directly to fail fast at start.
   */
  connect(): Promise<void> {
    return this.admin.connect();
  }

  /** Create `topic` when missing (configured partitions and replication); resolves with its partition count. */
  ensureTopic(topic: string): Promise<number> {
    return this.admin.ensureTopic(topic);
  }

  /**
   * Accept an EventBatch (or, for convenience, an array of events of the topic's type) for
   * `topic`; resolves once buffered (see producer.ts), waiting while the buffer is full.
   */
  publish<B extends Batch = EventBatch>(topic: string, batch: B): Promise<void> {
    if (this.closing) return Promise.reject(new TransportClosedError(this.name, topic));
    if (!topic) return Promise.reject(new InvalidArgumentError('publish: topic must be a non-empty string'));
    const type = typeOfTopic(topic);
    let b: EventBatch;
    if (batch instanceof EventBatch) {
      b = batch;
    } else if (Array.isArray(batch)) {
      if (!type) return Promise.reject(new InvalidArgumentError(`publish(${topic}): an array of events needs a topic named after its event type`));
      try {
        b = EventBatch.fromRows(type, batch);
      } catch (e) {
        return Promise.reject(e);
      }
    } else {
      return Promise.reject(new InvalidArgumentError(`publish(${topic}): the Kafka transport carries EventBatches (or arrays of events)`));
    }
    if (type && b.type !== type) return Promise.reject(new InvalidArgumentError(`publish(${topic}): a ${b.type} batch where ${type} events belong`));
    if (b.length === 0) return Promise.resolve();
    try {
      return this.producer.publish(topic, b, b.type === 'control' ? 'json' : this.options.format);
    } catch (e) {
      return Promise.reject(e); // a batch the encoder refuses (columns missing, bad row selection)
    }
  }

  /** Resolves true once every accepted event is acknowledged, false after timeoutMs. */
  flush(timeoutMs = Infinity): Promise<boolean> {
    return this.producer.flush(timeoutMs);
  }

  async subscribe<B extends Batch = EventBatch>(topic: string, opts: SubscribeOptions | KafkaSubscribeOptions, handler: BatchHandler<B>): Promise<Subscription> {
    if (this.closing) throw new TransportClosedError(this.name, topic);
    let perTopic = this.groups.get(topic);
    if (!perTopic) this.groups.set(topic, (perTopic = new Map()));
    let g = perTopic.get(opts.group);
    if (!g && opts.group) perTopic.set(opts.group, (g = newGroupCounters()));
    return this.open(topic, opts, handler as unknown as BatchHandler<EventBatch>, g ?? newGroupCounters());
  }

  private async open(topic: string, opts: KafkaSubscribeOptions, handler: BatchHandler<EventBatch>, g: GroupCounters): Promise<Subscription> {
    if (this.closing) throw new TransportClosedError(this.name, topic);
    if (!topic) throw new InvalidArgumentError('subscribe: topic must be a non-empty string');
    if (!opts.group) throw new InvalidArgumentError(`subscribe(${topic}): group must be a non-empty string`);
    const maxBatch = opts.maxBatch ?? this.options.maxBatch;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new InvalidArgumentError(`subscribe(${topic}): maxBatch must be an integer >= 1 (got ${maxBatch})`);
    await this.admin.ensureTopic(topic);
    const sub: KafkaSubscription = new KafkaSubscription(this.options, topic, opts, g, handler, this.abort.signal, () => this.subs.delete(sub));
    this.subs.add(sub);
    try {
      await sub.start();
    } catch (e) {
      this.subs.delete(sub);
      throw e;
    }
    sub.done.catch((e: unknown) => void this.failures.push(e));
    return sub;
  }

  /** Partitions currently assigned to a subscription (tests and stats). */
  static assignment(sub: Subscription): number[] {
    return sub instanceof KafkaSubscription ? sub.assignment() : [];
  }

  /** Resolves true once `group` committed every event of `topic` present now, false after timeoutMs. */
  waitForGroup(topic: string, group: string, timeoutMs = 60_000): Promise<boolean> {
    return this.admin.waitForGroup(topic, group, timeoutMs);
  }

  /**
   * The end of a bounded run: every accepted event acknowledged (flush), then `group` caught up
   * with `topic`'s end offsets (waitForGroup). False when that did not happen within timeoutMs.
   */
  async drain(topic: string, group: string, timeoutMs = Infinity): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    if (!(await this.flush(timeoutMs))) return false;
    return this.admin.waitForGroup(topic, group, Math.max(0, deadline - Date.now()));
  }

  /** Announce this process on the control topic as a producer of `topics` (see control.ts). */
  announce(role: string, obname: string, topics: readonly string[]): Promise<Announcement> {
    if (this.closing) return Promise.reject(new TransportClosedError(this.name));
    return announce(this.host, role, obname, topics);
  }

  /** Resolves once the producers of `topics` running now, or starting later, have ended (see control.ts). */
  producersEnded(topics: readonly string[]): Promise<void> {
    if (this.closing) return Promise.reject(new TransportClosedError(this.name));
    return producersEnded(this.host, topics);
  }

  /**
   * Flush (at most closeTimeoutMs; what is left is counted as shed and logged), stop the sender,
   * close the subscriptions after their in-flight batch, then the clients. Rejects with the first
   * SubscriptionFailedError if a subscription failed.
   */
  close(): Promise<void> {
    if (!this.closePromise) {
      this.closing = true;
      this.closePromise = this.shutdown();
    }
    return this.closePromise;
  }

  private async shutdown(): Promise<void> {
    const ms = this.options.closeTimeoutMs;
    const flushed = await this.producer.flush(ms);
    this.abort.abort();
    const left = await this.producer.stop();
    if (!flushed && left > 0) log('error', COMPONENT, `close: ${left} events not acknowledged within ${ms} ms; dropped`, { shed: left });
    for (const s of [...this.subs]) {
      // A handler that never returns must not hold close() forever.
      await bounded(s.close(), 15_000);
      await bounded(s.done.catch(() => undefined), 1000);
    }
    await this.admin.close();
    this.closed = true;
    if (this.failures.length > 0) throw this.failures[0];
  }

  stats(): KafkaTransportStats {
    const topics: Record<string, KafkaTopicStats> = {};
    const names = new Set([...this.producer.topics.keys(), ...this.groups.keys()]);
    for (const name of names) {
      const p = this.producer.topics.get(name) ?? this.producer.counters(name);
      const groups: Record<string, KafkaGroupStats> = {};
      let delivered = 0;
      let errors = 0;
      let undelivered = p.shed;
      let refused = 0;
      let refusedMessages = 0;
      for (const [gname, g] of this.groups.get(name) ?? []) {
        groups[gname] = { ...g, queued: 0 };
        delivered += g.delivered;
        errors += g.errors;
        undelivered += g.undelivered;
        refused += g.refused;
        refusedMessages += g.refusedMessages;
      }
      topics[name] = {
        published: p.published,
        delivered,
        queued: p.queued,
        maxQueued: p.maxQueued,
        blockedPublishes: p.blockedPublishes,
        errors,
        undelivered,
        groups,
        sent: p.sent,
        shed: p.shed,
        sendErrors: p.sendErrors,
        refused,
        refusedMessages,
      };
    }
    return {
      transport: this.name,
      closed: this.closed,
      topics,
      bufferedBytes: this.producer.bufferedBytes,
      maxBufferBytes: this.options.maxBufferBytes,
      connected: this.admin.connected,
    };
  }
}
