// The in-process transport: the default engine of `damselfly run`, and the in-memory pair tests use.
//
// Model (one Kafka partition per topic, one offset per group):
//   - Each topic × active group has a bounded EventQueue (`maxQueued` events, pending + in-flight).
//     publish() pushes the caller's batch once, shared read-only by all groups' queues.
//   - Backpressure: a publish that does not fit waits, FIFO per topic, until every active group
//     has room (it is accepted piecewise as room appears, so a batch larger than the bound still
//     goes through). Memory per topic stays <= maxQueued events; nothing is dropped silently.
//   - Topic with no active group: events are RETAINED in a backlog with the same bound (so
//     backpressure applies) and handed to the next group that subscribes. A group that subscribes
//     while others are active starts with the events published from then on (Kafka "latest").
//   - Several subscribers in one group = competing consumers: each batch goes to whichever
//     subscriber is idle (round-robin in effect). Per-key order then holds only across batches
//     of one subscriber; use one subscriber per group where order matters (the normal case).
//   - A batch is committed when its handler resolves. A throwing handler gets the same batch
//     again after a backoff; after maxAttempts the group FAILS: its subscriptions' `done` reject,
//     its queued events, and those published after, are counted as `undelivered` and released (so
//     producers and other groups keep running), and close() rejects with the failure. Subscribing
//     to that group again restarts it with the events published from then on.
//   - A group whose last subscriber closes leaves the topic; what it had queued is counted as
//     `undelivered` too.
// Per-event work is a counter update; promises and timers exist per batch or per wait.

import {
  HandlerError,
  InvalidArgumentError,
  SubscriptionFailedError,
  TransportClosedError,
} from '../errors.js';
import type {
  Batch,
  BatchHandler,
  GroupStats,
  SubscribeOptions,
  Subscription,
  TopicStats,
  Transport,
  TransportStats,
} from '../transport.js';
import { EventQueue } from './queue.js';

export interface EmbeddedTransportOptions {
  /** Bound of each topic × group queue, in events, in-flight batches included (default 65536). */
  maxQueued?: number;
  /** maxBatch of subscriptions that do not set one (default 1024). */
  defaultMaxBatch?: number;
  /** Name reported in stats and errors (default 'embedded'). */
  name?: string;
}

export const EMBEDDED_DEFAULTS = {
  maxQueued: 65536,
  defaultMaxBatch: 1024,
  retry: { maxAttempts: 5, initialDelayMs: 10, maxDelayMs: 1000 },
} as const;

interface PendingPublish {
  events: Batch;
  offset: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

type GroupState = 'active' | 'left' | 'failed';

class Group {
  state: GroupState = 'active';
  readonly queue = new EventQueue();
  readonly subs = new Set<EmbeddedSubscription>();
  private dataWaiters: (() => void)[] = [];
  delivered = 0;
  errors = 0;
  undelivered = 0;

  constructor(readonly name: string) {}

  waitForData(): Promise<void> {
    return new Promise((resolve) => this.dataWaiters.push(resolve));
  }

  wake(): void {
    if (this.dataWaiters.length === 0) return;
    const w = this.dataWaiters;
    this.dataWaiters = [];
    for (const f of w) f();
  }
}

class Topic {
  readonly groups = new Map<string, Group>();
  /** Events retained while no group is active. */
  readonly backlog = new EventQueue();
  readonly waiters: PendingPublish[] = [];
  published = 0;
  highWater = 0;
  blockedPublishes = 0;
  undeliveredBacklog = 0;

  constructor(readonly name: string) {}

  activeGroups(): Group[] {
    const out: Group[] = [];
    for (const g of this.groups.values()) if (g.state === 'active') out.push(g);
    return out;
  }

  queued(): number {
    let q = -1;
    for (const g of this.groups.values()) if (g.state === 'active' && g.queue.queued > q) q = g.queue.queued;
    return q < 0 ? this.backlog.queued : q;
  }
}

export class EmbeddedTransport implements Transport {
  readonly name: string;
  private readonly maxQueued: number;
  private readonly defaultMaxBatch: number;
  private readonly topics = new Map<string, Topic>();
  private closing = false;
  private closed = false;
  private closePromise: Promise<void> | null = null;
  private readonly failures: SubscriptionFailedError[] = [];

  constructor(opts: EmbeddedTransportOptions = {}) {
    this.name = opts.name ?? 'embedded';
    this.maxQueued = opts.maxQueued ?? EMBEDDED_DEFAULTS.maxQueued;
    this.defaultMaxBatch = opts.defaultMaxBatch ?? EMBEDDED_DEFAULTS.defaultMaxBatch;
    if (!Number.isInteger(this.maxQueued) || this.maxQueued < 1) {
      throw new InvalidArgumentError(`embedded transport: maxQueued must be an integer >= 1 (got ${this.maxQueued})`);
    }
    if (!Number.isInteger(this.defaultMaxBatch) || this.defaultMaxBatch < 1) {
      throw new InvalidArgumentError(`embedded transport: defaultMaxBatch must be an integer >= 1 (got ${this.defaultMaxBatch})`);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // publish side

  publish<B extends Batch>(topicName: string, events: B): Promise<void> {
    if (this.closing) return Promise.reject(new TransportClosedError(this.name, topicName));
    if (!topicName) return Promise.reject(new InvalidArgumentError('publish: topic must be a non-empty string'));
    if (events.length === 0) return Promise.resolve();
    const t = this.topic(topicName);
    if (t.waiters.length === 0) {
      const room = this.room(t);
      if (room >= events.length) {
        this.accept(t, events);
        return Promise.resolve();
      }
    }
    t.blockedPublishes++;
    return new Promise<void>((resolve, reject) => {
      t.waiters.push({ events, offset: 0, resolve, reject });
      this.pump(t);
    });
  }

  /** Free room of a topic: the least free among active groups, or of the backlog. */
  private room(t: Topic): number {
    let min = Infinity;
    for (const g of t.groups.values()) {
      if (g.state !== 'active') continue;
      const free = this.maxQueued - g.queue.queued;
      if (free < min) min = free;
    }
    return min === Infinity ? this.maxQueued - t.backlog.queued : min;
  }

  private accept(t: Topic, events: Batch): void {
    t.published += events.length;
    let any = false;
    for (const g of t.groups.values()) {
      if (g.state !== 'active') {
        if (g.state === 'failed') g.undelivered += events.length; // a dead consumer misses these
        continue;
      }
      any = true;
      g.queue.push(events);
      g.wake();
    }
    if (!any) t.backlog.push(events);
    const q = t.queued();
    if (q > t.highWater) t.highWater = q;
  }

  /** Accept waiting publishes, in order, as far as room allows. */
  private pump(t: Topic): void {
    while (t.waiters.length > 0) {
      const w = t.waiters[0]!;
      if (this.closing && t.activeGroups().length === 0) {
        // Nobody can ever drain this topic: refuse rather than hang close().
        t.waiters.shift();
        w.reject(new TransportClosedError(this.name, t.name));
        continue;
      }
      const room = this.room(t);
      if (room <= 0) return;
      const left = w.events.length - w.offset;
      if (room >= left) {
        this.accept(t, w.offset === 0 ? w.events : w.events.slice(w.offset, w.events.length));
        t.waiters.shift();
        w.resolve();
      } else {
        this.accept(t, w.events.slice(w.offset, w.offset + room));
        w.offset += room;
        return;
      }
    }
    // Closing and nothing left to accept: consumers waiting for data may now finish.
    if (this.closing) for (const g of t.groups.values()) g.wake();
  }

  private topic(name: string): Topic {
    let t = this.topics.get(name);
    if (!t) {
      t = new Topic(name);
      this.topics.set(name, t);
    }
    return t;
  }

  // ---------------------------------------------------------------------------------------------
  // consume side

  async subscribe<B extends Batch>(
    topicName: string,
    opts: SubscribeOptions,
    handler: BatchHandler<B>,
  ): Promise<Subscription> {
    if (this.closing) throw new TransportClosedError(this.name, topicName);
    if (!topicName) throw new InvalidArgumentError('subscribe: topic must be a non-empty string');
    if (!opts.group) throw new InvalidArgumentError(`subscribe(${topicName}): group must be a non-empty string`);
    const maxBatch = opts.maxBatch ?? this.defaultMaxBatch;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new InvalidArgumentError(`subscribe(${topicName}): maxBatch must be an integer >= 1 (got ${maxBatch})`);
    }
    const t = this.topic(topicName);
    let g = t.groups.get(opts.group);
    if (!g) {
      g = new Group(opts.group);
      g.state = 'left';
      t.groups.set(opts.group, g);
    }
    if (g.state !== 'active') {
      if (t.activeGroups().length === 0) g.queue.takeOver(t.backlog);
      g.state = 'active';
    }
    const sub = new EmbeddedSubscription(this, t, g, maxBatch, opts, handler as BatchHandler<Batch>);
    g.subs.add(sub);
    sub.start();
    this.pump(t);
    return sub;
  }

  /** @internal called by a subscription after its handler committed a batch. */
  committed(t: Topic, g: Group, n: number): void {
    g.queue.commit(n);
    g.delivered += n;
    if (t.waiters.length > 0) this.pump(t);
  }

  /** @internal a subscription stopped (closed or failed). */
  detached(t: Topic, g: Group, sub: EmbeddedSubscription, failure: SubscriptionFailedError | null): void {
    g.subs.delete(sub);
    if (failure) {
      if (g.state !== 'failed') {
        g.state = 'failed';
        this.failures.push(failure);
        for (const other of g.subs) other.requestStop();
      }
    } else if (g.subs.size === 0 && g.state === 'active') {
      g.state = 'left';
    }
    if (g.state !== 'active' && g.subs.size === 0) {
      g.undelivered += g.queue.clear();
    }
    this.pump(t);
  }

  /**
   * Resolves true once `group` has handled everything queued for it on `topic` (nothing pending,
   * nothing in flight, no publish waiting), false after timeoutMs; true at once for a group that
   * is not subscribed (nothing is queued for it).
   */
  async drain(topicName: string, group: string, timeoutMs = Infinity): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const t = this.topics.get(topicName);
      const g = t?.groups.get(group);
      if (!t || !g || g.state !== 'active' || (g.queue.queued === 0 && t.waiters.length === 0)) return true;
      if (Date.now() >= deadline) return false;
      await sleep(2);
    }
  }

  /** @internal */
  get isClosing(): boolean {
    return this.closing;
  }

  // ---------------------------------------------------------------------------------------------
  // lifecycle

  close(): Promise<void> {
    if (!this.closePromise) {
      this.closing = true;
      this.closePromise = this.drainAndStop();
    }
    return this.closePromise;
  }

  private async drainAndStop(): Promise<void> {
    for (const t of this.topics.values()) {
      this.pump(t);
      for (const g of t.groups.values()) g.wake();
    }
    // Subscriptions end by themselves once their group's queue is empty and nothing waits to be
    // accepted; new waiters cannot appear (publish rejects while closing).
    const running: Promise<unknown>[] = [];
    for (const t of this.topics.values()) {
      for (const g of t.groups.values()) for (const s of g.subs) running.push(s.done.catch(() => undefined));
    }
    await Promise.all(running);
    for (const t of this.topics.values()) {
      t.undeliveredBacklog += t.backlog.clear();
    }
    this.closed = true;
    if (this.failures.length > 0) throw this.failures[0]!;
  }

  stats(): TransportStats {
    const topics: Record<string, TopicStats> = {};
    for (const t of this.topics.values()) {
      const groups: Record<string, GroupStats> = {};
      let delivered = 0;
      let errors = 0;
      let undelivered = t.undeliveredBacklog;
      for (const g of t.groups.values()) {
        groups[g.name] = {
          subscribers: g.subs.size,
          delivered: g.delivered,
          queued: g.queue.queued,
          errors: g.errors,
          undelivered: g.undelivered,
          failed: g.state === 'failed',
        };
        delivered += g.delivered;
        errors += g.errors;
        undelivered += g.undelivered;
      }
      topics[t.name] = {
        published: t.published,
        delivered,
        queued: t.queued(),
        maxQueued: t.highWater,
        blockedPublishes: t.blockedPublishes,
        errors,
        undelivered,
        groups,
      };
    }
    return { transport: this.name, closed: this.closed, topics };
  }
}

class EmbeddedSubscription implements Subscription {
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (e: Error) => void;
  private stopRequested = false;
  private loop: Promise<void> | null = null;
  private readonly maxAttempts: number;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(
    private readonly transport: EmbeddedTransport,
    private readonly t: Topic,
    private readonly g: Group,
    private readonly maxBatch: number,
    private readonly opts: SubscribeOptions,
    private readonly handler: BatchHandler<Batch>,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => undefined); // failures surface via close() too; never "unhandled"
    this.maxAttempts = Math.max(1, opts.retry?.maxAttempts ?? EMBEDDED_DEFAULTS.retry.maxAttempts);
    this.initialDelayMs = Math.max(0, opts.retry?.initialDelayMs ?? EMBEDDED_DEFAULTS.retry.initialDelayMs);
    this.maxDelayMs = Math.max(this.initialDelayMs, opts.retry?.maxDelayMs ?? EMBEDDED_DEFAULTS.retry.maxDelayMs);
  }

  get topic(): string {
    return this.t.name;
  }

  get group(): string {
    return this.g.name;
  }

  start(): void {
    this.loop = this.run();
  }

  requestStop(): void {
    this.stopRequested = true;
    this.g.wake();
  }

  async close(): Promise<void> {
    this.requestStop();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { t, g } = this;
    let failure: SubscriptionFailedError | null = null;
    try {
      for (;;) {
        if (this.stopRequested || g.state !== 'active') break;
        const batch = g.queue.take(this.maxBatch);
        if (batch === null) {
          if (this.transport.isClosing && t.waiters.length === 0) break;
          await g.waitForData();
          continue;
        }
        const err = await this.deliver(batch);
        if (err) {
          failure = new SubscriptionFailedError(t.name, g.name, this.maxAttempts, g.queue.queued, err);
          break;
        }
        this.transport.committed(t, g, batch.length);
      }
    } catch (e) {
      // A bug here (not in the handler) must still end the subscription visibly.
      failure = new SubscriptionFailedError(t.name, g.name, 0, g.queue.queued, e);
    }
    this.transport.detached(t, g, this, failure);
    if (failure) this.rejectDone(failure);
    else this.resolveDone();
  }

  /** Run the handler with bounded retries; returns the last error if every attempt failed. */
  private async deliver(batch: Batch): Promise<unknown> {
    let delay = this.initialDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.handler(batch);
        return null;
      } catch (e) {
        this.g.errors++;
        const final = attempt >= this.maxAttempts;
        if (this.opts.onError) {
          try {
            this.opts.onError(new HandlerError(this.t.name, this.g.name, attempt, batch.length, e), {
              topic: this.t.name,
              group: this.g.name,
              attempt,
              batchSize: batch.length,
              final,
            });
          } catch {
            // onError must not throw; if it does, it must not break delivery either.
          }
        }
        if (final) return e ?? new Error('handler rejected with no reason');
        if (delay > 0) await sleep(delay);
        delay = Math.min(delay * 2, this.maxDelayMs);
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
