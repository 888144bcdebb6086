// The Kafka implementation of the Transport contract (streams/transport.ts), on kafkajs.
//
// Producer side: publish() serializes events (JSON value, eventKey as message key) into a bounded
// in-memory buffer and resolves once they are accepted there; ONE sender loop drains the buffer in
// order, in batches (sendBatchEvents, lingerMs), compressed, through an idempotent producer
// (maxInFlightRequests 1, so per-key order survives retries). A failed send stays at the head of
// the buffer and is retried with backoff for as long as it takes (broker down, restarted): the
// buffer then fills, publish() waits (backpressure) up to shedAfterMs and then sheds the batch —
// counted in stats (`shed`) and logged, never silent. Resending after an unknown outcome may
// duplicate; sinks dedup by (flowid, seq).
//
// Consumer side: one kafkajs consumer per subscription (group = Kafka consumer group), eachBatch
// with autoCommit off: each chunk of at most maxBatch messages goes to the handler (retried with
// backoff per RetryOptions), and only after it resolves is the offset resolved and committed.
// A crash or a rebalance before the commit redelivers the chunk (at-least-once).
import kafkajs from 'kafkajs';
import type { Admin, Consumer, EachBatchPayload, Kafka as KafkaClient, Producer, SASLOptions, logCreator } from 'kafkajs';
import type { BatchHandler, GroupStats, StreamEvent, SubscribeOptions, Subscription, TopicStats, Transport, TransportStats } from '../transport.js';
import { HandlerError, InvalidArgumentError, SubscriptionFailedError, TransportClosedError, messageOf } from '../errors.js';
import { eventKey } from '../schema.js';
import { log } from '../log.js';
import { COMPRESSION, registerCodecs } from './codecs.js';
import { KafkaAuthError, KafkaUnreachableError } from './errors.js';
import { resolveKafkaOptions, type KafkaTransportOptions, type ResolvedKafkaTransportOptions } from './options.js';

const { Kafka, Partitioners, logLevel } = kafkajs;
const COMPONENT = 'kafka';

/** TopicStats plus the producer-side counters of the Kafka transport. */
export interface KafkaTopicStats extends TopicStats {
  /** Events acknowledged by the broker. */
  sent: number;
  /** Events dropped because the buffer stayed full (broker slow or down) beyond shedAfterMs. */
  shed: number;
  /** Failed produce attempts (each retried). */
  sendErrors: number;
}

export interface KafkaTransportStats extends TransportStats {
  topics: Record<string, KafkaTopicStats>;
  /** Serialized bytes held in the producer buffer now, and its bound. */
  bufferedBytes: number;
  maxBufferBytes: number;
  connected: boolean;
}

interface Pending {
  topic: string;
  key: string;
  value: string;
  bytes: number;
}

interface Waiter {
  bytes: number;
  items: Pending[];
  resolve: () => void;
  timer?: NodeJS.Timeout;
}

interface TopicState {
  published: number;
  sent: number;
  shed: number;
  sendErrors: number;
  queued: number;
  maxQueued: number;
  blockedPublishes: number;
  groups: Map<string, GroupState>;
}

interface GroupState {
  subscribers: number;
  delivered: number;
  errors: number;
  undelivered: number;
  failed: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** `p`, or undefined after `ms` (close() must end even when a broker call hangs). */
function bounded<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<undefined>((r) => {
    timer = setTimeout(() => r(undefined), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function classify(e: unknown): 'auth' | 'other' {
  const m = messageOf(e).toLowerCase();
  const t = (e as { type?: string } | null)?.type ?? '';
  return /sasl|authentication|auth failed/.test(m) || /SASL|AUTHENTICATION/.test(t) ? 'auth' : 'other';
}

/**
 * The Kafka consumer group id of transport group `group` on `topic`. Transport groups are scoped
 * per topic (an analyzer group reads flows and dns independently); kafkajs assigns every topic of
 * a group to its members whatever each subscribed to, so one Kafka group per (group, topic).
 */
export function groupIdFor(group: string, topic: string): string {
  return `${group}@${topic}`;
}

export class KafkaTransport implements Transport {
  readonly name = 'kafka';
  readonly options: ResolvedKafkaTransportOptions;
  private readonly kafka: KafkaClient;
  private admin: Admin | null = null;
  private producer: Producer | null = null;
  private connecting: Promise<void> | null = null;
  private connected = false;
  private readonly knownTopics = new Set<string>();
  private readonly topics = new Map<string, TopicState>();
  private readonly subs = new Set<KafkaSubscription>();

  private buffer: Pending[] = [];
  private head = 0;
  private bufferedBytes = 0;
  private readonly waiters: Waiter[] = [];
  private wakeSender: (() => void) | null = null;
  private sender: Promise<void> | null = null;
  private closing = false;
  private stopSender = false;
  private closed = false;
  private lastShedLog = 0;
  private shedSinceLog = 0;

  constructor(opts: KafkaTransportOptions) {
    registerCodecs();
    this.options = resolveKafkaOptions(opts);
    const o = this.options;
    const logger: logCreator = () => ({ namespace, level, log: entry }) => {
      const { message, ...rest } = entry as { message: string } & Record<string, unknown>;
      const lvl = level === logLevel.ERROR || level === logLevel.WARN ? 'debug' : 'trace';
      log(lvl, `${COMPONENT}.${namespace || 'client'}`, message, { error: rest.error ?? '' });
    };
    this.kafka = new Kafka({
      clientId: o.clientId,
      brokers: o.brokers,
      ...(o.ssl !== undefined ? { ssl: o.ssl } : {}),
      ...(o.sasl ? { sasl: o.sasl as SASLOptions } : {}),
      connectionTimeout: 3000,
      requestTimeout: 30_000,
      logLevel: logLevel.WARN,
      logCreator: logger,
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
    });
  }

  // ---------------------------------------------------------------- connection

  /**
   * Reach the brokers (admin connection), retrying with backoff; the first failure is logged as
   * one clear line, later ones at growing intervals. Rejects with KafkaUnreachableError after
   * connectTimeoutMs, or KafkaAuthError on refused credentials. Called lazily by publish and
   * subscribe; call it directly to fail fast at start.
   */
  connect(): Promise<void> {
    if (this.connected) return Promise.resolve();
    if (!this.connecting) {
      this.connecting = this.connectLoop().finally(() => {
        this.connecting = null;
      });
    }
    return this.connecting;
  }

  private async connectLoop(): Promise<void> {
    const o = this.options;
    const start = Date.now();
    let delay = o.backoff.initialDelayMs;
    for (let attempt = 1; ; attempt++) {
      if (this.stopSender) throw new TransportClosedError(this.name);
      const admin = this.kafka.admin({ retry: { retries: 0 } });
      try {
        await admin.connect();
        await admin.describeCluster();
        this.admin = admin;
        this.connected = true;
        if (attempt > 1) log('info', COMPONENT, 'connected', { brokers: o.brokers.join(','), attempts: attempt });
        return;
      } catch (e) {
        await admin.disconnect().catch(() => undefined);
        if (classify(e) === 'auth') throw new KafkaAuthError(o.brokers, messageOf(e), e);
        const waited = Date.now() - start;
        if (waited >= o.connectTimeoutMs) {
          throw new KafkaUnreachableError(o.brokers, `${messageOf(e)} (gave up after ${Math.round(waited / 1000)} s)`, e);
        }
        // One line per attempt while the delay grows; once at the max delay, one line per attempt.
        log(attempt === 1 ? 'error' : 'warn', COMPONENT,
          `brokers ${o.brokers.join(',')} unreachable (${messageOf(e)}); retrying in ${(delay / 1000).toFixed(1)} s`,
          { attempt });
        await sleep(delay);
        delay = Math.min(delay * 2, o.backoff.maxDelayMs);
      }
    }
  }

  /** Create `topic` when missing, with the configured partitions and replication. */
  async ensureTopic(topic: string): Promise<void> {
    if (this.knownTopics.has(topic)) return;
    await this.connect();
    const admin = this.admin!;
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: [{ topic, numPartitions: this.options.partitions, replicationFactor: this.options.replicationFactor }],
        });
        log('debug', COMPONENT, 'topic created', { topic, partitions: this.options.partitions });
      } catch (e) {
        // Created concurrently by another process is fine.
        if (!/already exists/i.test(messageOf(e))) throw e;
      }
    }
    this.knownTopics.add(topic);
  }

  private async getProducer(): Promise<Producer> {
    if (this.producer) return this.producer;
    await this.connect();
    const o = this.options;
    const p = this.kafka.producer({
      idempotent: o.idempotent,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
    });
    await p.connect();
    this.producer = p;
    return p;
  }

  private async dropProducer(): Promise<void> {
    const p = this.producer;
    this.producer = null;
    if (p) await p.disconnect().catch(() => undefined);
  }

  // ---------------------------------------------------------------- publish

  private topicState(topic: string): TopicState {
    let t = this.topics.get(topic);
    if (!t) {
      t = { published: 0, sent: 0, shed: 0, sendErrors: 0, queued: 0, maxQueued: 0, blockedPublishes: 0, groups: new Map() };
      this.topics.set(topic, t);
    }
    return t;
  }

  publish<E extends StreamEvent>(topic: string, events: readonly E[]): Promise<void> {
    if (this.closing) return Promise.reject(new TransportClosedError(this.name, topic));
    if (!topic) return Promise.reject(new InvalidArgumentError('publish: empty topic'));
    if (events.length === 0) return Promise.resolve();
    const t = this.topicState(topic);
    const items: Pending[] = new Array(events.length);
    let bytes = 0;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const value = JSON.stringify(e);
      const key = eventKey(e as unknown as { type: string });
      const b = value.length + key.length + 64;
      items[i] = { topic, key, value, bytes: b };
      bytes += b;
    }
    this.ensureSender();
    if (this.waiters.length === 0 && this.fits(bytes)) {
      this.accept(items, bytes);
      return Promise.resolve();
    }
    t.blockedPublishes++;
    return new Promise<void>((resolve) => {
      const w: Waiter = { bytes, items, resolve };
      if (Number.isFinite(this.options.shedAfterMs)) {
        w.timer = setTimeout(() => this.shed(w), this.options.shedAfterMs);
      }
      this.waiters.push(w);
    });
  }

  private fits(bytes: number): boolean {
    // An empty buffer takes any batch, so one oversized publish cannot wait forever.
    return this.bufferedBytes === 0 || this.bufferedBytes + bytes <= this.options.maxBufferBytes;
  }

  private accept(items: Pending[], bytes: number): void {
    for (const it of items) this.buffer.push(it);
    this.bufferedBytes += bytes;
    const t = this.topicState(items[0]!.topic);
    t.published += items.length;
    t.queued += items.length;
    if (t.queued > t.maxQueued) t.maxQueued = t.queued;
    this.wake();
  }

  private shed(w: Waiter): void {
    const i = this.waiters.indexOf(w);
    if (i < 0) return;
    this.waiters.splice(i, 1);
    const t = this.topicState(w.items[0]!.topic);
    t.shed += w.items.length;
    this.shedSinceLog += w.items.length;
    const now = Date.now();
    if (now - this.lastShedLog >= 5000) {
      log('warn', COMPONENT, `producer buffer full for ${this.options.shedAfterMs} ms (broker slow or down): shedding events`, {
        topic: w.items[0]!.topic,
        shed: this.shedSinceLog,
        shed_total: t.shed,
        buffered_bytes: this.bufferedBytes,
        max_buffer_bytes: this.options.maxBufferBytes,
      });
      this.lastShedLog = now;
      this.shedSinceLog = 0;
    }
    w.resolve();
    this.admitWaiters();
  }

  private admitWaiters(): void {
    while (this.waiters.length > 0 && this.fits(this.waiters[0]!.bytes)) {
      const w = this.waiters.shift()!;
      if (w.timer) clearTimeout(w.timer);
      this.accept(w.items, w.bytes);
      w.resolve();
    }
  }

  private wake(): void {
    const w = this.wakeSender;
    this.wakeSender = null;
    if (w) w();
  }

  private ensureSender(): void {
    if (!this.sender) this.sender = this.sendLoop();
  }

  private pendingCount(): number {
    return this.buffer.length - this.head;
  }

  private async sendLoop(): Promise<void> {
    const o = this.options;
    let delay = o.backoff.initialDelayMs;
    let failures = 0;
    while (!this.stopSender) {
      if (this.pendingCount() === 0) {
        await new Promise<void>((r) => {
          this.wakeSender = r;
        });
        continue;
      }
      if (this.pendingCount() < o.sendBatchEvents && o.lingerMs > 0 && !this.closing) await sleep(o.lingerMs);
      const n = Math.min(this.pendingCount(), o.sendBatchEvents);
      const batch = this.buffer.slice(this.head, this.head + n);
      try {
        const byTopic = new Map<string, { key: string; value: string }[]>();
        for (const it of batch) {
          let arr = byTopic.get(it.topic);
          if (!arr) byTopic.set(it.topic, (arr = []));
          arr.push({ key: it.key, value: it.value });
        }
        for (const topic of byTopic.keys()) await this.ensureTopic(topic);
        const producer = await this.getProducer();
        await producer.sendBatch({
          acks: o.acks,
          compression: COMPRESSION[o.compression],
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        });
        if (failures > 0) log('info', COMPONENT, 'sending again', { after_failures: failures });
        failures = 0;
        delay = o.backoff.initialDelayMs;
        let freed = 0;
        for (const it of batch) {
          freed += it.bytes;
          const t = this.topicState(it.topic);
          t.sent++;
          t.queued--;
        }
        this.head += n;
        if (this.head > 65536 && this.head * 2 > this.buffer.length) {
          this.buffer = this.buffer.slice(this.head);
          this.head = 0;
        }
        this.bufferedBytes -= freed;
        this.admitWaiters();
      } catch (e) {
        failures++;
        for (const topic of new Set(batch.map((it) => it.topic))) this.topicState(topic).sendErrors++;
        if (classify(e) === 'auth') {
          log('error', COMPONENT, `send refused: ${messageOf(e)}`);
        } else if (failures === 1 || failures % 10 === 0) {
          log('warn', COMPONENT, `send failed (${messageOf(e)}); retrying with backoff, events stay buffered`, {
            failures,
            buffered: this.pendingCount(),
          });
        }
        // A producer whose requests failed for good may hold a stale idempotence sequence; a new
        // one (new producer id) avoids OUT_OF_ORDER_SEQUENCE loops after a broker restart.
        if (failures % 3 === 0) await this.dropProducer();
        await sleep(delay);
        delay = Math.min(delay * 2, o.backoff.maxDelayMs);
      }
    }
  }

  /** Resolves when every accepted event has been acknowledged (or the timeout passes: false). */
  async flush(timeoutMs = Infinity): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.pendingCount() > 0 || this.waiters.length > 0) {
      if (Date.now() >= deadline) return false;
      await sleep(10);
    }
    return true;
  }

  // ---------------------------------------------------------------- subscribe

  async subscribe<E extends StreamEvent>(topic: string, opts: SubscribeOptions, handler: BatchHandler<E>): Promise<Subscription> {
    if (this.closing) throw new TransportClosedError(this.name, topic);
    if (!topic) throw new InvalidArgumentError('subscribe: empty topic');
    if (!opts.group) throw new InvalidArgumentError('subscribe: empty group');
    if (opts.maxBatch !== undefined && opts.maxBatch < 1) throw new InvalidArgumentError('subscribe: maxBatch must be >= 1');
    await this.ensureTopic(topic);
    const t = this.topicState(topic);
    let g = t.groups.get(opts.group);
    if (!g) t.groups.set(opts.group, (g = { subscribers: 0, delivered: 0, errors: 0, undelivered: 0, failed: false }));
    const o = this.options;
    const consumer = this.kafka.consumer({
      groupId: groupIdFor(opts.group, topic),
      sessionTimeout: o.sessionTimeoutMs,
      rebalanceTimeout: Math.max(o.sessionTimeoutMs, 10_000),
      heartbeatInterval: o.heartbeatIntervalMs,
      maxWaitTimeInMs: 100,
      maxBytesPerPartition: 4 << 20,
      maxBytes: 32 << 20,
      allowAutoTopicCreation: false,
      retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5000 },
    });
    const sub = new KafkaSubscription(topic, opts, g, consumer, handler as BatchHandler<StreamEvent>, o.maxBatch, () => this.subs.delete(sub));
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: o.startFrom === 'earliest' });
    g.subscribers++;
    this.subs.add(sub);
    await sub.start();
    return sub;
  }

  /** Partitions currently assigned to a subscription (tests and stats). */
  static assignment(sub: Subscription): number[] {
    return sub instanceof KafkaSubscription ? [...sub.assigned].sort((a, b) => a - b) : [];
  }

  /**
   * Resolves when `group` has committed every event of `topic` present now (consumer lag 0), or
   * returns false after timeoutMs. Used to end a pipeline run over Kafka.
   */
  async waitForGroup(topic: string, group: string, timeoutMs = 60_000): Promise<boolean> {
    await this.connect();
    const admin = this.admin!;
    const deadline = Date.now() + timeoutMs;
    const ends = await admin.fetchTopicOffsets(topic);
    for (;;) {
      const committed = await admin.fetchOffsets({ groupId: groupIdFor(group, topic), topics: [topic] });
      const byPart = new Map<number, bigint>();
      for (const tp of committed) for (const p of tp.partitions) byPart.set(p.partition, BigInt(p.offset));
      const done = ends.every((e) => BigInt(e.high) === 0n || (byPart.get(e.partition) ?? -1n) >= BigInt(e.high));
      if (done) return true;
      if (Date.now() >= deadline) return false;
      await sleep(200);
    }
  }

  /**
   * End of a pipeline run over Kafka: every accepted event acked (flush), then `group` caught up
   * on `topic` (waitForGroup). False when either did not happen within timeoutMs.
   */
  async drain(topic: string, group: string, timeoutMs = 120_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    if (!(await this.flush(timeoutMs))) return false;
    return this.waitForGroup(topic, group, Math.max(0, deadline - Date.now()));
  }

  // ---------------------------------------------------------------- close / stats

  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    const flushed = await this.flush(this.options.closeTimeoutMs);
    if (!flushed) {
      for (const w of this.waiters.splice(0)) {
        if (w.timer) clearTimeout(w.timer);
        this.topicState(w.items[0]!.topic).shed += w.items.length;
        w.resolve();
      }
      const left = this.pendingCount();
      for (const it of this.buffer.slice(this.head)) {
        const t = this.topicState(it.topic);
        t.shed++;
        t.queued--;
      }
      log('error', COMPONENT, `close: ${left} events not acknowledged within ${this.options.closeTimeoutMs} ms; dropped`, { shed: left });
    }
    this.stopSender = true;
    this.wake();
    await bounded(this.sender ?? Promise.resolve(), 5000);
    let failure: unknown;
    for (const s of [...this.subs]) {
      await bounded(s.close(), 15_000);
      await s.done.catch((e) => {
        failure ??= e;
      });
    }
    await bounded(this.dropProducer(), 5000);
    if (this.admin) await bounded(this.admin.disconnect().catch(() => undefined), 5000);
    this.connected = false;
    this.closed = true;
    if (failure) throw failure;
  }

  stats(): KafkaTransportStats {
    const topics: Record<string, KafkaTopicStats> = {};
    for (const [name, t] of this.topics) {
      const groups: Record<string, GroupStats> = {};
      let delivered = 0;
      let errors = 0;
      let undelivered = t.shed;
      for (const [gname, g] of t.groups) {
        groups[gname] = { subscribers: g.subscribers, delivered: g.delivered, queued: 0, errors: g.errors, undelivered: g.undelivered, failed: g.failed };
        delivered += g.delivered;
        errors += g.errors;
        undelivered += g.undelivered;
      }
      topics[name] = {
        published: t.published,
        delivered,
        queued: t.queued,
        maxQueued: t.maxQueued,
        blockedPublishes: t.blockedPublishes,
        errors,
        undelivered,
        groups,
        sent: t.sent,
        shed: t.shed,
        sendErrors: t.sendErrors,
      };
    }
    return {
      transport: this.name,
      closed: this.closed,
      topics,
      bufferedBytes: this.bufferedBytes,
      maxBufferBytes: this.options.maxBufferBytes,
      connected: this.connected,
    };
  }
}

class KafkaSubscription implements Subscription {
  readonly done: Promise<void>;
  readonly assigned = new Set<number>();
  private resolveDone!: () => void;
  private rejectDone!: (e: unknown) => void;
  private stopping: Promise<void> | null = null;
  private failure: SubscriptionFailedError | null = null;

  constructor(
    readonly topic: string,
    private readonly opts: SubscribeOptions,
    private readonly g: GroupState,
    private readonly consumer: Consumer,
    private readonly handler: BatchHandler<StreamEvent>,
    defaultMaxBatch: number,
    private readonly onEnd: () => void,
  ) {
    this.maxBatch = opts.maxBatch ?? defaultMaxBatch;
    this.done = new Promise<void>((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
    this.done.catch(() => undefined);
  }

  private readonly maxBatch: number;

  get group(): string {
    return this.opts.group;
  }

  async start(): Promise<void> {
    const { GROUP_JOIN, CRASH } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, (ev) => {
      this.assigned.clear();
      for (const p of ev.payload.memberAssignment[this.topic] ?? []) this.assigned.add(p);
      log('debug', COMPONENT, 'partitions assigned', { topic: this.topic, group: this.group, partitions: [...this.assigned].join(',') });
    });
    this.consumer.on(CRASH, (ev) => {
      log('warn', COMPONENT, `consumer error (${messageOf(ev.payload.error)}); ${ev.payload.restart ? 'restarting' : 'stopped'}`, {
        topic: this.topic,
        group: this.group,
      });
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (p) => this.eachBatch(p),
    });
  }

  private async eachBatch(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    const msgs = batch.messages;
    for (let i = 0; i < msgs.length; i += this.maxBatch) {
      if (this.failure || this.stopping || !p.isRunning() || p.isStale()) return;
      const chunk = msgs.slice(i, i + this.maxBatch);
      const events: StreamEvent[] = [];
      for (const m of chunk) {
        if (m.value) events.push(JSON.parse(m.value.toString('utf8')) as StreamEvent);
      }
      if (events.length > 0) {
        const ok = await this.handle(events, p);
        if (!ok) return;
      }
      const last = chunk[chunk.length - 1]!.offset;
      p.resolveOffset(last);
      await p.commitOffsetsIfNecessary({
        topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last) + 1n).toString() }] }],
      });
      this.g.delivered += events.length;
      await p.heartbeat();
    }
  }

  /** Run the handler with bounded retries; false when the subscription failed for good. */
  private async handle(events: StreamEvent[], p: EachBatchPayload): Promise<boolean> {
    const r = this.opts.retry ?? {};
    const maxAttempts = r.maxAttempts ?? 5;
    let delay = r.initialDelayMs ?? 10;
    const maxDelay = r.maxDelayMs ?? 1000;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.handler(events);
        return true;
      } catch (cause) {
        this.g.errors++;
        const final = attempt >= maxAttempts;
        const err = new HandlerError(this.topic, this.group, attempt, events.length, cause);
        try {
          this.opts.onError?.(err, { topic: this.topic, group: this.group, attempt, batchSize: events.length, final });
        } catch {
          // onError must not throw; ignore if it does
        }
        if (final) {
          this.g.failed = true;
          this.g.undelivered += events.length;
          this.failure = new SubscriptionFailedError(this.topic, this.group, attempt, events.length, cause);
          log('error', COMPONENT, this.failure.message);
          // Stop outside the batch callback (stop waits for it); nothing uncommitted is lost for
          // the group: another member or a restart gets it again.
          setImmediate(() => void this.stop());
          return false;
        }
        await sleep(delay);
        delay = Math.min(delay * 2, maxDelay);
        if (!p.isRunning() || p.isStale()) return false;
        await p.heartbeat().catch(() => undefined);
      }
    }
  }

  private stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = (async () => {
        await bounded(this.consumer.disconnect().catch(() => undefined), 15_000);
        this.g.subscribers--;
        this.assigned.clear();
        this.onEnd();
        if (this.failure) this.rejectDone(this.failure);
        else this.resolveDone();
      })();
    }
    return this.stopping;
  }

  close(): Promise<void> {
    return this.stop();
  }
}
